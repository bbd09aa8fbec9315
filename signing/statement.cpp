// This file implements building and reading the OMS in-toto statement (see
// statement.h). Reading checks every field the verifier relies on and names
// the first one that is missing or malformed.
#include "signing/statement.h"

#include <nlohmann/json.hpp>

namespace pedigree {
namespace {

using nlohmann::json;

std::string method_name(SerializationMethod m) { return m == SerializationMethod::kFiles ? "files" : "shards"; }

bool bad(Error* err, const std::string& path, const std::string& msg) {
  return fail(err, path, std::nullopt, "signed payload: " + msg);
}

bool parse_digest(const json& j, const std::string& where, const std::string& path, std::vector<uint8_t>* out,
                  Error* err) {
  if (!j.is_string() || j.get_ref<const std::string&>().empty() || !from_hex(j.get_ref<const std::string&>(), out))
    return bad(err, path, where + " is not a hex digest");
  return true;
}

bool parse_serialization(const json& s, const std::string& path, Statement* out, Error* err) {
  if (!s.is_object()) return bad(err, path, "predicate has no serialization object");
  auto method = s.find("method");
  if (method == s.end() || !method->is_string() || (*method != "files" && *method != "shards"))
    return bad(err, path, "serialization.method is not 'files' or 'shards'");
  out->options.method = *method == "files" ? SerializationMethod::kFiles : SerializationMethod::kShards;
  auto hash = s.find("hash_type");
  if (hash == s.end() || !hash->is_string()) return bad(err, path, "serialization.hash_type is missing");
  auto alg = algorithm_from_name(hash->get_ref<const std::string&>());
  if (!alg) return bad(err, path, "hash type '" + hash->get<std::string>() + "' is not supported (sha256 or blake2b)");
  out->options.algorithm = *alg;
  auto links = s.find("allow_symlinks");
  if (links == s.end() || !links->is_boolean()) return bad(err, path, "serialization.allow_symlinks is not a boolean");
  out->options.allow_symlinks = links->get<bool>();
  if (out->options.method == SerializationMethod::kShards) {
    auto size = s.find("shard_size");
    if (size == s.end() || !size->is_number_unsigned() || size->get<uint64_t>() == 0)
      return bad(err, path, "serialization.shard_size is not a positive integer");
    out->options.shard_size = size->get<uint64_t>();
  }
  if (auto ig = s.find("ignore_paths"); ig != s.end()) {
    if (!ig->is_array()) return bad(err, path, "serialization.ignore_paths is not an array");
    for (const json& p : *ig) {
      if (!p.is_string() || p.get_ref<const std::string&>().empty())
        return bad(err, path, "serialization.ignore_paths holds a non-string or empty entry");
      out->options.ignore_paths.push_back(p.get<std::string>());
    }
    out->records_ignore_paths = true;
  }
  return true;
}

bool parse_resources(const json& rs, const std::string& path, Statement* out, Error* err) {
  if (!rs.is_array()) return bad(err, path, "predicate has no resources array");
  if (rs.size() > kMaxSignedResources) return bad(err, path, "more than " + count_str(kMaxSignedResources) + " resources");
  std::string hash = std::string(algorithm_name(out->options.algorithm));
  for (size_t i = 0; i < rs.size(); ++i) {
    const json& r = rs[i];
    std::string where = "resource " + std::to_string(i);
    if (!r.is_object()) return bad(err, path, where + " is not an object");
    SignedResource res;
    auto name = r.find("name");
    if (name == r.end() || !name->is_string() || name->get_ref<const std::string&>().empty())
      return bad(err, path, where + " has no name");
    res.name = name->get<std::string>();
    auto alg = r.find("algorithm");
    if (alg == r.end() || !alg->is_string()) return bad(err, path, where + " (" + res.name + ") has no algorithm");
    res.algorithm = alg->get<std::string>();
    if (res.algorithm != hash)
      return bad(err, path, where + " (" + res.name + ") algorithm '" + res.algorithm + "' differs from hash_type '" +
                                hash + "'");
    if (!r.contains("digest")) return bad(err, path, where + " (" + res.name + ") has no digest");
    if (!parse_digest(r["digest"], where + " (" + res.name + ") digest", path, &res.digest, err)) return false;
    if (res.digest.size() != digest_size(out->options.algorithm))
      return bad(err, path, where + " (" + res.name + ") digest has " + std::to_string(res.digest.size()) +
                                " bytes, not " + std::to_string(digest_size(out->options.algorithm)));
    out->resources.push_back(std::move(res));
  }
  return true;
}

bool parse_subject(const json& subjects, const std::string& path, Statement* out, Error* err) {
  if (!subjects.is_array() || subjects.size() != 1) return bad(err, path, "statement does not have exactly one subject");
  const json& s = subjects[0];
  if (!s.is_object() || !s.contains("name") || !s["name"].is_string())
    return bad(err, path, "subject has no name");
  out->subject_name = s["name"].get<std::string>();
  if (!s.contains("digest") || !s["digest"].is_object() || !s["digest"].contains("sha256"))
    return bad(err, path, "subject has no sha256 digest");
  if (!parse_digest(s["digest"]["sha256"], "subject digest", path, &out->subject_digest, err)) return false;
  if (out->subject_digest.size() != 32) return bad(err, path, "subject digest is not 32 bytes");
  return true;
}

// v0.2.0: one subject per file, each with its sha256; the predicate is unused.
bool parse_legacy(const json& j, const std::string& path, Statement* out, Error* err) {
  out->legacy = true;
  if (!j.contains("subject") || !j["subject"].is_array()) return bad(err, path, "legacy statement has no subject array");
  const json& subjects = j["subject"];
  if (subjects.size() > kMaxSignedResources) return bad(err, path, "more than " + count_str(kMaxSignedResources) + " subjects");
  for (const json& s : subjects) {
    if (!s.is_object() || !s.contains("name") || !s["name"].is_string() || s["name"].get_ref<const std::string&>().empty())
      return bad(err, path, "legacy subject has no name");
    SignedResource r{s["name"].get<std::string>(), "sha256", {}};
    if (!s.contains("digest") || !s["digest"].is_object() || !s["digest"].contains("sha256"))
      return bad(err, path, "legacy subject " + r.name + " has no sha256 digest");
    if (!parse_digest(s["digest"]["sha256"], "legacy subject " + r.name + " digest", path, &r.digest, err)) return false;
    if (r.digest.size() != 32) return bad(err, path, "legacy subject " + r.name + " digest is not 32 bytes");
    out->resources.push_back(std::move(r));
  }
  return true;
}

bool parse_document(const json& j, const std::string& path, Statement* out, Error* err) {
  if (!j.is_object()) return bad(err, path, "statement is not a JSON object");
  if (!j.contains("_type") || !j["_type"].is_string()) return bad(err, path, "statement has no _type");
  if (j["_type"] != kStatementType)
    return bad(err, path, "statement type '" + j["_type"].get<std::string>() + "' is not " + kStatementType);
  if (!j.contains("predicateType") || !j["predicateType"].is_string())
    return bad(err, path, "statement has no predicateType");
  std::string ptype = j["predicateType"].get<std::string>();
  if (ptype == kLegacyPredicateType) return parse_legacy(j, path, out, err);
  if (ptype != kPredicateType) return bad(err, path, "predicate type '" + ptype + "' is not " + kPredicateType);
  if (!parse_subject(j.contains("subject") ? j["subject"] : json(), path, out, err)) return false;
  if (!j.contains("predicate") || !j["predicate"].is_object()) return bad(err, path, "statement has no predicate");
  const json& p = j["predicate"];
  if (!parse_serialization(p.contains("serialization") ? p["serialization"] : json(), path, out, err)) return false;
  return parse_resources(p.contains("resources") ? p["resources"] : json(), path, out, err);
}

}  // namespace

std::string statement_payload(const Manifest& m) {
  nlohmann::ordered_json serialization = {{"method", method_name(m.options.method)},
                                          {"hash_type", algorithm_name(m.options.algorithm)},
                                          {"allow_symlinks", m.options.allow_symlinks},
                                          {"ignore_paths", m.effective_ignore_paths}};
  if (m.options.method == SerializationMethod::kShards) serialization["shard_size"] = m.options.shard_size;
  nlohmann::ordered_json resources = nlohmann::ordered_json::array();
  for (const Resource& r : m.resources)
    resources.push_back({{"name", r.name}, {"algorithm", algorithm_name(m.options.algorithm)},
                         {"digest", to_hex(r.digest)}});
  nlohmann::ordered_json st;
  st["_type"] = kStatementType;
  st["subject"] = nlohmann::ordered_json::array(
      {{{"name", m.model_name}, {"digest", {{"sha256", to_hex(manifest_root(m.resources))}}}}});
  st["predicateType"] = kPredicateType;
  st["predicate"] = {{"serialization", serialization}, {"resources", resources}};
  return st.dump(2);
}

bool parse_statement(std::string_view payload, const std::string& path, Statement* out, Error* err) {
  *out = Statement();
  json j;
  try {
    j = json::parse(payload.begin(), payload.end());
  } catch (const json::exception&) {
    return bad(err, path, "not JSON");
  }
  try {
    return parse_document(j, path, out, err);
  } catch (const json::exception&) {
    return bad(err, path, "unexpected structure");
  }
}

}  // namespace pedigree
