// This file implements the libFuzzer target for JSF verification: bytes ->
// parse_bom -> jsf_verify (signature object parsing in all three forms,
// excludes/extensions, JWK and certificatePath import, RFC 8785
// canonicalization, signature checks), once without trust and once with the
// document's own first certificate as root (chain building). Must never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sbom/validate.h"
#include "signing/certs.h"
#include "signing/jsf.h"

namespace {

// The first certificatePath element of the top-level or first signers/chain object, if any.
pedigree::CertPtr first_certificate(const nlohmann::json& doc) {
  pedigree::CertPtr cert;
  const nlohmann::json* sig = doc.is_object() && doc.contains("signature") ? &doc["signature"] : nullptr;
  if (!sig || !sig->is_object()) return cert;
  for (const char* list : {"signers", "chain"})
    if (sig->contains(list) && (*sig)[list].is_array() && !(*sig)[list].empty()) sig = &(*sig)[list][0];
  if (!sig->is_object() || !sig->contains("certificatePath")) return cert;
  const nlohmann::json& path = (*sig)["certificatePath"];
  std::string der;
  if (path.is_array() && !path.empty() && path[0].is_string() &&
      pedigree::base64url_decode(path[0].get<std::string>(), &der))
    (void)pedigree::certificate_from_der(der, &cert);
  return cert;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc;
  pedigree::Error err;
  if (!pedigree::parse_bom(bytes, "fuzz.json", &doc, &err)) return 0;
  pedigree::JsfReport r;
  if (!pedigree::jsf_verify(doc, nullptr, &r, &err)) return 0;
  pedigree::CertPtr root = first_certificate(doc);
  if (!root) return 0;
  pedigree::JsfTrust trust;
  trust.roots.push_back(root.get());
  trust.at = 1700000000;
  (void)pedigree::jsf_verify(doc, trust, &r, &err);
  return 0;
}
