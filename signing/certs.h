// This file implements the X.509 side of the certificate method: loading PEM
// certificate files, decoding the bundle's DER certificates, building and
// checking the chain leaf -> intermediates -> trusted root with OpenSSL's
// X509_STORE, and the reference implementation's signing-usage rule.
#pragma once

#include <openssl/types.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/error.h"
#include "signing/keys.h"

namespace pedigree {

/// Frees an X509.
struct X509Free {
  void operator()(X509* c) const;
};
using CertPtr = std::unique_ptr<X509, X509Free>;

/// Most certificates read from one PEM file or one bundle.
inline constexpr size_t kMaxCertificates = 16;

/// Reads every certificate of a PEM file (at least one).
bool load_pem_certificates(const std::string& path, std::vector<CertPtr>* out, Error* err);

/// Decodes one DER certificate; false when the bytes are not exactly one certificate.
bool certificate_from_der(std::string_view der, CertPtr* out);

/// DER encoding of a certificate.
std::string certificate_der(const X509* cert);

/// One-line RFC 2253 name, e.g. "CN=leaf,O=Example"; "(empty name)" when empty.
std::string certificate_name(const X509_NAME* name);

/// One-line subject, e.g. "CN=leaf,O=Example".
std::string certificate_subject(const X509* cert);

/// The certificate's notBefore as a Unix time.
std::optional<time_t> certificate_not_before(const X509* cert);

/// The certificate's public key, checked to be a supported type.
bool certificate_key(const X509* cert, const std::string& label, Key* out, Error* err);

/// Builds and checks the chain from `leaf` through `untrusted` to one of
/// `roots` at time `at`. CA certificates must be CAs with keyCertSign (OpenSSL
/// default rules); no partial chains. On failure `why` names the certificate
/// and the OpenSSL reason. `partial_chain` lets a non-self-signed certificate
/// in `roots` end the chain (Sigstore trusted roots may list intermediates).
bool verify_certificate_chain(X509* leaf, const std::vector<X509*>& untrusted, const std::vector<X509*>& roots,
                              time_t at, std::string* why, bool partial_chain = false);

/// The reference rule: the leaf may sign when its key usage has
/// digitalSignature, or else its extended key usage has codeSigning.
bool certificate_can_sign(const X509* leaf, std::string* why);

/// The JSF signing rule: the leaf's key usage, when the extension is present,
/// must include digitalSignature (RFC 5280: no extension, no restriction).
bool certificate_has_digital_signature(const X509* leaf, std::string* why);

/// The issuers of `leaf` found in `pool`, nearest first (each names and has
/// signed the one before it), stopping at a self-signed certificate (left out) or after
/// kMaxCertificates - 1 links. Pointers into `pool`.
std::vector<X509*> issuers_from_pool(X509* leaf, const std::vector<X509*>& pool);

}  // namespace pedigree
