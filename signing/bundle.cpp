// This file implements reading and writing Sigstore bundle v0.3 JSON for the
// OMS key and certificate methods (see bundle.h). nlohmann exceptions are
// caught and turned into errors with the byte offset of the problem.
#include "signing/bundle.h"

#include <nlohmann/json.hpp>

#include "signing/certs.h"
#include "signing/encoding.h"
#include "signing/keys.h"

namespace pedigree {
namespace {

using nlohmann::json;

BundleStatus reject(Error* err, const std::string& path, std::string msg) {
  fail(err, path, std::nullopt, std::move(msg));
  return BundleStatus::kRejected;
}

BundleStatus unreadable(Error* err, const std::string& path, std::optional<uint64_t> off, std::string msg) {
  fail(err, path, off, std::move(msg));
  return BundleStatus::kUnreadable;
}

// Returns the string member `key` of `obj`, or nullptr when absent or not a string.
const std::string* string_member(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

BundleStatus decode_field(const json& obj, const char* key, const char* where, const std::string& path,
                          std::string* out, Error* err) {
  const std::string* s = string_member(obj, key);
  if (!s) return reject(err, path, std::string(where) + " has no " + key + " string");
  if (!base64_decode(*s, out)) return reject(err, path, std::string(where) + "." + key + " is not valid base64");
  return BundleStatus::kOk;
}

BundleStatus parse_chain(const json& chain, const std::string& path, Bundle* out, Error* err) {
  auto certs = chain.find("certificates");
  if (certs == chain.end() || !certs->is_array() || certs->empty())
    return reject(err, path, "x509CertificateChain has no certificates");
  if (certs->size() > kMaxCertificates)
    return reject(err, path, "x509CertificateChain has " + std::to_string(certs->size()) +
                                 " certificates, more than the cap of " + std::to_string(kMaxCertificates));
  for (size_t i = 0; i < certs->size(); ++i) {
    const json& c = (*certs)[i];
    std::string where = "certificate " + std::to_string(i);
    if (!c.is_object()) return reject(err, path, where + " is not an object");
    std::string der;
    if (auto st = decode_field(c, "rawBytes", where.c_str(), path, &der, err); st != BundleStatus::kOk) return st;
    CertPtr parsed;
    if (!certificate_from_der(der, &parsed)) return reject(err, path, where + " is not a DER X.509 certificate");
    out->certificates.push_back(std::move(der));
  }
  out->material = BundleMaterial::kCertificateChain;
  return BundleStatus::kOk;
}

// A protobuf-JSON int64: a decimal string (or a plain JSON number).
bool int_member(const json& obj, const char* key, uint64_t* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return false;
  if (it->is_number_unsigned()) return *out = it->get<uint64_t>(), true;
  if (!it->is_string()) return false;
  const std::string& s = it->get_ref<const std::string&>();
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  *out = std::stoull(s);
  return true;
}

BundleStatus parse_proof(const json& p, const std::string& where, const std::string& path, InclusionProof* out,
                         Error* err) {
  if (!p.is_object()) return reject(err, path, where + ".inclusionProof is not an object");
  if (!int_member(p, "logIndex", &out->log_index) || !int_member(p, "treeSize", &out->tree_size))
    return reject(err, path, where + ".inclusionProof needs logIndex and treeSize integers");
  if (auto st = decode_field(p, "rootHash", (where + ".inclusionProof").c_str(), path, &out->root_hash, err);
      st != BundleStatus::kOk)
    return st;
  auto hashes = p.find("hashes");
  if (hashes == p.end() || !hashes->is_array()) return reject(err, path, where + ".inclusionProof has no hashes array");
  if (hashes->size() > kMaxProofHashes)
    return reject(err, path, where + ".inclusionProof has " + std::to_string(hashes->size()) +
                                 " hashes, more than the cap of " + std::to_string(kMaxProofHashes));
  for (const json& h : *hashes) {
    std::string raw;
    if (!h.is_string() || !base64_decode(h.get_ref<const std::string&>(), &raw))
      return reject(err, path, where + ".inclusionProof.hashes holds a value that is not base64");
    out->hashes.push_back(std::move(raw));
  }
  auto cp = p.find("checkpoint");
  if (cp != p.end() && cp->is_object())
    if (const std::string* env = string_member(*cp, "envelope")) out->checkpoint = *env;
  return BundleStatus::kOk;
}

BundleStatus parse_tlog_entry(const json& e, const std::string& where, const std::string& path, TlogEntry* out,
                              Error* err) {
  if (!e.is_object()) return reject(err, path, where + " is not an object");
  uint64_t t = 0;
  if (!int_member(e, "logIndex", &out->log_index) || !int_member(e, "integratedTime", &t))
    return reject(err, path, where + " needs logIndex and integratedTime integers");
  out->integrated_time = int64_t(t);
  auto id = e.find("logId");
  if (id == e.end() || !id->is_object()) return reject(err, path, where + " has no logId object");
  if (auto st = decode_field(*id, "keyId", (where + ".logId").c_str(), path, &out->log_id, err); st != BundleStatus::kOk)
    return st;
  auto kv = e.find("kindVersion");
  const std::string* kind = kv != e.end() && kv->is_object() ? string_member(*kv, "kind") : nullptr;
  const std::string* version = kind ? string_member(*kv, "version") : nullptr;
  if (!kind || !version) return reject(err, path, where + " has no kindVersion kind and version strings");
  out->kind = *kind;
  out->version = *version;
  if (auto st = decode_field(e, "canonicalizedBody", where.c_str(), path, &out->body, err); st != BundleStatus::kOk)
    return st;
  if (auto pr = e.find("inclusionPromise"); pr != e.end()) {
    if (!pr->is_object()) return reject(err, path, where + ".inclusionPromise is not an object");
    if (auto st = decode_field(*pr, "signedEntryTimestamp", (where + ".inclusionPromise").c_str(), path, &out->set, err);
        st != BundleStatus::kOk)
      return st;
    out->has_set = true;
  }
  if (auto pf = e.find("inclusionProof"); pf != e.end()) {
    out->has_proof = true;
    return parse_proof(*pf, where, path, &out->proof, err);
  }
  return BundleStatus::kOk;
}

BundleStatus parse_timestamps(const json& vm, const std::string& path, Bundle* out, Error* err) {
  auto tvd = vm.find("timestampVerificationData");
  if (tvd == vm.end() || !tvd->is_object()) return BundleStatus::kOk;
  auto list = tvd->find("rfc3161Timestamps");
  if (list == tvd->end()) return BundleStatus::kOk;
  if (!list->is_array() || list->size() > kMaxTlogEntries)
    return reject(err, path, "rfc3161Timestamps is not an array of at most " + std::to_string(kMaxTlogEntries));
  for (size_t i = 0; i < list->size(); ++i) {
    std::string where = "rfc3161Timestamps[" + std::to_string(i) + "]", der;
    if (!(*list)[i].is_object()) return reject(err, path, where + " is not an object");
    if (auto st = decode_field((*list)[i], "signedTimestamp", where.c_str(), path, &der, err); st != BundleStatus::kOk)
      return st;
    out->rfc3161.push_back(std::move(der));
  }
  return BundleStatus::kOk;
}

// Keyless material: one Fulcio certificate, the tlog entries and timestamps.
BundleStatus parse_keyless(const json& vm, const std::string& path, Bundle* out, Error* err) {
  if (!vm.at("certificate").is_object()) return reject(err, path, "verificationMaterial.certificate is not an object");
  std::string der;
  if (auto st = decode_field(vm.at("certificate"), "rawBytes", "certificate", path, &der, err); st != BundleStatus::kOk)
    return st;
  CertPtr parsed;
  if (!certificate_from_der(der, &parsed)) return reject(err, path, "certificate is not a DER X.509 certificate");
  out->certificates.push_back(std::move(der));
  out->material = BundleMaterial::kCertificate;
  auto entries = vm.find("tlogEntries");
  if (entries != vm.end()) {
    if (!entries->is_array()) return reject(err, path, "tlogEntries is not an array");
    if (entries->size() > kMaxTlogEntries)
      return reject(err, path, "tlogEntries has " + std::to_string(entries->size()) + " entries, more than the cap of " +
                                   std::to_string(kMaxTlogEntries));
    for (size_t i = 0; i < entries->size(); ++i) {
      TlogEntry e;
      std::string where = "tlogEntries[" + std::to_string(i) + "]";
      if (auto st = parse_tlog_entry((*entries)[i], where, path, &e, err); st != BundleStatus::kOk) return st;
      out->tlog_entries.push_back(std::move(e));
    }
  }
  return parse_timestamps(vm, path, out, err);
}

BundleStatus parse_material(const json& vm, const std::string& path, Bundle* out, Error* err) {
  if (!vm.is_object()) return reject(err, path, "bundle has no verificationMaterial object");
  if (auto pk = vm.find("publicKey"); pk != vm.end() && pk->is_object()) {
    out->material = BundleMaterial::kPublicKey;
    if (const std::string* h = string_member(*pk, "hint")) out->key_hint = *h;
    if (pk->contains("rawBytes"))
      return decode_field(*pk, "rawBytes", "publicKey", path, &out->key_raw, err);
    return BundleStatus::kOk;
  }
  if (auto ch = vm.find("x509CertificateChain"); ch != vm.end() && ch->is_object())
    return parse_chain(*ch, path, out, err);
  if (vm.contains("certificate")) return parse_keyless(vm, path, out, err);
  return reject(err, path, "verificationMaterial has neither publicKey, x509CertificateChain nor certificate");
}

BundleStatus parse_envelope(const json& env, const std::string& path, Bundle* out, Error* err) {
  if (!env.is_object())
    return reject(err, path, "bundle has no dsseEnvelope (message signatures are not supported)");
  const std::string* type = string_member(env, "payloadType");
  if (!type) return reject(err, path, "dsseEnvelope has no payloadType string");
  if (*type != kInTotoPayloadType)
    return reject(err, path, "payload type '" + *type + "' is not " + kInTotoPayloadType);
  out->payload_type = *type;
  if (auto st = decode_field(env, "payload", "dsseEnvelope", path, &out->payload, err); st != BundleStatus::kOk)
    return st;
  auto sigs = env.find("signatures");
  if (sigs == env.end() || !sigs->is_array() || sigs->empty())
    return reject(err, path, "dsseEnvelope has no signatures");
  if (sigs->size() != 1)
    return reject(err, path, "dsseEnvelope has " + std::to_string(sigs->size()) +
                                 " signatures; exactly one is supported");
  if (!(*sigs)[0].is_object()) return reject(err, path, "signature 0 is not an object");
  if (auto st = decode_field((*sigs)[0], "sig", "signature 0", path, &out->signature, err); st != BundleStatus::kOk)
    return st;
  return BundleStatus::kOk;
}

BundleStatus parse_document(const json& j, const std::string& path, Bundle* out, Error* err) {
  if (!j.is_object()) return reject(err, path, "bundle is not a JSON object");
  const std::string* media = string_member(j, "mediaType");
  if (!media) return reject(err, path, "bundle has no mediaType string");
  if (*media != kBundleMediaType)
    return reject(err, path, "media type '" + *media + "' is not " + kBundleMediaType);
  out->media_type = *media;
  auto env = j.find("dsseEnvelope");
  if (auto st = parse_envelope(env == j.end() ? json() : *env, path, out, err); st != BundleStatus::kOk) return st;
  auto vm = j.find("verificationMaterial");
  return parse_material(vm == j.end() ? json() : *vm, path, out, err);
}

}  // namespace

BundleStatus parse_bundle(std::string_view text, const std::string& path, Bundle* out, Error* err) {
  *out = Bundle();
  if (text.empty()) return unreadable(err, path, std::nullopt, "signature file is empty");
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    uint64_t at = e.byte > 0 ? e.byte - 1 : 0;
    if (e.byte > text.size()) return unreadable(err, path, text.size(), "bundle is truncated (JSON ends early)");
    return unreadable(err, path, at, "bundle is not JSON");
  } catch (const json::exception&) {
    return unreadable(err, path, std::nullopt, "bundle is not JSON");
  }
  try {
    return parse_document(j, path, out, err);
  } catch (const json::exception&) {
    return reject(err, path, "bundle has an unexpected structure");
  }
}

BundleStatus read_bundle(const std::string& path, Bundle* out, Error* err) {
  std::string text;
  if (!read_small_file(path, kMaxBundleBytes, "signature file", &text, err)) return BundleStatus::kUnreadable;
  return parse_bundle(text, path, out, err);
}

std::string bundle_text(const Bundle& b) {
  nlohmann::ordered_json vm;
  if (b.material == BundleMaterial::kPublicKey) {
    vm["publicKey"] = {{"hint", b.key_hint}};
  } else {
    nlohmann::ordered_json certs = nlohmann::ordered_json::array();
    for (const std::string& der : b.certificates) certs.push_back({{"rawBytes", base64_encode(der)}});
    vm["x509CertificateChain"] = {{"certificates", certs}};
  }
  vm["tlogEntries"] = nlohmann::ordered_json::array();
  nlohmann::ordered_json sig = {{"sig", base64_encode(b.signature)}, {"keyid", ""}};
  nlohmann::ordered_json j;
  j["mediaType"] = b.media_type;
  j["verificationMaterial"] = vm;
  j["dsseEnvelope"] = {{"payload", base64_encode(b.payload)},
                       {"payloadType", b.payload_type},
                       {"signatures", nlohmann::ordered_json::array({sig})}};
  return j.dump(2) + "\n";
}

}  // namespace pedigree
