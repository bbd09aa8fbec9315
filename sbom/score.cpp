// This file implements the AI-BOM completeness score (see score.h and
// docs/bom-score.md). Every check is a presence test on the model component
// or the document; the group and check weights below are the definition.
#include "sbom/score.h"

#include <cmath>
#include <set>

#include "sbom/bom_doc.h"
#include "sbom/spdx_ids.h"

namespace pedigree {
namespace {
using json = nlohmann::json;

double round1(double x) { return std::round(x * 10) / 10; }

// Every field scored is a string, an array or an object; other types count as absent.
bool nonempty(const json* v) {
  if (!v) return false;
  if (v->is_string()) return !v->get<std::string>().empty();
  return (v->is_array() || v->is_object()) && !v->empty();
}

const json* at(const json* o, std::initializer_list<const char*> path) {
  for (const char* k : path) {
    if (!o || !o->is_object()) return nullptr;
    auto it = o->find(k);
    if (it == o->end()) return nullptr;
    o = &*it;
  }
  return o;
}

bool has_ref(const json* m, std::initializer_list<const char*> types) {
  const json* refs = json_array(m, "externalReferences");
  if (!refs) return false;
  for (const json& r : *refs)
    for (const char* t : types)
      if (json_str(&r, "type") == t && !json_str(&r, "url").empty()) return true;
  return false;
}

bool has_property(const json* m, const char* name) {
  const json* props = json_array(m, "properties");
  if (!props) return false;
  for (const json& p : *props)
    if (json_str(&p, "name") == name && !json_str(&p, "value").empty()) return true;
  return false;
}

const std::set<std::string>& strong_algs() {
  static const std::set<std::string> s = {"SHA-256", "SHA-384", "SHA-512", "SHA3-256", "SHA3-384", "SHA3-512",
                                          "BLAKE2b-256", "BLAKE2b-384", "BLAKE2b-512", "BLAKE3"};
  return s;
}

struct HashStats {
  size_t files = 0, files_hashed = 0, hashes = 0, strong = 0;
  bool model_hashed = false;
};

size_t count_hashes(const json* c, size_t* strong) {
  const json* h = json_array(c, "hashes");
  size_t n = 0;
  if (!h) return 0;
  for (const json& x : *h) {
    if (json_str(&x, "content").empty()) continue;
    ++n;
    *strong += strong_algs().count(json_str(&x, "alg"));
  }
  return n;
}

HashStats hash_stats(const json& bom, const json* model) {
  HashStats s;
  if (model) s.hashes += count_hashes(model, &s.strong), s.model_hashed = s.hashes > 0;
  for (const json* c : bom_components(bom)) {
    if (c == model || json_str(c, "type") != "file") continue;
    ++s.files;
    size_t n = count_hashes(c, &s.strong);
    s.hashes += n;
    s.files_hashed += n > 0;
  }
  return s;
}

// Every modelParameters.datasets entry is an inline dataset with a name or a ref to a component.
bool datasets_resolve(const json& bom, const json* list) {
  if (!list || !list->is_array() || list->empty()) return false;
  std::set<std::string> refs;
  for (const json* c : bom_components(bom)) refs.insert(json_str(c, "bom-ref"));
  for (const json& d : *list) {
    std::string ref = json_str(&d, "ref");
    if (!ref.empty() ? !refs.count(ref) : json_str(&d, "name").empty()) return false;
  }
  return true;
}

bool licenses_machine_readable(const json* list) {
  if (!list || list->empty()) return false;
  for (const json& l : *list) {
    if (!json_str(&l, "expression").empty()) continue;
    if (!is_spdx_license_id(json_str(json_object(&l, "license"), "id"))) return false;
  }
  return true;
}

ScoreGroup group(const char* id, double weight, std::vector<ScoreCheck> checks) {
  ScoreGroup g{id, weight, 0, std::move(checks)};
  double all = 0, got = 0;
  for (const ScoreCheck& c : g.checks) all += c.weight, got += c.present ? c.weight : 0;
  g.points = all > 0 ? weight * got / all : 0;
  return g;
}

ScoreGroup identity(const json& bom, const json* m) {
  bool serial = false;
  if (bom.is_object() && bom.contains("serialNumber") && bom["serialNumber"].is_string()) {
    std::string s = bom["serialNumber"];
    serial = s.rfind("urn:uuid:", 0) == 0 && s.size() == 45;
  }
  bool who = nonempty(at(m, {"supplier", "name"})) || nonempty(at(m, {"manufacturer", "name"})) ||
             nonempty(at(m, {"authors"})) || nonempty(at(m, {"author"})) || nonempty(at(m, {"publisher"}));
  return group("identity", 15,
               {{"model component (type machine-learning-model)", 4, m != nullptr},
                {"model.name", 2, nonempty(at(m, {"name"}))},
                {"model.version", 2, nonempty(at(m, {"version"}))},
                {"model.purl", 2, nonempty(at(m, {"purl"}))},
                {"model.supplier (or manufacturer, authors, publisher)", 2, who},
                {"model.description", 1, nonempty(at(m, {"description"}))},
                {"serialNumber (urn:uuid)", 1, serial},
                {"metadata.timestamp", 0.5, nonempty(at(&bom, {"metadata", "timestamp"}))},
                {"metadata.tools", 0.5, nonempty(at(&bom, {"metadata", "tools"}))}});
}

ScoreGroup integrity(const json& bom, const json* m) {
  HashStats s = hash_stats(bom, m);
  bool every = s.files > 0 ? s.files_hashed == s.files : s.model_hashed;
  return group("integrity", 20,
               {{"model.hashes or file component hashes", 8, s.model_hashed || s.files_hashed > 0},
                {"hashes on every file component", 6, every},
                {"only strong hash algorithms (SHA-2, SHA-3, BLAKE2b, BLAKE3)", 3, s.hashes > 0 && s.strong == s.hashes},
                {"whole-model digest (pedigree:manifest-root or pedigree:tensor-content-root)", 3,
                 has_property(m, "pedigree:manifest-root") || has_property(m, "pedigree:tensor-content-root")}});
}

ScoreGroup provenance(const json* m) {
  bool lineage = nonempty(at(m, {"pedigree", "ancestors"})) || nonempty(at(m, {"pedigree", "notes"}));
  return group("provenance", 15,
               {{"model.externalReferences model-card", 4, has_ref(m, {"model-card"})},
                {"model.externalReferences distribution (or website)", 4,
                 has_ref(m, {"distribution", "distribution-intake", "website"})},
                {"model.externalReferences vcs", 2, has_ref(m, {"vcs"})},
                {"model.pedigree.ancestors (or pedigree.notes)", 5, lineage}});
}

ScoreGroup parameters(const json* m) {
  const json* p = at(m, {"modelCard", "modelParameters"});
  return group("model-parameters", 15,
               {{"model.modelCard.modelParameters.task", 4, nonempty(at(p, {"task"}))},
                {"model.modelCard.modelParameters.architectureFamily", 3, nonempty(at(p, {"architectureFamily"}))},
                {"model.modelCard.modelParameters.modelArchitecture", 3, nonempty(at(p, {"modelArchitecture"}))},
                {"model.modelCard.modelParameters.approach.type", 2, nonempty(at(p, {"approach", "type"}))},
                {"model.modelCard.modelParameters.inputs", 1.5, nonempty(at(p, {"inputs"}))},
                {"model.modelCard.modelParameters.outputs", 1.5, nonempty(at(p, {"outputs"}))}});
}

ScoreGroup datasets(const json& bom, const json* m) {
  const json* d = at(m, {"modelCard", "modelParameters", "datasets"});
  return group("datasets", 10,
               {{"model.modelCard.modelParameters.datasets", 6, nonempty(d)},
                {"every dataset is named inline or its ref resolves to a BOM component", 4, datasets_resolve(bom, d)}});
}

ScoreGroup considerations(const json* m) {
  const json* c = at(m, {"modelCard", "considerations"});
  return group("considerations", 10,
               {{"model.modelCard.quantitativeAnalysis.performanceMetrics", 2,
                 nonempty(at(m, {"modelCard", "quantitativeAnalysis", "performanceMetrics"}))},
                {"model.modelCard.considerations.technicalLimitations", 2, nonempty(at(c, {"technicalLimitations"}))},
                {"model.modelCard.considerations.ethicalConsiderations", 2, nonempty(at(c, {"ethicalConsiderations"}))},
                {"model.modelCard.considerations.useCases (or users)", 2,
                 nonempty(at(c, {"useCases"})) || nonempty(at(c, {"users"}))},
                {"model.modelCard.considerations.environmentalConsiderations", 1,
                 nonempty(at(c, {"environmentalConsiderations"}))},
                {"model.modelCard.considerations.performanceTradeoffs", 0.5, nonempty(at(c, {"performanceTradeoffs"}))},
                {"model.modelCard.considerations.fairnessAssessments", 0.5, nonempty(at(c, {"fairnessAssessments"}))}});
}

ScoreGroup licences(const json* m) {
  const json* l = json_array(m, "licenses");
  return group("licences", 10,
               {{"model.licenses", 6, nonempty(l)},
                {"every licence is an SPDX id or expression", 4, licenses_machine_readable(l)}});
}

ScoreGroup signatures(const json& bom, const json* m) {
  return group("signatures", 5,
               {{"BOM signature", 3, nonempty(at(&bom, {"signature"}))},
                {"model signature or signature/attestation reference", 2,
                 nonempty(at(m, {"signature"})) ||
                     has_ref(m, {"digital-signature", "electronic-signature", "attestation"})}});
}

}  // namespace

BomScore score_bom(const nlohmann::json& bom) {
  BomScore s;
  const json* m = bom_model(bom, &s.model_where);
  s.model_name = json_str(m, "name");
  if (m && !json_str(m, "group").empty()) s.model_name = json_str(m, "group") + "/" + s.model_name;
  s.groups = {identity(bom, m),    integrity(bom, m),   provenance(m), parameters(m),
              datasets(bom, m),    considerations(m),   licences(m),   signatures(bom, m)};
  double total = 0;
  for (ScoreGroup& g : s.groups) total += g.points, g.points = round1(g.points);
  s.total = round1(total);
  return s;
}

nlohmann::json score_json(const BomScore& s) {
  json groups = json::array();
  for (const ScoreGroup& g : s.groups) {
    json present = json::array(), missing = json::array();
    for (const ScoreCheck& c : g.checks) (c.present ? present : missing).push_back(c.field);
    groups.push_back({{"id", g.id}, {"weight", g.weight}, {"points", g.points}, {"present", present},
                      {"missing", missing}});
  }
  json model = s.model_where.empty() ? json(nullptr) : json{{"name", s.model_name}, {"where", s.model_where}};
  return {{"score", s.total}, {"max", 100}, {"model", model}, {"groups", groups}};
}

}  // namespace pedigree
