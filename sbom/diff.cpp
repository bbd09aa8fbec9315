// This file implements `bom diff` (see diff.h): each component is flattened
// into sorted field/value pairs (hashes by algorithm, licences and ancestors
// as sorted lists, properties by name, model card by JSON path), components
// are matched by type and name, and the pairs are compared.
#include "sbom/diff.h"

#include <algorithm>
#include <map>
#include <set>

#include "sbom/bom_doc.h"

namespace pedigree {
namespace {
using json = nlohmann::json;
using Fields = std::map<std::string, std::string>;

constexpr size_t kMaxFields = 100000;  // flattened fields per component
constexpr int kMaxFlattenDepth = 32;

std::string scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

void put(Fields* f, const std::string& k, const std::string& v) {
  if (f->size() >= kMaxFields) return;
  auto [it, fresh] = f->emplace(k, v);
  if (!fresh) it->second += "; " + v;
}

// Generic flattening: objects by key, arrays of scalars joined, arrays of objects by index.
void flatten(const json& v, const std::string& path, int depth, Fields* out) {
  if (depth > kMaxFlattenDepth) return put(out, path, "(nested too deeply)");
  if (v.is_object()) {
    for (const auto& [k, x] : v.items()) flatten(x, path + "/" + k, depth + 1, out);
    return;
  }
  if (v.is_array()) {
    bool scalars = std::all_of(v.begin(), v.end(), [](const json& x) { return !x.is_object() && !x.is_array(); });
    if (scalars) {
      std::string joined;
      for (const json& x : v) joined += (joined.empty() ? "" : ", ") + scalar(x);
      return put(out, path, joined);
    }
    for (size_t i = 0; i < v.size(); ++i) flatten(v[i], path + "[" + std::to_string(i) + "]", depth + 1, out);
    return;
  }
  put(out, path, scalar(v));
}

std::string sorted_join(std::vector<std::string> v, const char* sep) {
  std::sort(v.begin(), v.end());
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string license_text(const json& l) {
  std::string e = json_str(&l, "expression");
  if (!e.empty()) return e;
  const json* lic = json_object(&l, "license");
  std::string id = json_str(lic, "id");
  return !id.empty() ? id : json_str(lic, "name");
}

std::string component_id(const json& c) {
  std::string p = json_str(&c, "purl");
  if (!p.empty()) return p;
  std::string g = json_str(&c, "group"), v = json_str(&c, "version");
  return (g.empty() ? "" : g + "/") + json_str(&c, "name") + (v.empty() ? "" : "@" + v);
}

void special(const std::string& key, const json& v, Fields* f) {
  if (key == "hashes" && v.is_array()) {
    for (const json& h : v) put(f, "hashes/" + json_str(&h, "alg"), json_str(&h, "content"));
  } else if (key == "licenses" && v.is_array()) {
    std::vector<std::string> l;
    for (const json& x : v) l.push_back(license_text(x));
    put(f, "licenses", sorted_join(l, "; "));
  } else if (key == "properties" && v.is_array()) {
    std::map<std::string, std::vector<std::string>> by;
    for (const json& p : v) by[json_str(&p, "name")].push_back(json_str(&p, "value"));
    for (auto& [n, vals] : by) put(f, "properties/" + n, sorted_join(vals, "; "));
  } else if (key == "externalReferences" && v.is_array()) {
    std::map<std::string, std::vector<std::string>> by;
    for (const json& r : v) by[json_str(&r, "type")].push_back(json_str(&r, "url"));
    for (auto& [t, urls] : by) put(f, "externalReferences/" + t, sorted_join(urls, " "));
  } else if (key == "pedigree" && v.is_object()) {
    for (const auto& [k, x] : v.items()) {
      if (!x.is_array()) {
        flatten(x, "pedigree/" + k, 1, f);
        continue;
      }
      std::vector<std::string> ids;
      for (const json& c : x) ids.push_back(c.is_object() ? component_id(c) : scalar(c));
      put(f, "pedigree/" + k, sorted_join(ids, "; "));
    }
  } else if ((key == "supplier" || key == "manufacturer") && v.is_object()) {
    put(f, key, json_str(&v, "name"));
  } else if (key == "tags" && v.is_array()) {
    std::vector<std::string> t;
    for (const json& x : v) t.push_back(scalar(x));
    put(f, "tags", sorted_join(t, ", "));
  } else {
    flatten(v, key, 1, f);
  }
}

Fields fields_of(const json* c) {
  Fields f;
  if (!c || !c->is_object()) return f;
  for (const auto& [k, v] : c->items())
    if (k != "bom-ref" && k != "components") special(k, v, &f);
  return f;
}

std::vector<FieldChange> compare(const Fields& a, const Fields& b) {
  std::vector<FieldChange> out;
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  for (const std::string& k : keys) {
    auto x = a.find(k), y = b.find(k);
    std::optional<std::string> before, after;
    if (x != a.end()) before = x->second;
    if (y != b.end()) after = y->second;
    if (before != after) out.push_back({k, before, after});
  }
  return out;
}

std::string key_of(const json& c) {
  std::string g = json_str(&c, "group");
  return json_str(&c, "type") + ":" + (g.empty() ? "" : g + "/") + json_str(&c, "name");
}

// Components other than the described model, by key ("#2" for a repeated key).
std::map<std::string, const json*> keyed(const json& bom, const json* model) {
  std::map<std::string, const json*> out;
  for (const json* c : bom_components(bom)) {
    if (c == model) continue;
    std::string k = key_of(*c), unique = k;
    for (int n = 2; out.count(unique); ++n) unique = k + " #" + std::to_string(n);
    out.emplace(unique, c);
  }
  return out;
}

std::string display_name(const json* m) {
  if (!m) return "";
  std::string g = json_str(m, "group");
  return (g.empty() ? "" : g + "/") + json_str(m, "name");
}

json change_json(const FieldChange& c) {
  json j = {{"field", c.field}};
  j["before"] = c.before ? json(*c.before) : json(nullptr);
  j["after"] = c.after ? json(*c.after) : json(nullptr);
  return j;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> component_fields(const nlohmann::json& c) {
  Fields f = fields_of(&c);
  return {f.begin(), f.end()};
}

BomDiff diff_boms(const nlohmann::json& a, const nlohmann::json& b) {
  BomDiff d;
  const json* ma = bom_model(a, nullptr);
  const json* mb = bom_model(b, nullptr);
  d.model_before = display_name(ma);
  d.model_after = display_name(mb);
  Fields fa = fields_of(ma), fb = fields_of(mb);
  if (ma) fa["specVersion"] = json_str(&a, "specVersion");
  if (mb) fb["specVersion"] = json_str(&b, "specVersion");
  d.model = compare(fa, fb);
  if (!!ma != !!mb) d.model.insert(d.model.begin(), {"model component", ma ? std::optional<std::string>(d.model_before) : std::nullopt,
                                                      mb ? std::optional<std::string>(d.model_after) : std::nullopt});
  auto ka = keyed(a, ma), kb = keyed(b, mb);
  for (const auto& [k, c] : ka) {
    auto it = kb.find(k);
    if (it == kb.end()) {
      d.removed.push_back(k);
      continue;
    }
    std::vector<FieldChange> ch = compare(fields_of(c), fields_of(it->second));
    if (!ch.empty()) d.changed.push_back({k, std::move(ch)});
  }
  for (const auto& [k, c] : kb)
    if (!ka.count(k)) d.added.push_back(k);
  return d;
}

nlohmann::json diff_json(const BomDiff& d) {
  json model = json::array(), changed = json::array();
  for (const FieldChange& c : d.model) model.push_back(change_json(c));
  for (const ComponentChange& c : d.changed) {
    json ch = json::array();
    for (const FieldChange& f : c.changes) ch.push_back(change_json(f));
    changed.push_back({{"component", c.key}, {"changes", ch}});
  }
  return {{"equal", d.equal()},
          {"model", {{"before", d.model_before}, {"after", d.model_after}, {"changes", model}}},
          {"components", {{"added", d.added}, {"removed", d.removed}, {"changed", changed}}}};
}

}  // namespace pedigree
