// This file implements the inventory rows' JSON form, the JSON and CSV
// reports and the fleet CycloneDX BOM (sbom/inventory.h). The HTML page is in
// sbom/inventory_html.cpp.
#include "sbom/inventory.h"

#include <algorithm>
#include <map>
#include <set>

#include "fingerprint/digest.h"
#include "sbom/bom.h"

namespace pedigree {
namespace {
using json = nlohmann::json;

bool get_str(const json& j, const char* key, std::string* out, Error* err) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fail(err, "", std::nullopt, std::string("row: '") + key + "' is not a string");
  *out = it->get<std::string>();
  return true;
}

bool get_u64(const json& j, const char* key, uint64_t* out, Error* err) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned())
    return fail(err, "", std::nullopt, std::string("row: '") + key + "' is not a non-negative integer");
  *out = it->get<uint64_t>();
  return true;
}

bool get_array(const json& j, const char* key, const json** out, Error* err) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return fail(err, "", std::nullopt, std::string("row: '") + key + "' is not an array");
  *out = &*it;
  return true;
}

bool findings_from_json(const json& a, std::vector<InventoryFinding>* out, Error* err) {
  for (const json& f : a) {
    InventoryFinding x;
    if (!f.is_object() || !get_str(f, "id", &x.id, err) || !get_str(f, "severity", &x.severity, err) ||
        !get_str(f, "message", &x.message, err))
      return fail(err, "", std::nullopt, "row: a finding is not {id, severity, message}");
    out->push_back(std::move(x));
  }
  return true;
}

bool checks_from_json(const json& a, std::vector<InventoryCheck>* out, Error* err) {
  for (const json& c : a) {
    InventoryCheck x;
    if (!c.is_object() || !get_str(c, "name", &x.name, err) || !get_str(c, "status", &x.status, err))
      return fail(err, "", std::nullopt, "row: a check is not {name, status, detail}");
    if (c.contains("detail") && !get_str(c, "detail", &x.detail, err)) return false;  // rows from before 'detail'
    out->push_back(std::move(x));
  }
  return true;
}

std::string csv_field(std::string s) {
  if (!s.empty() && std::string_view("=+-@\t\r").find(s[0]) != std::string_view::npos) s.insert(0, 1, '\'');
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Finding ids of a row, each once, sorted.
std::vector<std::string> finding_ids(const InventoryRow& r) {
  std::set<std::string> ids;
  for (const InventoryFinding& f : r.findings) ids.insert(f.id);
  return {ids.begin(), ids.end()};
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

json props_json(const std::vector<std::pair<std::string, std::string>>& p) {
  json a = json::array();
  for (const auto& [k, v] : p)
    if (!v.empty()) a.push_back({{"name", k}, {"value", v}});
  return a;
}

std::string subject_ref(const InventoryRow& r) { return "pedigree:subject:" + r.id; }

json fleet_component(const InventoryRow& r) {
  std::vector<std::pair<std::string, std::string>> p = {
      {"pedigree:subject", r.subject},         {"pedigree:kind", r.kind},
      {"pedigree:endpoint-model", r.model},    {"pedigree:format", r.format},
      {"pedigree:verdict", r.verdict},         {"pedigree:error", r.error},
      {"pedigree:manifest-root", r.manifest_root}, {"pedigree:tensor-named-root", r.tensor_named_root},
      {"pedigree:tensor-content-root", r.tensor_content_root}};
  if (r.verdict != "error" && r.kind != "endpoint") {  // an endpoint's size is not known, not zero
    p.emplace_back("pedigree:parameters", std::to_string(r.parameters));
    p.emplace_back("pedigree:files", std::to_string(r.files));
    p.emplace_back("pedigree:bytes", std::to_string(r.bytes));
  }
  for (const InventoryFinding& f : r.findings) p.emplace_back("pedigree:finding:" + f.id, f.severity + ": " + f.message);
  for (const InventoryCheck& c : r.checks)
    p.emplace_back("pedigree:check:" + c.name, c.detail.empty() ? c.status : c.status + ": " + c.detail);
  p.emplace_back("pedigree:bom", r.bom);
  p.emplace_back("pedigree:scanned-at", r.scanned_at);
  std::string card = r.bom.empty() ? "no AI-BOM of this model was written by the audit"
                                   : "the model card is in the model's own AI-BOM: " + r.bom;
  json c = {{"type", "machine-learning-model"},
            {"bom-ref", subject_ref(r)},
            {"name", r.kind == "endpoint" ? r.model + " at " + r.subject : r.subject},
            {"modelCard", {{"properties", json::array({{{"name", "pedigree:model-card"}, {"value", card}}})}}},
            {"properties", props_json(p)}};
  if (r.hashes.is_array() && !r.hashes.empty()) c["hashes"] = r.hashes;
  return c;
}

// "urn:uuid:" of an RFC 9562 version 8 UUID made from the SHA-256 of `content`.
std::string content_serial(const std::string& content) {
  std::vector<uint8_t> d = digest_bytes(HashAlgorithm::kSha256, content);
  d[6] = static_cast<uint8_t>((d[6] & 0x0f) | 0x80);
  d[8] = static_cast<uint8_t>((d[8] & 0x3f) | 0x80);
  std::string h = to_hex(d.data(), 16);
  return "urn:uuid:" + h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20, 12);
}

}  // namespace

