// This file implements key loading, signing and verification through
// OpenSSL's EVP interface (see keys.h). Key material is kept in memory only
// as long as needed and wiped afterwards; errors never quote it.
#include "signing/keys.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <fstream>

#include "fingerprint/digest.h"

namespace pedigree {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

struct PasswordState {
  const std::optional<std::string>* password;
  bool asked = false;
};

int password_cb(char* buf, int size, int /*rwflag*/, void* u) {
  auto* st = static_cast<PasswordState*>(u);
  st->asked = true;
  if (!st->password->has_value()) return -1;
  const std::string& pw = **st->password;
  if (pw.size() > size_t(size)) return -1;
  std::memcpy(buf, pw.data(), pw.size());
  return int(pw.size());
}

const EVP_MD* ecdsa_digest(KeyType t) {
  switch (t) {
    case KeyType::kP256: return EVP_sha256();
    case KeyType::kP384: return EVP_sha384();
    case KeyType::kP521: return EVP_sha512();
    case KeyType::kEd25519: return nullptr;
  }
  return nullptr;
}

void wipe(std::string* s) {
  if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
  s->clear();
}

}  // namespace

void PkeyFree::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

std::string_view key_type_name(KeyType t) {
  switch (t) {
    case KeyType::kP256: return "ECDSA P-256";
    case KeyType::kP384: return "ECDSA P-384";
    case KeyType::kP521: return "ECDSA P-521";
    case KeyType::kEd25519: return "Ed25519";
  }
  return "?";
}

bool reference_accepts(KeyType t) { return t != KeyType::kEd25519; }

bool read_small_file(const std::string& path, uint64_t cap, const char* what, std::string* out, Error* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(err, path, std::nullopt, std::string("cannot read ") + what);
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) return fail(err, path, std::nullopt, std::string("cannot read ") + what);
  if (uint64_t(size) > cap)
    return fail(err, path, std::nullopt,
                std::string(what) + " is " + human_bytes(uint64_t(size)) + ", larger than the " + human_bytes(cap) +
                    " cap");
  out->assign(size_t(size), '\0');
  in.seekg(0);
  if (!in.read(out->data(), size)) return fail(err, path, std::nullopt, std::string("cannot read ") + what);
  return true;
}

bool key_from_pkey(EVP_PKEY* pkey, const std::string& path, Key* out, Error* err) {
  out->pkey.reset(pkey);
  int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_ED25519) {
    out->type = KeyType::kEd25519;
    return true;
  }
  if (id != EVP_PKEY_EC)
    return fail(err, path, std::nullopt,
                std::string("unsupported key type ") + OBJ_nid2sn(id) + " (ECDSA P-256, P-384, P-521 or Ed25519)");
  char group[64] = {0};
  size_t len = 0;
  if (!EVP_PKEY_get_group_name(pkey, group, sizeof group, &len))
    return fail(err, path, std::nullopt, "elliptic curve key without a named curve");
  std::string g(group, len);
  if (g == "prime256v1" || g == "P-256") out->type = KeyType::kP256;
  else if (g == "secp384r1" || g == "P-384") out->type = KeyType::kP384;
  else if (g == "secp521r1" || g == "P-521") out->type = KeyType::kP521;
  else return fail(err, path, std::nullopt, "unsupported curve " + g + " (P-256, P-384 or P-521)");
  return true;
}

bool load_any_private_key(const std::string& path, const std::optional<std::string>& password, PkeyPtr* out,
                          Error* err) {
  std::string pem;
  if (!read_small_file(path, kMaxKeyFileBytes, "private key file", &pem, err)) return false;
  BioPtr bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  PasswordState st{&password};
  ERR_clear_error();
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, password_cb, &st);
  ERR_clear_error();
  wipe(&pem);
  if (!pkey) {
    if (st.asked && !password)
      return fail(err, path, std::nullopt,
                  "private key is encrypted; give --password-file or set PEDIGREE_KEY_PASSWORD");
    if (st.asked) return fail(err, path, std::nullopt, "cannot decrypt private key (wrong password?)");
    return fail(err, path, std::nullopt, "not a PEM private key");
  }
  out->reset(pkey);
  return true;
}

bool load_any_public_key(const std::string& path, PkeyPtr* out, Error* err) {
  std::string bytes;
  if (!read_small_file(path, kMaxKeyFileBytes, "public key file", &bytes, err)) return false;
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(bytes.data(), int(bytes.size())));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (!pkey) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    pkey = d2i_PUBKEY(nullptr, &p, long(bytes.size()));
  }
  ERR_clear_error();
  if (!pkey) return fail(err, path, std::nullopt, "not a PEM or DER public key");
  out->reset(pkey);
  return true;
}

bool load_private_key(const std::string& path, const std::optional<std::string>& password, Key* out,
                      Error* err) {
  PkeyPtr pkey;
  if (!load_any_private_key(path, password, &pkey, err)) return false;
  return key_from_pkey(pkey.release(), path, out, err);
}

bool load_public_key(const std::string& path, Key* out, Error* err) {
  PkeyPtr pkey;
  if (!load_any_public_key(path, &pkey, err)) return false;
  return key_from_pkey(pkey.release(), path, out, err);
}

bool public_key_from_der(std::string_view der, const std::string& label, Key* out, Error* err) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, long(der.size()));
  ERR_clear_error();
  if (!pkey) return fail(err, label, std::nullopt, "not a DER public key");
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    EVP_PKEY_free(pkey);
    return fail(err, label, std::nullopt, "trailing bytes after the DER public key");
  }
  return key_from_pkey(pkey, label, out, err);
}

bool sign_message(const Key& key, std::string_view message, std::string* signature, Error* err) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, ecdsa_digest(key.type), nullptr, key.pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, msg, message.size()) != 1) {
    ERR_clear_error();
    return fail(err, "", std::nullopt, "signing failed");
  }
  signature->assign(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature->data()), &len, msg, message.size()) !=
      1) {
    ERR_clear_error();
    return fail(err, "", std::nullopt, "signing failed");
  }
  signature->resize(len);
  return true;
}

bool verify_message(const Key& key, std::string_view message, std::string_view signature, bool legacy_sha256) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const EVP_MD* md = ecdsa_digest(key.type);
  if (legacy_sha256 && md) md = EVP_sha256();
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.pkey.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::string public_key_pem(const Key& key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.pkey.get()) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size_t(n));
}

std::string public_key_hint(const Key& key) {
  return to_hex(digest_bytes(HashAlgorithm::kSha256, public_key_pem(key)));
}

bool same_public_key(const Key& a, const Key& b) { return EVP_PKEY_eq(a.pkey.get(), b.pkey.get()) == 1; }

}  // namespace pedigree
