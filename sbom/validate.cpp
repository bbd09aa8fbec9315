// This file implements the CycloneDX BOM validator: bounded parsing (size and
// depth caps, malformed JSON located by offset, line and column), validation
// against the embedded official schema of the document's specVersion with
// valijson (draft-07), and the beyond-schema checks (bom-refs, hash lengths,
// model cards, ML completeness). `signature` subtrees are left to the verifier.
#include "sbom/validate.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <unordered_map>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "fingerprint/mapped_file.h"
#include "sbom/schema_data.h"

namespace pedigree {
namespace {

using nlohmann::json;

const std::map<std::string, std::string>& schema_files() {
  static const std::map<std::string, std::string> kFiles = {
      {"1.4", "bom-1.4.SNAPSHOT.schema.json"},
      {"1.5", "bom-1.5.SNAPSHOT.schema.json"},
      {"1.6", "bom-1.6.SNAPSHOT.schema.json"},
      {"1.7", "bom-1.7.SNAPSHOT.schema.json"},
  };
  return kFiles;
}

// ---------------------------------------------------------------- reading

/// Offset of the first '[' or '{' nested deeper than kMaxBomDepth, or npos.
size_t too_deep_at(std::string_view s) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxBomDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

/// "line 3, column 7" of byte `off` (1-based, columns in bytes).
std::string line_column(std::string_view s, size_t off) {
  off = std::min(off, s.size());
  size_t line = 1 + static_cast<size_t>(std::count(s.begin(), s.begin() + off, '\n'));
  size_t nl = s.substr(0, off).rfind('\n');
  size_t col = off - (nl == std::string_view::npos ? 0 : nl + 1) + 1;
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

/// nlohmann's "[json.exception.parse_error.101] parse error at line 1,
/// column 2: syntax error while parsing value - invalid literal; last read:
/// 'x'" reduced to "syntax error while parsing value - invalid literal; ...".
std::string parse_reason(const std::string& what) {
  std::string r = what;
  size_t colon = r.find(": ");
  if (colon != std::string::npos) r = r.substr(colon + 2);
  if (!r.empty()) r[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(r[0])));
  return r;
}

// ---------------------------------------------------------------- schemas

constexpr const char* kPatternKey = "x-pedigree-pattern";
constexpr const char* kFormatKey = "x-pedigree-format";
constexpr const char* kUniqueKey = "x-pedigree-unique-items";

bool is_date_format(const json& v) {
  return v.is_string() && (v == "date" || v == "time" || v == "date-time");
}

/// Renames the `pattern` keywords and the date `format`s valijson would check
/// with an unbounded std::regex, and `uniqueItems` it would check in quadratic
/// time, to our own keywords (see PatternConstraint, UniqueConstraint).
void rename_regex_keywords(json* node) {
  if (node->is_array()) {
    for (json& sub : *node) rename_regex_keywords(&sub);
    return;
  }
  if (!node->is_object()) return;
  if (auto p = node->find("pattern"); p != node->end() && p->is_string()) {
    (*node)[kPatternKey] = *p;
    node->erase("pattern");
  }
  if (auto f = node->find("format"); f != node->end() && is_date_format(*f)) {
    (*node)[kFormatKey] = *f;
    node->erase("format");
  }
  if (auto u = node->find("uniqueItems"); u != node->end() && u->is_boolean() && u->get<bool>()) {
    (*node)[kUniqueKey] = *u;
    node->erase("uniqueItems");
  }
  for (auto& [key, sub] : node->items()) rename_regex_keywords(&sub);
}

/// Embedded schema documents by file name, parsed once, keywords renamed.
const std::map<std::string, json>& schema_docs() {
  static const std::map<std::string, json> kDocs = [] {
    std::map<std::string, json> docs;
    for (const EmbeddedSchema& s : embedded_schemas()) {
      std::string_view bytes(reinterpret_cast<const char*>(s.data), s.size);
      json doc = json::parse(bytes, nullptr, false);
      rename_regex_keywords(&doc);
      docs[s.name] = std::move(doc);
    }
    return docs;
  }();
  return kDocs;
}

/// A `pattern` or date `format`, checked with std::regex only on strings of at
/// most kMaxPatternStringBytes (libstdc++'s matcher recurses per character);
/// longer strings fail the constraint with their own message, so `anyOf`
/// alternatives still decide as the schema says.
class PatternConstraint : public valijson::constraints::PolyConstraint {
 public:
  PatternConstraint(std::string what, std::shared_ptr<const std::regex> re, bool date)
      : what_(std::move(what)), re_(std::move(re)), date_(date) {}

