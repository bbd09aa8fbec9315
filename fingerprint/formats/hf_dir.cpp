// This file implements the Hugging Face style directory reader: it walks the
// directory, reads every weight file through the format readers (the most
// preferred format's tensors form the TensorIndex; other formats are still
// read for their findings), and keeps config, tokenizer and README front
// matter as metadata for the AI-BOM.
#include "fingerprint/formats/hf_dir.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <yaml-cpp/yaml.h>

#include "fingerprint/formats/limits.h"
#include "fingerprint/fs_util.h"
#include "fingerprint/formats/reader.h"

namespace pedigree {
namespace {
namespace fs = std::filesystem;

constexpr uint64_t kMaxDirEntries = 100000;        // files walked in one model directory
constexpr uint64_t kMaxDepth = 16;                 // directory nesting walked
constexpr uint64_t kMaxConfigBytes = 16 << 20;     // config.json and friends
constexpr uint64_t kMaxTokenizerBytes = 256 << 20; // tokenizer.json
constexpr uint64_t kMaxReadmeBytes = 4 << 20;      // README.md

// Weight formats from most to least preferred as the model's tensors.
const std::vector<std::string> kPreference = {"safetensors", "gguf", "pytorch", "onnx", "npz", "npy", "pickle"};

const std::set<std::string> kConfigFiles = {"config.json", "generation_config.json", "tokenizer_config.json",
                                            "special_tokens_map.json", "preprocessor_config.json",
                                            "adapter_config.json"};

struct DirFile {
  std::string rel;
  std::string path;
};

bool walk(const std::string& dir, const std::string& rel, uint64_t depth, std::vector<DirFile>* out, Error* err) {
  if (depth > kMaxDepth) return fail(err, dir, std::nullopt, "directory nesting exceeds " + std::to_string(kMaxDepth));
  std::vector<std::string> names;
  if (!list_directory_sorted(dir, &names, err)) return false;
  for (const std::string& n : names) {
    if (n == ".git" || n == ".github" || n == ".cache") continue;
    std::string p = dir + "/" + n, r = rel.empty() ? n : rel + "/" + n;
    struct stat lst {}, st {};
    if (::lstat(p.c_str(), &lst) != 0) continue;
    if (S_ISDIR(lst.st_mode)) {
      if (!walk(p, r, depth + 1, out, err)) return false;
      continue;
    }
    // Symlinked files are followed (Hugging Face caches link snapshots to
    // blobs); symlinked directories are not, so loops cannot occur.
    if (S_ISLNK(lst.st_mode) && (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode))) continue;
    if (!S_ISLNK(lst.st_mode) && !S_ISREG(lst.st_mode)) continue;
    if (out->size() >= kMaxDirEntries)
      return fail(err, dir, std::nullopt, "more than " + std::to_string(kMaxDirEntries) + " files in model directory");
    out->push_back({r, p});
  }
  return true;
}

bool ends_with(const std::string& s, std::string_view suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string base_name(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

bool read_json_file(const std::string& path, uint64_t cap, nlohmann::json* out, Error* err) {
  auto f = MappedFile::open(path, err);
  if (!f) return false;
  if (f->size() > cap)
    return fail(err, path, std::nullopt, "file of " + human_bytes(f->size()) + " exceeds limit " + human_bytes(cap));
  *out = nlohmann::json::parse(f->view(), nullptr, false);
  if (out->is_discarded()) return fail(err, path, std::nullopt, "is not valid JSON");
  return true;
}

nlohmann::json yaml_to_json(const YAML::Node& n, int depth) {
  if (depth > static_cast<int>(limits::kMaxNesting)) return nullptr;
  switch (n.Type()) {
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& x : n) a.push_back(yaml_to_json(x, depth + 1));
      return a;
    }
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = yaml_to_json(kv.second, depth + 1);
      return o;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted scalar: keep as string
      if (s == "true" || s == "false") return s == "true";
      char* end = nullptr;
      long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && *end == '\0') return i;
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && *end == '\0') return d;
      return s;
    }
    default:
      return nullptr;
  }
}

// README.md: YAML front matter between leading "---" lines, plus the card text size.
void read_readme(const std::string& path, ModelArtifact* art, nlohmann::json* hf) {
  Error e;
  auto f = MappedFile::open(path, &e);
  if (!f || f->size() > kMaxReadmeBytes) return;
  std::string text(f->view());
  nlohmann::json card = {{"bytes", text.size()}};
  if (text.rfind("---", 0) == 0) {
    size_t end = text.find("\n---", 3);
    if (end != std::string::npos) {
      try {
        YAML::Node node = YAML::Load(text.substr(3, end - 3));
        card["front_matter"] = yaml_to_json(node, 0);
      } catch (const std::exception& ex) {
        art->findings.push_back({"readme-front-matter-invalid", "warning", path, std::nullopt,
                                 std::string("README.md front matter is not valid YAML: ") + ex.what()});
      }
      card["body_bytes"] = text.size() - std::min(text.size(), end + 4);
    }
  }
  (*hf)["readme"] = card;
}

// tokenizer.json is large: keep its model type, vocabulary size and added tokens count.
void read_tokenizer(const std::string& path, ModelArtifact* art, nlohmann::json* hf) {
  nlohmann::json j;
  Error e;
  if (!read_json_file(path, kMaxTokenizerBytes, &j, &e)) {
    art->findings.push_back({"tokenizer-unreadable", "warning", path, std::nullopt, e.message});
    return;
  }
  nlohmann::json s = nlohmann::json::object();
  if (j.contains("model") && j["model"].is_object()) {
    const auto& m = j["model"];
    if (m.contains("type")) s["model_type"] = m["type"];
    if (m.contains("vocab") && (m["vocab"].is_object() || m["vocab"].is_array())) s["vocab_size"] = m["vocab"].size();
    if (m.contains("merges") && m["merges"].is_array()) s["merges"] = m["merges"].size();
  }
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) s["added_tokens"] = j["added_tokens"].size();
  (*hf)["tokenizer"] = s;
}

