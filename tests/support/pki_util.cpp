// This file implements key and certificate generation for the signing tests
// (see pki_util.h).
#include "tests/support/pki_util.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace pedigree::test {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Del {
  void operator()(X509* c) const { X509_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string bio_text(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, size_t(n));
}

EVP_PKEY* generate(KeyType type) {
  switch (type) {
    case KeyType::kP256: return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    case KeyType::kP384: return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
    case KeyType::kP521: return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
    case KeyType::kEd25519: return EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  }
  return nullptr;
}

TestKey pem_of(EVP_PKEY* k, const std::string& password) {
  BioPtr priv(BIO_new(BIO_s_mem())), pub(BIO_new(BIO_s_mem()));
  const EVP_CIPHER* cipher = password.empty() ? nullptr : EVP_aes_256_cbc();
  PEM_write_bio_PKCS8PrivateKey(priv.get(), k, cipher, password.empty() ? nullptr : password.data(),
                                int(password.size()), nullptr, nullptr);
  PEM_write_bio_PUBKEY(pub.get(), k);
  return {bio_text(priv.get()), bio_text(pub.get())};
}

EVP_PKEY* read_private(const std::string& pem) {
  BioPtr b(BIO_new_mem_buf(pem.data(), int(pem.size())));
  return PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr);
}

X509* read_cert(const std::string& pem) {
  BioPtr b(BIO_new_mem_buf(pem.data(), int(pem.size())));
  return PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr);
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  if (value.empty()) return;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw std::runtime_error("bad extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

TestKey make_key(KeyType type, const std::string& password) {
  PkeyPtr k(generate(type));
  return pem_of(k.get(), password);
}

std::string make_rsa_key_pem() {
  PkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048)));
  return pem_of(k.get(), "").private_pem;
}

TestCert make_cert(const CertSpec& spec, const TestCert* issuer, KeyType key_type) {
  TestCert out;
  out.key = make_key(key_type);
  PkeyPtr key(read_private(out.key.private_pem));
  PkeyPtr signer(read_private(issuer ? issuer->key.private_pem : out.key.private_pem));
  std::unique_ptr<X509, X509Del> issuer_cert(issuer ? read_cert(issuer->cert_pem) : nullptr);
  std::unique_ptr<X509, X509Del> cert(X509_new());
  X509_set_version(cert.get(), 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before_days * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after_days * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), issuer_cert ? X509_get_subject_name(issuer_cert.get()) : name);
  X509* iss = issuer_cert ? issuer_cert.get() : cert.get();
  add_ext(cert.get(), iss, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_ext(cert.get(), iss, NID_key_usage, spec.key_usage);
  add_ext(cert.get(), iss, NID_ext_key_usage, spec.ext_key_usage);
  add_ext(cert.get(), iss, NID_subject_key_identifier, "hash");
  add_ext(cert.get(), iss, NID_authority_key_identifier, "keyid:always");
  const EVP_MD* md = EVP_PKEY_get_base_id(signer.get()) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  X509_sign(cert.get(), signer.get(), md);
  BioPtr b(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(b.get(), cert.get());
  out.cert_pem = bio_text(b.get());
  return out;
}

TestPki make_pki(KeyType leaf_type) {
  TestPki p;
  p.root = make_cert({"test-root", true, "critical,keyCertSign,cRLSign", "", -10, 3650}, nullptr);
  p.intermediate = make_cert({"test-intermediate", true, "critical,keyCertSign,cRLSign", "", -10, 3650}, &p.root);
  p.leaf = make_cert({"test-leaf", false, "critical,digitalSignature", "codeSigning", -1, 365}, &p.intermediate,
                     leaf_type);
  return p;
}

}  // namespace pedigree::test
