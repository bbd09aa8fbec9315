// This file implements the EVP-backed Hasher, hex helpers and windowed hashing
// of mapped file ranges (8 MiB windows, released with MADV_DONTNEED).
#include "fingerprint/digest.h"

#include <openssl/evp.h>

namespace pedigree {
namespace {

constexpr uint64_t kWindowBytes = uint64_t{8} << 20;

const EVP_MD* md_for(HashAlgorithm a) {
  return a == HashAlgorithm::kSha256 ? EVP_sha256() : EVP_blake2b512();
}

}  // namespace

std::string_view algorithm_name(HashAlgorithm a) {
  return a == HashAlgorithm::kSha256 ? "sha256" : "blake2b";
}

std::optional<HashAlgorithm> algorithm_from_name(std::string_view name) {
  if (name == "sha256" || name == "sha-256") return HashAlgorithm::kSha256;
  if (name == "blake2b" || name == "blake2b-512" || name == "blake2b512") return HashAlgorithm::kBlake2b512;
  return std::nullopt;
}

size_t digest_size(HashAlgorithm a) { return a == HashAlgorithm::kSha256 ? 32 : 64; }

std::string to_hex(const uint8_t* p, size_t n) {
  static const char* hx = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = hx[p[i] >> 4];
    out[2 * i + 1] = hx[p[i] & 15];
  }
  return out;
}

bool from_hex(std::string_view hex, std::vector<uint8_t>* out) {
  if (hex.size() % 2) return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nib(hex[i]), lo = nib(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return true;
}

Hasher::Hasher(HashAlgorithm a) : ctx_(EVP_MD_CTX_new()), alg_(a) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), md_for(a), nullptr);
}

Hasher::~Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Hasher::update(const void* p, size_t n) {
  if (n) EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), p, n);
}

std::vector<uint8_t> Hasher::finish() {
  std::vector<uint8_t> out(digest_size(alg_));
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out.data(), &len);
  out.resize(len);
  return out;
}

std::vector<uint8_t> digest_bytes(HashAlgorithm a, std::string_view bytes) {
  Hasher h(a);
  h.update(bytes.data(), bytes.size());
  return h.finish();
}

void hash_mapped_range(const MappedFile& file, uint64_t off, uint64_t len, Hasher* h,
                       ProgressCounter* progress, Hasher* also) {
  while (len > 0) {
    uint64_t n = len < kWindowBytes ? len : kWindowBytes;
    h->update(file.data() + off, static_cast<size_t>(n));
    if (also) also->update(file.data() + off, static_cast<size_t>(n));
    file.release(off, n);
    if (progress) progress->fetch_add(n, std::memory_order_relaxed);
    off += n;
    len -= n;
  }
}

}  // namespace pedigree
