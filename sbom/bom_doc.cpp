// This file implements reading existing CycloneDX documents (see bom_doc.h):
// bounded parse, structural checks with precise messages, and navigation.
#include "sbom/bom_doc.h"

#include "sbom/validate.h"

#include "fingerprint/mapped_file.h"

namespace pedigree {
namespace {
using json = nlohmann::json;

// "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..." -> "syntax error ..."

bool check_components(const json& list, const std::string& where, const std::string& path, int depth, Error* err) {
  if (!list.is_array()) return fail(err, path, std::nullopt, where + " is not an array");
  if (depth > kMaxComponentDepth) return fail(err, path, std::nullopt, where + " nests deeper than " + std::to_string(kMaxComponentDepth));
  for (size_t i = 0; i < list.size(); ++i) {
    std::string at = where + "[" + std::to_string(i) + "]";
    if (!list[i].is_object()) return fail(err, path, std::nullopt, at + " is not an object");
    auto sub = list[i].find("components");
    if (sub != list[i].end() && !check_components(*sub, at + ".components", path, depth + 1, err)) return false;
  }
  return true;
}

bool check_structure(const json& j, const std::string& path, Error* err) {
  if (!j.is_object()) return fail(err, path, std::nullopt, "not a CycloneDX BOM: the document is not a JSON object");
  auto f = j.find("bomFormat");
  if (f == j.end()) return fail(err, path, std::nullopt, "not a CycloneDX BOM: no bomFormat");
  if (!f->is_string() || *f != "CycloneDX")
    return fail(err, path, std::nullopt, "not a CycloneDX BOM: bomFormat is " + f->dump() + ", expected \"CycloneDX\"");
  auto v = j.find("specVersion");
  if (v == j.end() || !v->is_string()) return fail(err, path, std::nullopt, "specVersion is missing or not a string");
  auto m = j.find("metadata");
  if (m != j.end()) {
    if (!m->is_object()) return fail(err, path, std::nullopt, "metadata is not an object");
    auto c = m->find("component");
    if (c != m->end() && !c->is_object()) return fail(err, path, std::nullopt, "metadata.component is not an object");
    if (c != m->end() && c->contains("components") &&
        !check_components((*c)["components"], "metadata.component.components", path, 1, err))
      return false;
  }
  auto c = j.find("components");
  return c == j.end() || check_components(*c, "components", path, 0, err);
}

void collect(const json& list, int depth, std::vector<const json*>* out) {
  if (!list.is_array() || depth > kMaxComponentDepth) return;
  for (const json& c : list) {
    if (!c.is_object()) continue;
    out->push_back(&c);
    auto sub = c.find("components");
    if (sub != c.end()) collect(*sub, depth + 1, out);
  }
}

const json* find_model(const json& list, const std::string& where, int depth, std::string* at) {
  if (!list.is_array() || depth > kMaxComponentDepth) return nullptr;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& c = list[i];
    std::string here = where + "[" + std::to_string(i) + "]";
    if (json_str(&c, "type") == "machine-learning-model") return *at = here, &c;
    auto sub = c.find("components");
    if (c.is_object() && sub != c.end())
      if (const json* m = find_model(*sub, here + ".components", depth + 1, at)) return m;
  }
  return nullptr;
}

}  // namespace

bool parse_bom_document(std::string_view text, const std::string& path, nlohmann::json* out, Error* err) {
  return parse_bom(text, path, out, err) && check_structure(*out, path, err);
}

bool read_bom_document(const std::string& path, nlohmann::json* out, Error* err) {
  auto f = MappedFile::open(path, err);
  if (!f) return false;
  return parse_bom_document(f->view(), path, out, err);
}

const nlohmann::json* bom_model(const nlohmann::json& bom, std::string* where) {
  std::string at;
  const json* meta = json_object(json_object(&bom, "metadata"), "component");
  const json* m = nullptr;
  if (meta && json_str(meta, "type") == "machine-learning-model") m = meta, at = "metadata.component";
  if (!m && meta && meta->contains("components"))
    m = find_model((*meta)["components"], "metadata.component.components", 1, &at);
  if (!m && bom.is_object() && bom.contains("components")) m = find_model(bom["components"], "components", 0, &at);
  if (where) *where = m ? at : "";
  return m;
}

std::vector<const nlohmann::json*> bom_components(const nlohmann::json& bom) {
  std::vector<const json*> out;
  const json* meta = json_object(json_object(&bom, "metadata"), "component");
  if (meta) {
    out.push_back(meta);
    if (meta->contains("components")) collect((*meta)["components"], 1, &out);
  }
  if (bom.is_object() && bom.contains("components")) collect(bom["components"], 0, &out);
  return out;
}

std::string json_str(const nlohmann::json* o, const char* key) {
  if (!o || !o->is_object()) return "";
  auto it = o->find(key);
  return it != o->end() && it->is_string() ? it->get<std::string>() : "";
}

const nlohmann::json* json_array(const nlohmann::json* o, const char* key) {
  if (!o || !o->is_object()) return nullptr;
  auto it = o->find(key);
  return it != o->end() && it->is_array() ? &*it : nullptr;
}

const nlohmann::json* json_object(const nlohmann::json* o, const char* key) {
  if (!o || !o->is_object()) return nullptr;
  auto it = o->find(key);
  return it != o->end() && it->is_object() ? &*it : nullptr;
}

}  // namespace pedigree
