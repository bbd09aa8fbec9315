// This file implements the CycloneDX AI-BOM generator (see bom.h and
// docs/bom.md): identity, hashes, licences, external references, pedigree,
// model card and pedigree:* properties, each taken from what the files say,
// then sorted so that the same inputs always give the same bytes.
#include "sbom/bom.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "fingerprint/digest.h"
#include "fingerprint/summary.h"
#include "sbom/spdx_ids.h"

namespace pedigree {
namespace {
using json = nlohmann::json;

// --- Safe access to reader metadata (any JSON shape, never throws) ----------

const json* member(const json* o, const char* key) {
  if (!o || !o->is_object()) return nullptr;
  auto it = o->find(key);
  return it == o->end() ? nullptr : &*it;
}

std::string text(const json* o, const char* key) {
  const json* v = member(o, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// A string or a list of strings (Hugging Face front matter allows both).
std::vector<std::string> strings(const json* v) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string() && !v->get<std::string>().empty()) out.push_back(v->get<std::string>());
  if (v->is_array())
    for (const json& x : *v)
      if (x.is_string() && !x.get<std::string>().empty()) out.push_back(x.get<std::string>());
  return out;
}

// A JSON scalar as property text ("" for objects, arrays and null).
std::string scalar_text(const json* v) {
  if (!v || v->is_null() || v->is_object() || v->is_array()) return "";
  if (v->is_string()) return v->get<std::string>();
  return v->dump(-1, ' ', false, json::error_handler_t::replace);
}

struct Sources {
  const json* hf = nullptr;       // art.metadata["hf"]
  const json* card = nullptr;     // README front matter
  const json* config = nullptr;   // config.json
  const json* gguf = nullptr;     // GGUF key/values
  const json* onnx = nullptr;     // ONNX model metadata
};

Sources sources(const ModelArtifact& art) {
  Sources s;
  s.hf = member(&art.metadata, "hf");
  s.card = member(member(s.hf, "readme"), "front_matter");
  s.config = member(s.hf, "config");
  s.gguf = member(member(&art.metadata, "gguf"), "kv");
  s.onnx = member(&art.metadata, "onnx");
  return s;
}

// --- Identity ---------------------------------------------------------------

struct HfRepo {
  std::string org, name, rev;
};

bool repo_segment(std::string_view s) {
  if (s.empty() || s.size() > 96 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

// ".../models--ORG--NAME/snapshots/REV[/...]": the Hugging Face cache layout.
std::optional<HfRepo> hf_cache_repo(const std::string& path) {
  std::vector<std::string> parts = split(path, '/');
  for (size_t i = 0; i + 2 < parts.size(); ++i) {
    if (parts[i].rfind("models--", 0) != 0 || parts[i + 1] != "snapshots") continue;
    std::string rest = parts[i].substr(8);
    size_t sep = rest.find("--");
    if (sep == std::string::npos) continue;
    HfRepo r{rest.substr(0, sep), rest.substr(sep + 2), parts[i + 2]};
    if (repo_segment(r.org) && repo_segment(r.name) && repo_segment(r.rev)) return r;
  }
  return std::nullopt;
}

// "pkg:huggingface/ORG/NAME@REV" (qualifiers and subpath ignored).
std::optional<HfRepo> hf_purl_repo(std::string_view purl) {
  constexpr std::string_view kPrefix = "pkg:huggingface/";
  if (purl.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = purl.substr(kPrefix.size());
  rest = rest.substr(0, rest.find_first_of("?#"));
  HfRepo r;
  size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    r.rev = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
  }
  std::vector<std::string> seg = split(rest, '/');
  if (seg.size() != 2 || !repo_segment(seg[0]) || !repo_segment(seg[1])) return std::nullopt;
  r.org = seg[0];
  r.name = seg[1];
  return r;
}

std::string hf_purl(const HfRepo& r) {
  std::string p = "pkg:huggingface/" + purl_encode(r.org) + "/" + purl_encode(r.name);
  return r.rev.empty() ? p : p + "@" + purl_encode(r.rev);
}

std::string hf_url(const HfRepo& r) { return "https://huggingface.co/" + r.org + "/" + r.name; }

std::string last_component(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

json ext_ref(const std::string& type, const std::string& url) { return {{"type", type}, {"url", url}}; }

// --- Licences ---------------------------------------------------------------

json license_entry(const std::string& s, const std::string& url) {
  json l = is_spdx_license_id(s) ? json{{"id", s}} : json{{"name", s}};
  if (!url.empty()) l["url"] = url;
  return {{"license", l}};
}

json licenses(const Sources& s) {
  std::set<std::string> seen;
  json out = json::array();
  auto add = [&](const std::string& id, const std::string& url) {
    json e = license_entry(id, url);
    if (seen.insert(e.dump()).second) out.push_back(e);
  };
  for (const std::string& l : strings(member(s.card, "license"))) {
    std::string name = text(s.card, "license_name");
    if (l == "other" && !name.empty()) add(name, text(s.card, "license_link"));
    else add(l, l == "other" ? text(s.card, "license_link") : "");
  }
  for (const std::string& l : strings(member(s.gguf, "general.license")))
    add(l, text(s.gguf, "general.license.link"));
  std::string gname = text(s.gguf, "general.license.name");
  if (!gname.empty()) add(gname, text(s.gguf, "general.license.link"));
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return out;
}

// --- Pedigree (base models) -------------------------------------------------

json hf_component(const HfRepo& r, const std::string& ref_prefix) {
  json c = {{"type", "machine-learning-model"}, {"group", r.org}, {"name", r.name}, {"purl", hf_purl(r)},
            {"externalReferences", json::array({ext_ref("model-card", hf_url(r))})}};
  if (!r.rev.empty()) c["version"] = r.rev;
  c["bom-ref"] = ref_prefix + hf_purl(r);
  return c;
}

// "org/name[@rev]", "https://huggingface.co/org/name[/tree/rev]", a purl or a plain name.
bool ancestor_from_ref(const std::string& ref, json* out, Error* err) {
  const std::string prefix = "pedigree:ancestor:";
  if (ref.empty()) return fail(err, "", std::nullopt, "base model reference is empty");
  if (auto r = hf_purl_repo(ref)) return *out = hf_component(*r, prefix), true;
  if (ref.rfind("pkg:", 0) == 0) {
    std::string base = ref.substr(0, ref.find_first_of("?#"));
    std::string name = last_component(base.substr(0, base.find('@')));
    *out = {{"type", "machine-learning-model"}, {"name", name}, {"purl", ref}, {"bom-ref", prefix + ref}};
    return true;
  }
  std::string id = ref;
  const std::string site = "https://huggingface.co/";
  if (id.rfind(site, 0) == 0) {
    std::vector<std::string> seg = split(id.substr(site.size()), '/');
    if (seg.size() >= 2) id = seg[0] + "/" + seg[1] + (seg.size() >= 4 && seg[2] == "tree" ? "@" + seg[3] : "");
  }
  HfRepo r;
  size_t at = id.find('@');
  std::vector<std::string> seg = split(id.substr(0, at), '/');
  if (at != std::string::npos) r.rev = id.substr(at + 1);
  if (seg.size() == 2 && repo_segment(seg[0]) && repo_segment(seg[1]) &&
      (at == std::string::npos || repo_segment(r.rev))) {
    r.org = seg[0];
    r.name = seg[1];
    *out = hf_component(r, prefix);
    return true;
  }
  *out = {{"type", "machine-learning-model"}, {"name", ref}, {"bom-ref", prefix + ref}};
  return true;
}

// general.base_model.N.{name,organization,version,repo_url} from GGUF.
std::vector<json> gguf_ancestors(const json* kv) {
  std::vector<json> out;
  const json* count = member(kv, "general.base_model.count");
  if (!count || !count->is_number_unsigned()) return out;
  uint64_t n = std::min<uint64_t>(count->get<uint64_t>(), 64);
  for (uint64_t i = 0; i < n; ++i) {
    std::string p = "general.base_model." + std::to_string(i) + ".";
    std::string name = text(kv, (p + "name").c_str()), org = text(kv, (p + "organization").c_str());
    std::string version = text(kv, (p + "version").c_str()), url = text(kv, (p + "repo_url").c_str());
    json c;
    Error ignored;
    if (url.rfind("https://huggingface.co/", 0) == 0 && ancestor_from_ref(url, &c, &ignored) &&
        c.contains("purl")) {
      out.push_back(c);
      continue;
    }
    if (name.empty()) continue;
    c = {{"type", "machine-learning-model"}, {"name", name}};
    if (!org.empty()) c["group"] = org;
    if (!version.empty()) c["version"] = version;
    if (!url.empty()) c["externalReferences"] = json::array({ext_ref("vcs", url)});
    c["bom-ref"] = "pedigree:ancestor:" + (org.empty() ? "" : org + "/") + name + (version.empty() ? "" : "@" + version);
    out.push_back(c);
  }
  return out;
}

bool ancestors(const Sources& s, const BomOptions& o, json* out, Error* err) {
  std::map<std::string, json> by_ref;
  for (const std::string& ref : o.base_models) {
    json c;
    Error e;
    if (!ancestor_from_ref(ref, &c, &e)) return fail(err, "", std::nullopt, "--base-model: " + e.message);
    by_ref.emplace(c["bom-ref"].get<std::string>(), c);
  }
  for (const std::string& ref : strings(member(s.card, "base_model"))) {
    json c;
    Error ignored;
    if (ancestor_from_ref(ref, &c, &ignored)) by_ref.emplace(c["bom-ref"].get<std::string>(), c);
  }
  for (json& c : gguf_ancestors(s.gguf)) by_ref.emplace(c["bom-ref"].get<std::string>(), c);
  *out = json::array();
  for (auto& [ref, c] : by_ref) out->push_back(c);
  return true;
}

// --- Datasets ---------------------------------------------------------------

json dataset_component(const std::string& name, const std::string& url) {
  json c = {{"type", "data"},
            {"bom-ref", "pedigree:dataset:" + name},
            {"name", name},
            {"data", json::array({{{"type", "dataset"}, {"name", name}}})}};
  if (!url.empty()) c["externalReferences"] = json::array({ext_ref("distribution", url)});
  return c;
}

std::vector<json> datasets(const Sources& s) {
  std::map<std::string, json> by_name;
  for (const std::string& n : strings(member(s.card, "datasets"))) by_name.emplace(n, dataset_component(n, ""));
  const json* count = member(s.gguf, "general.dataset.count");
  if (count && count->is_number_unsigned()) {
    uint64_t n = std::min<uint64_t>(count->get<uint64_t>(), 256);
    for (uint64_t i = 0; i < n; ++i) {
      std::string p = "general.dataset." + std::to_string(i) + ".";
      std::string name = text(s.gguf, (p + "name").c_str());
      if (!name.empty()) by_name.emplace(name, dataset_component(name, text(s.gguf, (p + "repo_url").c_str())));
    }
  }
  std::vector<json> out;
  for (auto& [n, c] : by_name) out.push_back(c);
  return out;
}

// --- Model card -------------------------------------------------------------

// Input and output modalities of Hugging Face pipeline tags whose task
// definition fixes them (huggingface.co/tasks); other tags give none.
const std::map<std::string, std::pair<std::string, std::string>>& task_io() {
  static const std::map<std::string, std::pair<std::string, std::string>> m = {
      {"text-generation", {"text", "text"}},       {"text2text-generation", {"text", "text"}},
      {"summarization", {"text", "text"}},         {"translation", {"text", "text"}},
      {"automatic-speech-recognition", {"audio", "text"}}, {"text-to-speech", {"text", "audio"}},
      {"text-to-image", {"text", "image"}},        {"image-to-text", {"image", "text"}},
  };
  return m;
}

std::string onnx_io_format(const json& v) {
  std::string s = text(&v, "name");
  const json* elem = member(&v, "elem_type");
  std::string type = elem ? scalar_text(elem) : text(&v, "type");
  if (!type.empty()) s += (s.empty() ? "" : ": ") + type;
  const json* shape = member(&v, "shape");
  if (shape && shape->is_array()) {
    std::string dims;
    for (const json& d : *shape) dims += (dims.empty() ? "" : ", ") + (d.is_null() ? std::string("?") : scalar_text(&d));
    s += " [" + dims + "]";
  }
  return s;
}

json io_list(const json* onnx, const char* key, const std::string& task_format) {
  json out = json::array();
  const json* list = member(onnx, key);
  if (list && list->is_array())
    for (const json& v : *list) out.push_back({{"format", onnx_io_format(v)}});
  if (out.empty() && !task_format.empty()) out.push_back({{"format", task_format}});
  return out;
}

json model_parameters(const Sources& s, const std::vector<json>& data) {
  json p = json::object();
  std::string task = text(s.card, "pipeline_tag");
  if (!task.empty()) p["task"] = task;
  std::string family = text(s.config, "model_type");
  if (family.empty()) family = text(s.gguf, "general.architecture");
  if (!family.empty()) p["architectureFamily"] = family;
  std::vector<std::string> arch = strings(member(s.config, "architectures"));
  if (!arch.empty()) p["modelArchitecture"] = arch[0];
  json refs = json::array();
  for (const json& d : data) refs.push_back({{"ref", d["bom-ref"]}});
  if (!refs.empty()) p["datasets"] = refs;
  auto io = task_io().find(task);
  json in = io_list(s.onnx, "inputs", io == task_io().end() ? "" : io->second.first);
  json out = io_list(s.onnx, "outputs", io == task_io().end() ? "" : io->second.second);
  if (!in.empty()) p["inputs"] = in;
  if (!out.empty()) p["outputs"] = out;
  return p;
}

// model-index: [{results: [{dataset: {name, split}, metrics: [{type, name, value}]}]}]
json performance_metrics(const Sources& s) {
  json out = json::array();
  const json* index = member(s.card, "model-index");
  if (!index || !index->is_array()) return out;
  for (const json& entry : *index) {
    const json* results = member(&entry, "results");
    if (!results || !results->is_array()) continue;
    for (const json& r : *results) {
      const json* ds = member(&r, "dataset");
      std::string slice = text(ds, "name");
      if (slice.empty()) slice = text(ds, "type");
      std::string split_name = text(ds, "split");
      if (!split_name.empty()) slice += (slice.empty() ? "" : " ") + std::string("(") + split_name + ")";
      const json* metrics = member(&r, "metrics");
      if (!metrics || !metrics->is_array()) continue;
      for (const json& m : *metrics) {
        std::string type = text(&m, "type"), value = scalar_text(member(&m, "value"));
        if (type.empty()) type = text(&m, "name");
        if (type.empty() || value.empty()) continue;
        json pm = {{"type", type}, {"value", value}};
        if (!slice.empty()) pm["slice"] = slice;
        out.push_back(pm);
      }
    }
  }
  return out;
}

json considerations(const Sources& s) {
  json c = json::object();
  const json* co2 = member(s.card, "co2_eq_emissions");
  json props = json::array();
  if (co2 && co2->is_object()) {
    for (const auto& [k, v] : co2->items())
      if (!scalar_text(&v).empty()) props.push_back({{"name", "co2_eq_emissions." + k}, {"value", scalar_text(&v)}});
  } else if (!scalar_text(co2).empty()) {
    props.push_back({{"name", "co2_eq_emissions"}, {"value", scalar_text(co2)}});
  }
  if (!props.empty()) c["environmentalConsiderations"] = {{"properties", props}};
  return c;
}

json model_card(const Sources& s, const std::vector<json>& data) {
  json card = json::object();
  json params = model_parameters(s, data);
  if (!params.empty()) card["modelParameters"] = params;
  json metrics = performance_metrics(s);
  if (!metrics.empty()) card["quantitativeAnalysis"] = {{"performanceMetrics", metrics}};
  json cons = considerations(s);
  if (!cons.empty()) card["considerations"] = cons;
  return card;
}

// --- Properties -------------------------------------------------------------

using Props = std::vector<std::pair<std::string, std::string>>;

// A finding's path, relative to the model so the BOM does not depend on where it was read.
std::string finding_where(const ModelArtifact& art, const Finding& f) {
  std::string where = f.path;
  for (const ArtifactFile& af : art.files)
    if (af.path == f.path) where = af.name == "." ? last_component(af.path) : af.name;
  if (where == f.path && where.rfind(art.root + "/", 0) == 0) where = where.substr(art.root.size() + 1);
  if (where == f.path) where = last_component(where);
  return where;
}

Props fingerprint_properties(const BomInputs& in, const Sources& s) {
  Props p;
  p.emplace_back("pedigree:format", in.art->format);
  if (!in.manifest_root.empty()) p.emplace_back("pedigree:manifest-root", "sha256:" + to_hex(in.manifest_root));
  ModelTotals t = summarize(*in.idx);
  p.emplace_back("pedigree:tensor-count", std::to_string(t.tensors));
  p.emplace_back("pedigree:parameters", std::to_string(t.parameters));
  for (const auto& [dtype, d] : t.by_dtype) p.emplace_back("pedigree:dtype:" + dtype, std::to_string(d.elements));
  if (in.fp && !in.fp->tensors.empty()) {
    p.emplace_back("pedigree:tensor-content-root", "sha256:" + to_hex(in.fp->content_root.data(), 32));
    p.emplace_back("pedigree:tensor-named-root", "sha256:" + to_hex(in.fp->named_root.data(), 32));
  }
  for (const Finding& f : in.art->findings) {
    Error e{finding_where(*in.art, f), f.offset, f.message};
    p.emplace_back("pedigree:finding:" + f.id, f.severity + ": " + e.str());
  }
  std::string relation = text(s.card, "base_model_relation");
  if (!relation.empty()) p.emplace_back("pedigree:base-model-relation", relation);
  std::string library = text(s.card, "library_name");
  if (!library.empty()) p.emplace_back("pedigree:hf:library-name", library);
  for (const std::string& l : strings(member(s.card, "language"))) p.emplace_back("pedigree:hf:language", l);
  std::vector<std::string> arch = strings(member(s.config, "architectures"));
  for (size_t i = 1; i < arch.size(); ++i) p.emplace_back("pedigree:hf:architecture", arch[i]);
  std::string ftype = scalar_text(member(s.gguf, "general.file_type"));
  if (!ftype.empty()) p.emplace_back("pedigree:gguf:file-type", ftype);
  return p;
}

json properties_json(Props p) {
  std::sort(p.begin(), p.end());
  p.erase(std::unique(p.begin(), p.end()), p.end());
  json out = json::array();
  for (auto& [n, v] : p) out.push_back({{"name", n}, {"value", v}});
  return out;
}

// --- Files ------------------------------------------------------------------

json hashes(const BomFile& f) {
  json h = json::array();
  if (!f.blake2b.empty()) h.push_back({{"alg", "BLAKE2b-512"}, {"content", to_hex(f.blake2b)}});
  if (!f.sha256.empty()) h.push_back({{"alg", "SHA-256"}, {"content", to_hex(f.sha256)}});
  return h;
}

bool is_config_file(const std::string& name) {
  static const std::set<std::string> kConfig = {
      "config.json", "generation_config.json", "tokenizer_config.json", "special_tokens_map.json",
      "preprocessor_config.json", "adapter_config.json", "tokenizer.json", "model.safetensors.index.json"};
  std::string base = last_component(name);
  return kConfig.count(base) || (base.size() > 19 && base.substr(base.size() - 19) == ".safetensors.index.json");
}

json file_component(const BomFile& f, const ModelArtifact& art) {
  std::string format;
  for (const ArtifactFile& af : art.files)
    if (af.name == f.name) format = af.format;
  bool config = format.empty() && is_config_file(f.name);
  json c = {{"type", config ? "data" : "file"}, {"bom-ref", "pedigree:file:" + f.name}, {"name", f.name},
            {"hashes", hashes(f)}};
  if (config) c["data"] = json::array({{{"type", "configuration"}, {"name", f.name}}});
  Props p = {{"pedigree:size", std::to_string(f.size)}};
  if (!format.empty()) p.emplace_back("pedigree:file-format", format);
  c["properties"] = properties_json(p);
  return c;
}

// --- The model component ----------------------------------------------------

struct Identity {
  std::string group, name, version, purl, supplier;
  std::optional<HfRepo> hf;
};

bool identity(const BomInputs& in, const BomOptions& o, const Sources& s, Identity* id, Error* err) {
  std::optional<HfRepo> cache = hf_cache_repo(in.model_path);
  if (!o.purl.empty() && o.purl.rfind("pkg:", 0) != 0)
    return fail(err, "", std::nullopt, "--purl: '" + o.purl + "' is not a package URL (pkg:TYPE/...)");
  id->hf = !o.purl.empty() ? hf_purl_repo(o.purl) : cache;
  std::string gname = text(s.gguf, "general.name"), cname = text(s.card, "model_name");
  if (!o.name.empty()) id->name = o.name;
  else if (id->hf) id->group = id->hf->org, id->name = id->hf->name;
  else if (!gname.empty()) id->name = gname;
  else if (!cname.empty()) id->name = cname;
  else id->name = last_component(in.model_path);
  if (id->name.empty()) id->name = "model";
  id->version = !o.version.empty() ? o.version : id->hf && !id->hf->rev.empty() ? id->hf->rev
                                                                             : text(s.gguf, "general.version");
  if (!o.purl.empty()) {
    id->purl = o.purl;
  } else if (id->hf) {
    id->purl = hf_purl(*id->hf);
  } else {
    id->purl = "pkg:generic/" + purl_encode(id->name) + (id->version.empty() ? "" : "@" + purl_encode(id->version));
    if (in.files.size() == 1 && in.files[0].name == "." && !in.files[0].sha256.empty())
      id->purl += "?checksum=sha256:" + to_hex(in.files[0].sha256);
  }
  id->supplier = !o.supplier.empty() ? o.supplier : cache ? cache->org : text(s.gguf, "general.organization");
  return true;
}

json external_references(const Identity& id, const Sources& s) {
  json refs = json::array();
  if (id.hf) {
    refs.push_back(ext_ref("model-card", hf_url(*id.hf)));
    refs.push_back(ext_ref("distribution", hf_url(*id.hf) + (id.hf->rev.empty() ? "" : "/tree/" + id.hf->rev)));
  }
  std::string url = text(s.gguf, "general.url"), repo = text(s.gguf, "general.repo_url");
  if (!url.empty()) refs.push_back(ext_ref("website", url));
  if (!repo.empty()) refs.push_back(ext_ref("vcs", repo));
  std::sort(refs.begin(), refs.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return refs;
}

std::vector<std::string> tags(const Sources& s) {
  std::set<std::string> t;
  for (const std::string& x : strings(member(s.card, "tags"))) t.insert(x);
  for (const std::string& x : strings(member(s.gguf, "general.tags"))) t.insert(x);
  return {t.begin(), t.end()};
}

bool model_component(const BomInputs& in, const BomOptions& o, const Sources& s, const std::vector<json>& data,
                     json* out, Error* err) {
  Identity id;
  if (!identity(in, o, s, &id, err)) return false;
  json c = {{"type", "machine-learning-model"}, {"name", id.name}, {"purl", id.purl}};
  c["bom-ref"] = in.manifest_root.empty() ? "pedigree:model:" + id.name
                                          : "pedigree:model:sha256:" + to_hex(in.manifest_root);
  if (!id.group.empty()) c["group"] = id.group;
  if (!id.version.empty()) c["version"] = id.version;
  if (!id.supplier.empty()) c["supplier"] = {{"name", id.supplier}};
  std::string author = text(s.gguf, "general.author"), description = text(s.gguf, "general.description");
  if (!author.empty()) c["authors"] = json::array({{{"name", author}}});
  if (!description.empty()) c["description"] = description;
  for (const BomFile& f : in.files)
    if (f.name == ".") c["hashes"] = hashes(f);
  json lic = licenses(s);
  if (!lic.empty()) c["licenses"] = lic;
  json refs = external_references(id, s);
  if (!refs.empty()) c["externalReferences"] = refs;
  json anc;
  if (!ancestors(s, o, &anc, err)) return false;
  if (!anc.empty()) c["pedigree"] = {{"ancestors", anc}};
  // Every model component carries a model card (bom validate requires one);
  // when the files say nothing, the card says so instead of guessing.
  json card = model_card(s, data);
  if (card.empty())
    card = {{"properties", json::array({{{"name", "pedigree:model-card"},
                                         {"value", "no model-card metadata found in the model files"}}})}};
  c["modelCard"] = card;
  std::vector<std::string> t = tags(s);
  if (!t.empty()) c["tags"] = t;
  c["properties"] = properties_json(fingerprint_properties(in, s));
  *out = c;
  return true;
}

json tool_component(const BomOptions& o) {
  return {{"type", "application"}, {"bom-ref", "pedigree:tool"}, {"name", "pedigree"}, {"version", o.tool_version}};
}

bool check_inputs(const BomInputs& in, const BomOptions& o, Error* err) {
  if (!in.art || !in.idx) return fail(err, "", std::nullopt, "bom: no model to describe");
  if (!check_bom_options(o, err)) return false;
  for (const BomFile& f : in.files)
    if (f.sha256.size() != 32 || (!f.blake2b.empty() && f.blake2b.size() != 64))
      return fail(err, f.name, std::nullopt, "digest has the wrong length");
  return true;
}

}  // namespace

bool check_bom_options(const BomOptions& o, Error* err) {
  if (o.spec_version != "1.6" && o.spec_version != "1.7")
    return fail(err, "", std::nullopt, "--spec-version: '" + o.spec_version + "' is not supported (1.6 or 1.7)");
  if (!o.serial.empty() && !valid_serial(o.serial))
    return fail(err, "", std::nullopt,
                "--serial: '" + o.serial + "' is not urn:uuid: followed by a lowercase RFC 4122 UUID");
  if (!o.purl.empty() && o.purl.rfind("pkg:", 0) != 0)
    return fail(err, "", std::nullopt, "--purl: '" + o.purl + "' is not a package URL (pkg:TYPE/...)");
  for (const std::string& ref : o.base_models)
    if (ref.empty()) return fail(err, "", std::nullopt, "--base-model: base model reference is empty");
  return true;
}

namespace {

bool serial_and_time(const BomOptions& o, std::string* serial, std::string* stamp, Error* err) {
  *serial = o.serial;
  if (serial->empty() && !(o.random_serial ? o.random_serial(serial, err) : random_uuid_urn(serial, err)))
    return false;
  int64_t t = o.timestamp ? *o.timestamp : o.clock ? o.clock() : static_cast<int64_t>(std::time(nullptr));
  if (!iso8601_utc(t, stamp))
    return fail(err, "", std::nullopt, "timestamp " + std::to_string(t) + " is outside years 1970-9999");
  return true;
}

}  // namespace

bool build_bom(const BomInputs& in, const BomOptions& o, nlohmann::json* out, Error* err) {
  if (!check_inputs(in, o, err)) return false;
  std::string serial, stamp;
  if (!serial_and_time(o, &serial, &stamp, err)) return false;
  Sources s = sources(*in.art);
  std::vector<json> data = datasets(s);
  json model;
  if (!model_component(in, o, s, data, &model, err)) return false;
  json components = json::array(), deps = json::array();
  std::vector<std::string> file_refs;
  for (const BomFile& f : in.files) {
    if (f.name == ".") continue;
    components.push_back(file_component(f, *in.art));
    file_refs.push_back(components.back()["bom-ref"]);
  }
  for (json& d : data) components.push_back(d);
  std::sort(components.begin(), components.end(),
            [](const json& a, const json& b) { return a["bom-ref"].get<std::string>() < b["bom-ref"].get<std::string>(); });
  std::sort(file_refs.begin(), file_refs.end());
  json model_dep = {{"ref", model["bom-ref"]}};
  if (!file_refs.empty()) model_dep["dependsOn"] = file_refs;
  deps.push_back(model_dep);
  for (const json& c : components) deps.push_back({{"ref", c["bom-ref"]}});
  std::sort(deps.begin(), deps.end(),
            [](const json& a, const json& b) { return a["ref"].get<std::string>() < b["ref"].get<std::string>(); });
  *out = {{"$schema", "http://cyclonedx.org/schema/bom-" + o.spec_version + ".schema.json"},
          {"bomFormat", "CycloneDX"},
          {"specVersion", o.spec_version},
          {"serialNumber", serial},
          {"version", 1},
          {"metadata",
           {{"timestamp", stamp}, {"tools", {{"components", json::array({tool_component(o)})}}}, {"component", model}}},
          {"components", components},
          {"dependencies", deps}};
  return true;
}

bool hash_bom_files(const std::string& path, const ModelArtifact& art, unsigned jobs, std::vector<BomFile>* files,
                    std::vector<uint8_t>* root, ProgressCounter* progress, Error* err) {
  ManifestOptions sha;
  sha.jobs = jobs;
  bool dir = std::filesystem::is_directory(path);
  if (dir) sha.also = HashAlgorithm::kBlake2b512;  // both digests from one read of each file
  Manifest ms, mb;
  if (!build_manifest(path, sha, &ms, err, progress)) return false;
  *root = manifest_root(ms.resources);
  if (dir) {
    mb = ms;
    mb.options.algorithm = HashAlgorithm::kBlake2b512;
    for (Resource& r : mb.resources) r.digest = r.also_digest;
  }
  if (!bom_files_from_manifests(ms, dir ? &mb : nullptr, files, err)) return false;
  if (dir) return true;
  // Files a single-file model refers to (ONNX external data, shards): hashed as their own components.
  for (const ArtifactFile& f : art.files) {
    if (f.name == "." || !std::filesystem::is_regular_file(f.path)) continue;
    Manifest one;
    if (!build_manifest(f.path, sha, &one, err, progress)) return false;
    files->push_back({f.name, f.size, one.resources.at(0).digest, {}});
  }
  return true;
}

bool bom_files_from_manifests(const Manifest& sha256, const Manifest* blake2b, std::vector<BomFile>* out,
                              Error* err) {
  out->clear();
  if (sha256.options.method != SerializationMethod::kFiles || sha256.options.algorithm != HashAlgorithm::kSha256)
    return fail(err, sha256.model_name, std::nullopt, "bom needs a SHA-256 manifest of whole files");
  if (blake2b && (blake2b->resources.size() != sha256.resources.size() ||
                  blake2b->options.algorithm != HashAlgorithm::kBlake2b512))
    return fail(err, sha256.model_name, std::nullopt, "SHA-256 and BLAKE2b manifests list different files");
  for (size_t i = 0; i < sha256.resources.size(); ++i) {
    const Resource& r = sha256.resources[i];
    BomFile f{r.name, r.end - r.start, r.digest, {}};
    if (blake2b) {
      if (blake2b->resources[i].name != r.name)
        return fail(err, r.name, std::nullopt, "missing from the BLAKE2b manifest");
      f.blake2b = blake2b->resources[i].digest;
    }
    out->push_back(std::move(f));
  }
  return true;
}

bool valid_serial(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (s.size() != kPrefix.size() + 36 || s.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view u = s.substr(kPrefix.size());
  for (size_t i = 0; i < u.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? u[i] != '-' : !((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f'))) return false;
  }
  return true;
}

namespace {

std::string uuid_urn(unsigned char* b, unsigned version) {
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | (version << 4));
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string h = to_hex(b, 16);
  return "urn:uuid:" + h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20);
}

}  // namespace

bool random_uuid_urn(std::string* out, Error* err) {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) return fail(err, "", std::nullopt, "cannot get random bytes for the serial number");
  *out = uuid_urn(b, 4);
  return true;
}

std::string name_uuid_urn(std::string_view name) {
  // RFC 4122 section 4.3: SHA-1 over the namespace ID (URL namespace) and the name.
  static const unsigned char kUrlNamespace[16] = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                                  0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
  std::string input(reinterpret_cast<const char*>(kUrlNamespace), sizeof kUrlNamespace);
  input += name;
  unsigned char b[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), b);
  return uuid_urn(b, 5);
}

bool iso8601_utc(int64_t seconds, std::string* out) {
  if (seconds < 0 || seconds > 253402300799) return false;  // 9999-12-31T23:59:59Z
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return false;
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  *out = buf;
  return true;
}

std::string purl_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace pedigree