json row_to_json(const InventoryRow& r) {
  json findings = json::array(), checks = json::array();
  for (const InventoryFinding& f : r.findings)
    findings.push_back({{"id", f.id}, {"severity", f.severity}, {"message", f.message}});
  for (const InventoryCheck& c : r.checks)
    checks.push_back({{"name", c.name}, {"status", c.status}, {"detail", c.detail}});
  return {{"id", r.id},
          {"subject", r.subject},
          {"kind", r.kind},
          {"model", r.model},
          {"verdict", r.verdict},
          {"format", r.format},
          {"error", r.error},
          {"findings", findings},
          {"checks", checks},
          {"manifest_root", r.manifest_root},
          {"tensor_named_root", r.tensor_named_root},
          {"tensor_content_root", r.tensor_content_root},
          {"parameters", r.parameters},
          {"files", r.files},
          {"bytes", r.bytes},
          {"hashes", r.hashes.is_array() ? r.hashes : json::array()},
          {"bom", r.bom},
          {"scanned_at", r.scanned_at}};
}

bool row_from_json(const json& j, InventoryRow* r, Error* err) {
  if (!j.is_object()) return fail(err, "", std::nullopt, "row: not a JSON object");
  const json *findings = nullptr, *checks = nullptr, *hashes = nullptr;
  for (auto [key, dst] : {std::pair{"id", &r->id}, {"subject", &r->subject}, {"kind", &r->kind}, {"model", &r->model},
                          {"verdict", &r->verdict}, {"format", &r->format}, {"error", &r->error},
                          {"manifest_root", &r->manifest_root}, {"tensor_named_root", &r->tensor_named_root},
                          {"tensor_content_root", &r->tensor_content_root}, {"bom", &r->bom},
                          {"scanned_at", &r->scanned_at}})
    if (!get_str(j, key, dst, err)) return false;
  if (!get_u64(j, "parameters", &r->parameters, err) || !get_u64(j, "files", &r->files, err) ||
      !get_u64(j, "bytes", &r->bytes, err))
    return false;
  if (!get_array(j, "findings", &findings, err) || !get_array(j, "checks", &checks, err) ||
      !get_array(j, "hashes", &hashes, err))
    return false;
  r->hashes = *hashes;
  return findings_from_json(*findings, &r->findings, err) && checks_from_json(*checks, &r->checks, err);
}

void sort_rows(std::vector<InventoryRow>* rows) {
  std::sort(rows->begin(), rows->end(), [](const InventoryRow& a, const InventoryRow& b) {
    return std::tie(a.subject, a.model, a.id) < std::tie(b.subject, b.model, b.id);
  });
}

