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
  if (vm.contains("certificate"))
    return reject(err, path, "bundle is a Sigstore keyless signature (verificationMaterial.certificate); "
                             "only the key and certificate methods are supported");
  return reject(err, path, "verificationMaterial has neither publicKey nor x509CertificateChain");
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
  return decode_field((*sigs)[0], "sig", "signature 0", path, &out->signature, err);
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