  bool validate(const valijson::adapters::Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isString()) return true;
    std::string s = target.asString();
    std::string problem;
    if (s.size() > kMaxPatternStringBytes)
      problem = "string of " + human_bytes(s.size()) + " exceeds the " + human_bytes(kMaxPatternStringBytes) +
                " this validator checks against " + what_;
    else if (!std::regex_search(s, *re_) || (date_ && !day_fits_month(s)))
      problem = date_ ? "string is not a valid " + what_ : "failed to match " + what_;
    if (problem.empty()) return true;
    if (results) results->pushError(context, problem);
    return false;
  }

 private:
  /// "2023-02-30" style day overflow in a date or date-time.
  static bool day_fits_month(const std::string& s) {
    static const std::regex kDate("^[0-9]+-([0-9]{2})-([0-9]{2})");
    std::smatch m;
    if (!std::regex_search(s, m, kDate)) return true;  // a plain time
    static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int month = std::stoi(m[1].str()), day = std::stoi(m[2].str());
    return month >= 1 && month <= 12 && day <= kDays[month - 1];
  }
  Constraint* cloneInto(void* where) const override { return new (where) PatternConstraint(*this); }
  size_t sizeOf() const override { return sizeof(PatternConstraint); }

  std::string what_;
  std::shared_ptr<const std::regex> re_;
  bool date_;
};

/// Canonical text of a value (object members in the adapter's order, which
/// for nlohmann::json is sorted; numbers by value), for uniqueness.
void canonical(const valijson::adapters::Adapter& v, std::string* out) {
  if (v.isObject()) {
    out->push_back('{');
    v.applyToObject([&](const std::string& key, const valijson::adapters::Adapter& member) {
      *out += json(key).dump();
      out->push_back(':');
      canonical(member, out);
      out->push_back(',');
      return true;
    });
    out->push_back('}');
  } else if (v.isArray()) {
    out->push_back('[');
    v.applyToArray([&](const valijson::adapters::Adapter& item) {
      canonical(item, out);
      out->push_back(',');
      return true;
    });
    out->push_back(']');
  } else if (v.isString()) {
    *out += json(v.getString()).dump();
  } else if (v.isBool()) {
    *out += v.getBool() ? "true" : "false";
  } else if (v.isNull()) {
    *out += "null";
  } else if (v.isNumber()) {
    *out += json(v.getNumber()).dump();
  }
}

/// `uniqueItems` by hashing each item's canonical text: linear instead of
/// valijson's pairwise comparison.
class UniqueConstraint : public valijson::constraints::PolyConstraint {
 public:
  bool validate(const valijson::adapters::Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isArray()) return true;
    std::unordered_map<std::string, size_t> first;
    size_t index = 0;
    bool ok = true;
    target.applyToArray([&](const valijson::adapters::Adapter& item) {
      std::string key;
      canonical(item, &key);
      auto [it, fresh] = first.emplace(std::move(key), index);
      if (!fresh) {
        ok = false;
        if (results)
          results->pushError(context, "items #" + std::to_string(it->second) + " and #" + std::to_string(index) +
                                          " are equal (uniqueItems)");
      }
      ++index;
      return true;
    });
    return ok;
  }

 private:
  Constraint* cloneInto(void* where) const override { return new (where) UniqueConstraint(*this); }
  size_t sizeOf() const override { return sizeof(UniqueConstraint); }
};

/// Builds UniqueConstraints for our renamed `uniqueItems: true`.
class UniqueBuilder : public valijson::ConstraintBuilder {
 public:
  valijson::constraints::Constraint* make(const valijson::adapters::Adapter& value) const override {
    (void)value;  // only `uniqueItems: true` is renamed
    return new UniqueConstraint;
  }
};

