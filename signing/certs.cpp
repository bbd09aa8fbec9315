// This file implements certificate loading and chain verification (see
// certs.h). All OpenSSL objects are owned by unique_ptrs; the OpenSSL error
// queue is cleared after every call that may fill it.
#include "signing/certs.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>

namespace pedigree {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};

}  // namespace

void X509Free::operator()(X509* c) const { X509_free(c); }

bool load_pem_certificates(const std::string& path, std::vector<CertPtr>* out, Error* err) {
  std::string pem;
  if (!read_small_file(path, kMaxKeyFileBytes, "certificate file", &pem, err)) return false;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  out->clear();
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out->emplace_back(c);
    if (out->size() > kMaxCertificates)
      return fail(err, path, std::nullopt, "more than " + std::to_string(kMaxCertificates) + " certificates");
  }
  ERR_clear_error();
  if (out->empty()) return fail(err, path, std::nullopt, "no PEM certificate found");
  return true;
}

bool certificate_from_der(std::string_view der, CertPtr* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* c = d2i_X509(nullptr, &p, long(der.size()));
  ERR_clear_error();
  if (!c) return false;
  out->reset(c);
  return p == reinterpret_cast<const unsigned char*>(der.data()) + der.size();
}

std::string certificate_der(const X509* cert) {
  unsigned char* buf = nullptr;
  int n = i2d_X509(cert, &buf);
  if (n <= 0) return {};
  std::string out(reinterpret_cast<char*>(buf), size_t(n));
  OPENSSL_free(buf);
  return out;
}

std::string certificate_name(const X509_NAME* name) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, size_t(n)) : std::string("(empty name)");
}

std::string certificate_subject(const X509* cert) { return certificate_name(X509_get_subject_name(cert)); }

std::optional<time_t> certificate_not_before(const X509* cert) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm) != 1) return std::nullopt;
  return timegm(&tm);
}

bool certificate_key(const X509* cert, const std::string& label, Key* out, Error* err) {
  EVP_PKEY* pkey = X509_get_pubkey(const_cast<X509*>(cert));
  if (!pkey) return fail(err, label, std::nullopt, "certificate has no usable public key");
  return key_from_pkey(pkey, label, out, err);
}

bool verify_certificate_chain(X509* leaf, const std::vector<X509*>& untrusted, const std::vector<X509*>& roots,
                              time_t at, std::string* why, bool partial_chain) {
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  for (X509* r : roots) X509_STORE_add_cert(store.get(), r);
  std::unique_ptr<STACK_OF(X509), StackFree> chain(sk_X509_new_null());
  for (X509* c : untrusted) sk_X509_push(chain.get(), c);
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!store || !chain || !ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, chain.get()) != 1) {
    *why = "cannot set up certificate verification";
    ERR_clear_error();
    return false;
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, at);
  if (partial_chain) X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN);
  int ok = X509_verify_cert(ctx.get());
  ERR_clear_error();
  if (ok == 1) return true;
  int code = X509_STORE_CTX_get_error(ctx.get());
  X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
  *why = X509_verify_cert_error_string(code);
  if (bad) *why += " (certificate " + certificate_subject(bad) + ")";
  return false;
}

bool certificate_can_sign(const X509* leaf, std::string* why) {
  X509* c = const_cast<X509*>(leaf);
  uint32_t ku = X509_get_key_usage(c);
  uint32_t xku = X509_get_extended_key_usage(c);
  bool has_ku = X509_get_extension_flags(c) & EXFLAG_KUSAGE;
  bool has_xku = X509_get_extension_flags(c) & EXFLAG_XKUSAGE;
  if (has_ku && (ku & KU_DIGITAL_SIGNATURE)) return true;
  if (has_xku && (xku & XKU_CODE_SIGN)) return true;
  *why = "signing certificate " + certificate_subject(leaf) +
         " cannot be used for signing: key usage lacks digitalSignature and extended key usage lacks codeSigning";
  return false;
}

bool certificate_has_digital_signature(const X509* leaf, std::string* why) {
  X509* c = const_cast<X509*>(leaf);
  bool has_ku = X509_get_extension_flags(c) & EXFLAG_KUSAGE;
  if (!has_ku || (X509_get_key_usage(c) & KU_DIGITAL_SIGNATURE)) return true;
  *why = "certificate " + certificate_subject(leaf) + " key usage lacks digitalSignature";
  return false;
}

namespace {
bool self_signed(X509* c) { return X509_check_issued(c, c) == X509_V_OK; }

// `issuer` names and signed `c`.
bool issued(X509* issuer, X509* c) {
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  bool ok = issuer != c && key && X509_check_issued(issuer, c) == X509_V_OK && X509_verify(c, key) == 1;
  ERR_clear_error();
  return ok;
}
}  // namespace

std::vector<X509*> issuers_from_pool(X509* leaf, const std::vector<X509*>& pool) {
  std::vector<X509*> path;
  X509* cur = leaf;
  while (path.size() + 1 < kMaxCertificates && !self_signed(cur)) {
    X509* next = nullptr;
    for (X509* c : pool)
      if (!next && issued(c, cur) && std::find(path.begin(), path.end(), c) == path.end()) next = c;
    if (!next || self_signed(next)) break;
    path.push_back(next);
    cur = next;
  }
  ERR_clear_error();
  return path;
}

}  // namespace pedigree