struct WeightFile {
  DirFile file;
  const FormatReader* reader;
};

// Shard files named by *.safetensors.index.json files are read through the index.
std::set<std::string> files_covered_by_indexes(const std::vector<DirFile>& files) {
  std::set<std::string> covered;
  for (const DirFile& f : files) {
    if (!ends_with(f.rel, ".safetensors.index.json")) continue;
    nlohmann::json j;
    Error e;
    if (!read_json_file(f.path, limits::kMaxHeaderBytes, &j, &e) || !j.contains("weight_map") ||
        !j["weight_map"].is_object())
      continue;
    std::string dir = f.rel.find('/') == std::string::npos ? "" : f.rel.substr(0, f.rel.rfind('/') + 1);
    for (const auto& [k, v] : j["weight_map"].items())
      if (v.is_string()) covered.insert(dir + v.get<std::string>());
  }
  return covered;
}

bool classify(const std::vector<DirFile>& files, std::map<std::string, std::vector<WeightFile>>* sets, Error* err) {
  std::set<std::string> covered = files_covered_by_indexes(files);
  for (const DirFile& f : files) {
    std::string base = base_name(f.rel);
    if (covered.count(f.rel) || kConfigFiles.count(base) || base == "tokenizer.json") continue;
    Error e;
    auto mf = MappedFile::open(f.path, &e);
    if (!mf) return fail(err, f.path, std::nullopt, e.message);
    const FormatReader* r = detect_reader(mf->view().substr(0, 4096), f.path);
    if (!r) continue;
    std::string fmt(r->name());
    // A JSON file only counts as weights when it is a safetensors index.
    if (fmt == "safetensors" && ends_with(f.rel, ".json") && !ends_with(f.rel, ".safetensors.index.json")) continue;
    (*sets)[fmt].push_back({f, r});
  }
  return true;
}

bool read_weight_set(const std::vector<WeightFile>& set, ModelArtifact* art, TensorIndex* idx, Error* err) {
  std::map<std::string, std::string> seen;  // tensor name -> file
  for (const WeightFile& w : set) {
    auto mf = MappedFile::open(w.file.path, err);
    if (!mf) return false;
    size_t before = idx->tensors.size();
    if (!w.reader->read(*mf, art, idx, err)) return false;
    for (size_t i = before; i < idx->tensors.size(); ++i) {
      auto [it, fresh] = seen.emplace(idx->tensors[i].name, w.file.rel);
      if (!fresh)
        return fail(err, w.file.path, std::nullopt,
                    "tensor '" + idx->tensors[i].name + "' also appears in " + it->second +
                        "; these look like separate models: point pedigree at one file");
    }
  }
  return true;
}

}  // namespace

bool read_model_directory(const std::string& dir, ModelArtifact* art, TensorIndex* idx, Error* err) {
  std::vector<DirFile> files;
  if (!walk(dir, "", 0, &files, err)) return false;
  std::map<std::string, std::vector<WeightFile>> sets;
  if (!classify(files, &sets, err)) return false;
  art->format = "hf-directory";
  nlohmann::json hf = nlohmann::json::object();
  std::string primary;
  for (const std::string& fmt : kPreference)
    if (sets.count(fmt)) {
      primary = fmt;
      break;
    }
  nlohmann::json weight_sets = nlohmann::json::array();
  for (const std::string& fmt : kPreference) {
    if (!sets.count(fmt)) continue;
    TensorIndex scratch;
    TensorIndex* target = fmt == primary ? idx : &scratch;
    if (!read_weight_set(sets[fmt], art, target, err)) return false;
    nlohmann::json names = nlohmann::json::array();
    for (const WeightFile& w : sets[fmt]) names.push_back(w.file.rel);
    weight_sets.push_back({{"format", fmt}, {"files", names}, {"tensors", target->tensors.size()},
                           {"primary", fmt == primary}});
  }
  if (primary.empty())
    art->findings.push_back({"no-weights", "warning", dir, std::nullopt, "no weight files found in the directory"});
  hf["weight_sets"] = weight_sets;
  hf["primary_format"] = primary;
  std::set<std::string> registered;
  for (const ArtifactFile& f : art->files) registered.insert(f.name);
  for (const DirFile& f : files) {
    std::string base = base_name(f.rel);
    if (kConfigFiles.count(base) && f.rel == base) {
      nlohmann::json j;
      Error e;
      if (read_json_file(f.path, kMaxConfigBytes, &j, &e)) hf[base.substr(0, base.size() - 5)] = j;
      else art->findings.push_back({"config-unreadable", "warning", f.path, std::nullopt, e.message});
    } else if (f.rel == "tokenizer.json") {
      read_tokenizer(f.path, art, &hf);
    } else if (f.rel == "README.md") {
      read_readme(f.path, art, &hf);
    }
    if (!registered.count(f.rel)) {
      struct stat st {};
      ::stat(f.path.c_str(), &st);
      art->files.push_back({f.path, f.rel, static_cast<uint64_t>(st.st_size), ""});
    }
  }
  art->metadata["hf"] = hf;
  return true;
}

}  // namespace pedigree