json inventory_json(const std::vector<InventoryRow>& rows, const InventoryMeta& meta) {
  std::map<std::string, uint64_t> verdicts = {{"pass", 0}, {"flagged", 0}, {"error", 0}}, formats;
  std::map<std::string, json> findings;
  json subjects = json::array();
  for (const InventoryRow& r : rows) {
    ++verdicts[r.verdict];
    if (!r.format.empty()) ++formats[r.format];
    for (const InventoryFinding& f : r.findings) {
      json& s = findings[f.id];
      if (s.is_null()) s = {{"findings", 0}, {"models", 0}, {"severity", f.severity}};
      s["findings"] = s["findings"].get<uint64_t>() + 1;
      if (f.severity == "error" || (f.severity == "warning" && s["severity"] == "info")) s["severity"] = f.severity;
    }
    for (const std::string& id : finding_ids(r)) findings[id]["models"] = findings[id]["models"].get<uint64_t>() + 1;
    subjects.push_back(row_to_json(r));
  }
  json summary = {{"subjects", rows.size()}};
  for (const auto& [k, v] : verdicts) summary[k] = v;
  return {{"generated_at", meta.generated_at},
          {"tool", {{"name", "pedigree"}, {"version", meta.tool_version}}},
          {"inputs", meta.inputs},
          {"summary", summary},
          {"formats", formats},
          {"findings", findings},
          {"subjects", subjects}};
}

std::string inventory_csv(const std::vector<InventoryRow>& rows) {
  std::string out =
      "subject,kind,model,verdict,format,parameters,files,bytes,findings,finding_ids,manifest_root,"
      "tensor_named_root,tensor_content_root,bom,error,scanned_at\r\n";
  for (const InventoryRow& r : rows) {
    auto size = [&](uint64_t v) { return r.kind == "endpoint" ? std::string() : std::to_string(v); };  // unknown
    std::vector<std::string> f = {r.subject, r.kind, r.model, r.verdict, r.format, size(r.parameters),
                                  size(r.files), size(r.bytes), std::to_string(r.findings.size()),
                                  join(finding_ids(r), ";"), r.manifest_root, r.tensor_named_root,
                                  r.tensor_content_root, r.bom, r.error, r.scanned_at};
    for (size_t i = 0; i < f.size(); ++i) out += (i ? "," : "") + csv_field(f[i]);
    out += "\r\n";
  }
  return out;
}

bool fleet_bom(const std::vector<InventoryRow>& rows, const FleetBomOptions& opts, json* out, Error* err) {
  std::string stamp;
  if (!iso8601_utc(opts.timestamp, &stamp))
    return fail(err, "", std::nullopt, "timestamp " + std::to_string(opts.timestamp) + " is outside years 1970-9999");
  std::map<std::string, uint64_t> verdicts = {{"pass", 0}, {"flagged", 0}, {"error", 0}};
  json components = json::array(), refs = json::array();
  std::set<std::string> seen;
  for (const InventoryRow& r : rows) {
    if (!seen.insert(r.id).second) return fail(err, "", std::nullopt, "subject " + r.id + " appears twice");
    ++verdicts[r.verdict];
    components.push_back(fleet_component(r));
    refs.push_back(subject_ref(r));
  }
  std::vector<std::pair<std::string, std::string>> p = {{"pedigree:audit:subjects", std::to_string(rows.size())}};
  for (const auto& [k, v] : verdicts) p.emplace_back("pedigree:audit:" + k, std::to_string(v));
  json fleet = {{"type", "application"}, {"bom-ref", "pedigree:fleet"}, {"name", opts.name}, {"properties", props_json(p)}};
  json tool = {{"type", "application"}, {"bom-ref", "pedigree:tool"}, {"name", "pedigree"}, {"version", opts.tool_version}};
  json deps = json::array({{{"ref", "pedigree:fleet"}, {"dependsOn", refs}}});
  std::string serial =
      content_serial(stamp + "\n" + opts.name + "\n" + components.dump(-1, ' ', false, json::error_handler_t::replace));
  *out = {{"bomFormat", "CycloneDX"},
          {"specVersion", "1.6"},
          {"serialNumber", serial},
          {"version", 1},
          {"metadata", {{"timestamp", stamp}, {"tools", {{"components", json::array({tool})}}}, {"component", fleet}}},
          {"components", components},
          {"dependencies", deps}};
  return true;
}

std::string bom_file_name(const InventoryRow& r) {
  std::string tail = r.kind == "endpoint" ? r.model : r.subject;
  while (!tail.empty() && tail.back() == '/') tail.pop_back();
  size_t slash = tail.rfind('/');
  if (slash != std::string::npos) tail = tail.substr(slash + 1);
  std::string safe;
  for (char c : tail.substr(0, 64))
    safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  std::vector<uint8_t> d = digest_bytes(HashAlgorithm::kSha256, r.id);
  return (safe.empty() ? "model" : safe) + "-" + to_hex(d.data(), 6) + ".cdx.json";
}

}  // namespace pedigree