std::shared_ptr<const std::regex> cached_regex(const std::string& pattern) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const std::regex>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[pattern];
  if (!slot) slot = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
  return slot;
}

/// Builds PatternConstraints for our renamed `pattern` keyword.
class PatternBuilder : public valijson::ConstraintBuilder {
 public:
  valijson::constraints::Constraint* make(const valijson::adapters::Adapter& value) const override {
    std::string pattern = value.asString();
    return new PatternConstraint("pattern '" + pattern + "'", cached_regex(pattern), false);
  }
};

/// Builds PatternConstraints for our renamed date `format` keyword.
class FormatBuilder : public valijson::ConstraintBuilder {
 public:
  valijson::constraints::Constraint* make(const valijson::adapters::Adapter& value) const override {
    static const std::map<std::string, std::string> kRegex = {
        {"date", "^[0-9]+-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$"},
        {"time", "^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"},
        {"date-time",
         "^[0-9]+-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)"
         "(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"}};
    std::string format = value.asString();
    return new PatternConstraint(format, cached_regex(kRegex.at(format)), true);
  }
};

std::string last_segment(const std::string& uri) {
  std::string u = uri.substr(0, uri.find('#'));
  size_t slash = u.rfind('/');
  return slash == std::string::npos ? u : u.substr(slash + 1);
}

const json* find_doc(const std::string& name) {
  auto it = schema_docs().find(name);
  return it == schema_docs().end() || it->second.is_discarded() ? nullptr : &it->second;
}

/// A compiled schema for one spec version.
struct CompiledSchema {
  valijson::Schema schema;
};

const json* fetch_doc(const std::string& uri) {
  const json* doc = find_doc(last_segment(uri));
  return doc ? new json(*doc) : nullptr;
}

void free_doc(const json* doc) { delete doc; }

/// The compiled schema of `version` (built once per process), or null with `err`.
const CompiledSchema* compiled_schema(const std::string& version, Error* err) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<CompiledSchema>> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(version); it != cache.end()) return it->second.get();
  const std::string& file = schema_files().at(version);
  const json* doc = find_doc(file);
  if (!doc) return fail(err, file, std::nullopt, "embedded schema is not valid JSON"), nullptr;
  auto compiled = std::make_unique<CompiledSchema>();
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.addConstraintBuilder(kPatternKey, new PatternBuilder);
    parser.addConstraintBuilder(kFormatKey, new FormatBuilder);
    parser.addConstraintBuilder(kUniqueKey, new UniqueBuilder);
    valijson::adapters::NlohmannJsonAdapter adapter(*doc);
    parser.populateSchema(adapter, compiled->schema, fetch_doc, free_doc);
  } catch (const std::exception& e) {
    return fail(err, file, std::nullopt, std::string("cannot compile embedded schema: ") + e.what()), nullptr;
  }
  return (cache[version] = std::move(compiled)).get();
}

// ---------------------------------------------------------------- paths

std::string escape_token(const std::string& t) {
  std::string out;
  for (char c : t) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

/// valijson's context ("<root>", "[components]", "[0]", ...) as a JSON pointer.
std::string pointer_of(const std::vector<std::string>& context) {
  std::string out;
  for (const std::string& part : context) {
    if (part == "<root>") continue;
    std::string token = part;
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']') token = token.substr(1, token.size() - 2);
    out += "/" + escape_token(token);
  }
  return out;
}

