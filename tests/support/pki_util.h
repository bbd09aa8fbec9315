// This file implements test helpers for the signing tests: generating keys of
// every supported type with OpenSSL's EVP APIs and small X.509 hierarchies
// (root CA, intermediate, leaf with chosen usages and validity) in code.
#pragma once

#include <string>
#include <utility>

#include "signing/keys.h"

namespace pedigree::test {

/// A generated key as PEM text.
struct TestKey {
  std::string private_pem;  ///< PKCS#8, encrypted with AES-256-CBC when a password was given
  std::string public_pem;
};

/// Generates a key of `type`; `password` non-empty encrypts the private PEM.
TestKey make_key(KeyType type, const std::string& password = "");

/// An RSA-2048 key (unsupported type) as private PEM.
std::string make_rsa_key_pem();

/// How to make a test certificate.
struct CertSpec {
  CertSpec(std::string cn_, bool ca_ = false, std::string key_usage_ = "critical,digitalSignature",
           std::string ext_key_usage_ = "", long not_before_days_ = -1, long not_after_days_ = 365)
      : cn(std::move(cn_)), ca(ca_), key_usage(std::move(key_usage_)), ext_key_usage(std::move(ext_key_usage_)),
        not_before_days(not_before_days_), not_after_days(not_after_days_) {}
  std::string cn;
  bool ca;
  std::string key_usage;      ///< X509v3 config text; empty for none
  std::string ext_key_usage;  ///< e.g. "codeSigning"; empty for none
  long not_before_days;       ///< relative to now
  long not_after_days;
};

/// A certificate and its key as PEM.
struct TestCert {
  std::string cert_pem;
  TestKey key;
};

/// Makes a certificate for a fresh P-256 key (or `key_type`), signed by
/// `issuer` (self-signed when null).
TestCert make_cert(const CertSpec& spec, const TestCert* issuer, KeyType key_type = KeyType::kP256);

/// A root CA, an intermediate CA and a code-signing leaf under them.
struct TestPki {
  TestCert root, intermediate, leaf;
};
TestPki make_pki(KeyType leaf_type = KeyType::kP256);

}  // namespace pedigree::test
