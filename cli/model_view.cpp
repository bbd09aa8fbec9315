// This file implements model_json/model_text: the views shared by `inspect`
// and `scan`. Large metadata values are summarized in text, never in JSON.
#include "cli/model_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "cli/cli.h"

namespace pedigree::cli {
namespace {

std::string layout_name(TensorLayout l) {
  switch (l) {
    case TensorLayout::kRaw: return "raw";
    case TensorLayout::kByteSwap: return "byteswap";
    case TensorLayout::kStrided: return "strided";
    case TensorLayout::kInline: return "inline";
    case TensorLayout::kZipEntry: return "zip-entry";
  }
  return "?";
}

std::string shape_text(const std::vector<uint64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

std::string short_value(const nlohmann::json& v) {
  if (v.is_array() && v.size() > 8) return fmt::format("[{} items]", v.size());
  if (v.is_object() && v.size() > 8) return fmt::format("{{{} keys}}", v.size());
  std::string s = v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > 96) s = s.substr(0, 93) + "...";
  return s;
}

// Flattens nested objects into "a.b.c = value" lines (arrays and leaves summarized).
void flatten(const nlohmann::json& j, const std::string& prefix, int depth, std::vector<std::string>* out) {
  if (j.is_object() && depth < 4 && j.size() <= 512) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, depth + 1, out);
    return;
  }
  out->push_back(fmt::format("    {} = {}", prefix, short_value(j)));
}

}  // namespace

std::string dtype_summary(const ModelTotals& t) {
  std::vector<std::pair<std::string, DTypeTotals>> v(t.by_dtype.begin(), t.by_dtype.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second.bytes != b.second.bytes ? a.second.bytes > b.second.bytes : a.first < b.first;
  });
  std::string out;
  for (const auto& [name, d] : v)
    out += fmt::format("{}{} {} tensor{} {}", out.empty() ? "" : ", ", name, d.tensors, d.tensors == 1 ? "" : "s",
                       human_bytes(d.bytes));
  return out.empty() ? "none" : out;
}

nlohmann::json findings_json(const ModelArtifact& art) {
  nlohmann::json a = nlohmann::json::array();
  for (const Finding& f : art.findings) {
    nlohmann::json j = {{"id", f.id}, {"severity", f.severity}, {"path", f.path}, {"message", f.message}};
    if (f.offset) j["offset"] = *f.offset;
    a.push_back(j);
  }
  return a;
}

nlohmann::json model_json(const ModelArtifact& art, const TensorIndex& idx, bool with_tensors) {
  ModelTotals t = summarize(idx);
  nlohmann::json files = nlohmann::json::array();
  for (const ArtifactFile& f : art.files)
    files.push_back({{"name", f.name}, {"path", f.path}, {"bytes", f.size}, {"format", f.format}});
  nlohmann::json by_dtype = nlohmann::json::object();
  for (const auto& [name, d] : t.by_dtype)
    by_dtype[name] = {{"tensors", d.tensors}, {"elements", d.elements}, {"bytes", d.bytes}};
  nlohmann::json j = {{"path", art.root},
                      {"format", art.format},
                      {"files", files},
                      {"metadata", art.metadata},
                      {"totals", {{"tensors", t.tensors}, {"parameters", t.parameters}, {"bytes", t.bytes},
                                  {"by_dtype", by_dtype}}},
                      {"findings", findings_json(art)}};
  if (with_tensors) {
    nlohmann::json ts = nlohmann::json::array();
    for (const TensorInfo& x : idx.tensors) {
      nlohmann::json e = {{"name", x.name}, {"dtype", dtype_name(x.dtype)}, {"shape", x.shape},
                          {"file", art.files.size() > x.file ? art.files[x.file].name : ""},
                          {"offset", x.offset}, {"bytes", x.length}, {"layout", layout_name(x.layout)}};
      if (x.layout == TensorLayout::kStrided) {
        e["storage"] = x.storage;
        e["storage_offset"] = x.storage_offset;
        e["strides"] = x.strides;
      }
      ts.push_back(e);
    }
    j["tensors"] = ts;
  }
  return j;
}

std::string findings_text(const ModelArtifact& art) { return findings_text(art.findings); }

std::string findings_text(const std::vector<Finding>& findings) {
  std::string out;
  for (const Finding& f : findings) {
    Error e{f.path, f.offset, f.message};
    out += fmt::format("  {:<7} {:<24} {}\n", f.severity, f.id, e.str());
  }
  return out;
}

std::string model_text(const ModelArtifact& art, const TensorIndex& idx, size_t max_tensors) {
  ModelTotals t = summarize(idx);
  uint64_t file_bytes = 0;
  for (const ArtifactFile& f : art.files) file_bytes += f.size;
  std::string out = fmt::format("{}\n  format      {}\n  files       {} ({})\n", art.root, art.format, art.files.size(),
                                human_bytes(file_bytes));
  out += fmt::format("  tensors     {}, {} parameters, {}\n", group_digits(t.tensors), group_digits(t.parameters),
                     human_bytes(t.bytes));
  out += fmt::format("  dtypes      {}\n", dtype_summary(t));
  std::vector<std::string> meta;
  flatten(art.metadata, "", 0, &meta);
  out += "metadata\n";
  for (const std::string& m : meta) out += m + "\n";
  out += "findings\n" + (art.findings.empty() ? std::string("  none\n") : findings_text(art));
  out += "tensors\n";
  size_t shown = max_tensors ? std::min(max_tensors, idx.tensors.size()) : idx.tensors.size();
  size_t w = 4;
  for (size_t i = 0; i < shown; ++i) w = std::max(w, idx.tensors[i].name.size());
  out += fmt::format("  {:<{}}  {:<8} {:<20} {:>12}\n", "NAME", w, "DTYPE", "SHAPE", "BYTES");
  for (size_t i = 0; i < shown; ++i) {
    const TensorInfo& x = idx.tensors[i];
    out += fmt::format("  {:<{}}  {:<8} {:<20} {:>12}\n", x.name, w, dtype_name(x.dtype), shape_text(x.shape),
                       group_digits(x.length));
  }
  if (shown < idx.tensors.size())
    out += fmt::format("  ... {} more (use --all-tensors or --json)\n", idx.tensors.size() - shown);
  return out;
}

}  // namespace pedigree::cli