std::string lower_first(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

/// The value at `pointer` when it is a short string, quoted, for messages.
std::string value_hint(const json& doc, const std::string& pointer) {
  try {
    json::json_pointer p(pointer);
    if (!doc.contains(p)) return "";
    const json& v = doc.at(p);
    if (v.is_string() && v.get_ref<const std::string&>().size() <= 80) return " (value " + v.dump() + ")";
  } catch (const json::exception&) {
  }
  return "";
}

// ---------------------------------------------------------------- pre-checks

bool has_signature(const json& node) {
  if (node.is_object()) {
    if (node.contains("signature")) return true;
    for (const auto& [key, sub] : node.items())
      if (has_signature(sub)) return true;
  } else if (node.is_array()) {
    for (const json& sub : node)
      if (has_signature(sub)) return true;
  }
  return false;
}

/// Removes every `signature` member (JSF subtree), recording where.
void strip_signatures(json* node, const std::string& path, std::vector<std::string>* where) {
  if (node->is_object()) {
    if (node->contains("signature")) {
      where->push_back(path + "/signature");
      node->erase("signature");
    }
    for (auto& [key, sub] : node->items()) strip_signatures(&sub, path + "/" + escape_token(key), where);
  } else if (node->is_array()) {
    for (size_t i = 0; i < node->size(); ++i) strip_signatures(&(*node)[i], path + "/" + std::to_string(i), where);
  }
}

// ---------------------------------------------------------------- beyond schema

struct RefIndex {
  std::map<std::string, std::string> defined;  ///< bom-ref -> where first defined
};

void collect_bom_refs(const json& node, const std::string& path, RefIndex* idx, BomValidation* out) {
  if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) collect_bom_refs(node[i], path + "/" + std::to_string(i), idx, out);
    return;
  }
  if (!node.is_object()) return;
  if (auto r = node.find("bom-ref"); r != node.end() && r->is_string()) {
    std::string where = path + "/bom-ref";
    auto [it, fresh] = idx->defined.emplace(r->get<std::string>(), where);
    if (!fresh)
      out->errors.push_back({where, "bom-ref " + r->dump() + " is not unique (also at " + it->second + ")"});
  }
  for (const auto& [key, sub] : node.items())
    if (key != "bom-ref") collect_bom_refs(sub, path + "/" + escape_token(key), idx, out);
}

void check_ref(const json& v, const std::string& path, const RefIndex& idx, BomValidation* out) {
  if (!v.is_string()) return;  // the schema reports wrong types
  const std::string& ref = v.get_ref<const std::string&>();
  if (ref.rfind("urn:cdx:", 0) == 0) return;  // BOM-Link into another BOM
  if (!idx.defined.count(ref)) out->errors.push_back({path, "reference " + v.dump() + " matches no bom-ref"});
}

void check_ref_array(const json& obj, const std::string& key, const std::string& path, const RefIndex& idx,
                     BomValidation* out) {
  auto a = obj.find(key);
  if (a == obj.end() || !a->is_array()) return;
  for (size_t i = 0; i < a->size(); ++i) check_ref((*a)[i], path + "/" + key + "/" + std::to_string(i), idx, out);
}

template <typename F>
void each_item(const json& doc, const char* key, F f) {
  auto a = doc.find(key);
  if (a == doc.end() || !a->is_array()) return;
  for (size_t i = 0; i < a->size(); ++i)
    if ((*a)[i].is_object()) f((*a)[i], "/" + std::string(key) + "/" + std::to_string(i));
}

void check_references(const json& doc, const RefIndex& idx, BomValidation* out) {
  each_item(doc, "dependencies", [&](const json& d, const std::string& p) {
    if (d.contains("ref")) check_ref(d["ref"], p + "/ref", idx, out);
    check_ref_array(d, "dependsOn", p, idx, out);
    check_ref_array(d, "provides", p, idx, out);
  });
  each_item(doc, "compositions", [&](const json& c, const std::string& p) {
    for (const char* k : {"assemblies", "dependencies", "vulnerabilities"}) check_ref_array(c, k, p, idx, out);
  });
  each_item(doc, "vulnerabilities", [&](const json& v, const std::string& p) {
    each_item(v, "affects", [&](const json& a, const std::string& q) {
      if (a.contains("ref")) check_ref(a["ref"], p + q + "/ref", idx, out);
    });
  });
  each_item(doc, "annotations", [&](const json& a, const std::string& p) {
    check_ref_array(a, "subjects", p, idx, out);
  });
}

/// Hex digits of each hash algorithm's digest.
size_t hash_hex_length(const std::string& alg) {
  static const std::map<std::string, size_t> kLengths = {
      {"MD5", 32},          {"SHA-1", 40},        {"SHA-256", 64},      {"SHA-384", 96},
      {"SHA-512", 128},     {"SHA3-256", 64},     {"SHA3-384", 96},     {"SHA3-512", 128},
      {"BLAKE2b-256", 64},  {"BLAKE2b-384", 96},  {"BLAKE2b-512", 128}, {"BLAKE3", 64},
      {"Streebog-256", 64}, {"Streebog-512", 128}};
  auto it = kLengths.find(alg);
  return it == kLengths.end() ? 0 : it->second;
}

void check_hashes(const json& node, const std::string& path, BomValidation* out) {
  if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) check_hashes(node[i], path + "/" + std::to_string(i), out);
    return;
  }
  if (!node.is_object()) return;
  for (const auto& [key, sub] : node.items()) {
    std::string p = path + "/" + escape_token(key);
    if (key == "hashes" && sub.is_array()) {
      for (size_t i = 0; i < sub.size(); ++i) {
        const json& h = sub[i];
        if (!h.is_object() || !h.contains("alg") || !h.contains("content") || !h["alg"].is_string() ||
            !h["content"].is_string())
          continue;
        std::string alg = h["alg"], content = h["content"];
        size_t want = hash_hex_length(alg);
        if (want && content.size() != want)
          out->errors.push_back({p + "/" + std::to_string(i) + "/content",
                                 alg + " digest has " + std::to_string(content.size()) + " hex digits, expected " +
                                     std::to_string(want)});
      }
    }
    check_hashes(sub, p, out);
  }
}

bool empty_or_missing(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() || ((it->is_array() || it->is_object() || it->is_string()) && it->empty());
}

/// Model card and ML completeness of one component; `referenced` components
/// (pedigree ancestors, descendants, variants) describe other models, so a
/// missing model card there is only a warning.
void check_model(const json& c, const std::string& p, bool referenced, BomValidation* out) {
  if (!c.is_object() || c.value("type", "") != "machine-learning-model") return;
  std::string name = c.contains("name") && c["name"].is_string() ? " " + c["name"].dump() : "";
  if (!c.contains("modelCard") || !c["modelCard"].is_object()) {
    (referenced ? out->warnings : out->errors)
        .push_back({p, "machine-learning-model component" + name + " has no modelCard"});
    if (referenced) return;
  } else {
    const json& card = c["modelCard"];
    const json empty = json::object();
    const json& params = card.contains("modelParameters") && card["modelParameters"].is_object()
                             ? card["modelParameters"] : empty;
    if (empty_or_missing(params, "task"))
      out->warnings.push_back({p + "/modelCard/modelParameters/task", "model" + name + " states no task"});
    if (empty_or_missing(params, "datasets"))
      out->warnings.push_back({p + "/modelCard/modelParameters/datasets", "model" + name + " lists no datasets"});
    if (empty_or_missing(card, "considerations"))
      out->warnings.push_back({p + "/modelCard/considerations", "model" + name + " states no considerations"});
  }
  if (empty_or_missing(c, "licenses")) out->warnings.push_back({p + "/licenses", "model" + name + " has no licenses"});
  if (empty_or_missing(c, "hashes")) out->warnings.push_back({p + "/hashes", "model" + name + " has no hashes"});
}

enum class Role { kNone, kComponent, kReferenced };

/// Visits every component (metadata.component, components, nested, pedigree).
void each_component(const json& node, const std::string& path, Role role, bool in_pedigree, BomValidation* out) {
  if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i)
      each_component(node[i], path + "/" + std::to_string(i), role, in_pedigree, out);
    return;
  }
  if (!node.is_object()) return;
  if (role != Role::kNone) check_model(node, path, role == Role::kReferenced, out);
  for (const auto& [key, sub] : node.items()) {
    bool pedigree_list = key == "ancestors" || key == "descendants" || key == "variants";
    bool nested = key == "component" || key == "components";
    bool referenced = in_pedigree || pedigree_list;
    Role r = pedigree_list || nested ? (referenced ? Role::kReferenced : Role::kComponent) : Role::kNone;
    each_component(sub, path + "/" + escape_token(key), r, referenced || key == "pedigree", out);
  }
}

void check_beyond_schema(const json& doc, BomValidation* out) {
  RefIndex idx;
  collect_bom_refs(doc, "", &idx, out);
  check_references(doc, idx, out);
  check_hashes(doc, "", out);
  each_component(doc, "", Role::kNone, false, out);
}

/// valijson's summaries that only repeat a child error one level up.
bool is_propagated(const std::string& msg) {
  return msg.rfind("failed to validate against schema associated with property name", 0) == 0 ||
         msg.rfind("failed to validate against child schema #", 0) == 0 ||
         (msg.rfind("failed to validate item #", 0) == 0 &&
          (msg.find(" in array") != std::string::npos || msg.find("against corresponding item schema") != std::string::npos));
}

void run_schema(const CompiledSchema& cs, const json& doc, BomValidation* out) {
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  validator.validate(cs.schema, target, &results);
  std::set<std::pair<std::string, std::string>> seen;
  valijson::ValidationResults::Error e;
  while (results.popError(e)) {
    std::string path = pointer_of(e.context);
    std::string msg = lower_first(e.description);
    if (is_propagated(msg)) continue;
    if (msg.find("enum") != std::string::npos || msg.find("match pattern") != std::string::npos ||
        msg.find("not a valid") != std::string::npos)
      msg += value_hint(doc, path);
    if (seen.emplace(path, msg).second) out->schema_errors.push_back({path, msg});
  }
}

}  // namespace

const std::vector<std::string>& supported_spec_versions() {
  static const std::vector<std::string> kVersions = {"1.4", "1.5", "1.6", "1.7"};
  return kVersions;
}

bool parse_bom(std::string_view bytes, const std::string& path, nlohmann::json* doc, Error* err) {
  if (bytes.size() > kMaxBomBytes)
    return fail(err, path, std::nullopt,
                "document of " + human_bytes(bytes.size()) + " exceeds the " + human_bytes(kMaxBomBytes) + " cap");
  if (size_t at = too_deep_at(bytes); at != std::string_view::npos)
    return fail(err, path, at,
                "nesting deeper than " + std::to_string(kMaxBomDepth) + " levels at " + line_column(bytes, at));
  try {
    *doc = json::parse(bytes);
  } catch (const json::parse_error& e) {
    size_t off = e.byte > 0 ? e.byte - 1 : 0;
    return fail(err, path, off, "malformed JSON at " + line_column(bytes, off) + ": " + parse_reason(e.what()));
  } catch (const json::exception& e) {
    return fail(err, path, std::nullopt, "malformed JSON: " + parse_reason(e.what()));
  }
  return true;
}

bool read_bom_file(const std::string& path, nlohmann::json* doc, Error* err) {
  std::unique_ptr<MappedFile> file = MappedFile::open(path, err);
  if (!file) return false;
  return parse_bom(file->view(), path, doc, err);
}

bool validate_bom(const nlohmann::json& doc, const std::string& path, BomValidation* out, Error* err) {
  *out = BomValidation{};
  if (!doc.is_object()) return fail(err, path, std::nullopt, "root is " + std::string(doc.type_name()) + ", not an object");
  auto sv = doc.find("specVersion");
  if (sv == doc.end()) return fail(err, path, std::nullopt, "/specVersion is missing");
  if (!sv->is_string()) return fail(err, path, std::nullopt, "/specVersion is " + std::string(sv->type_name()) + ", not a string");
  out->spec_version = sv->get<std::string>();
  if (!schema_files().count(out->spec_version))
    return fail(err, path, std::nullopt,
                "/specVersion " + sv->dump() + " is not supported (supported: 1.4, 1.5, 1.6, 1.7)");
  const CompiledSchema* cs = compiled_schema(out->spec_version, err);
  if (!cs) return false;
  // Copy only when there is a signature to take out (bounded memory on big BOMs).
  json stripped;
  if (has_signature(doc)) {
    stripped = doc;
    strip_signatures(&stripped, "", &out->signatures);
  }
  const json& target = out->signatures.empty() ? doc : stripped;
  try {
    run_schema(*cs, target, out);
  } catch (const std::exception& e) {
    return fail(err, path, std::nullopt, std::string("schema validation failed: ") + e.what());
  }
  check_beyond_schema(target, out);
  return true;
}

}  // namespace pedigree
