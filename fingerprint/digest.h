// This file implements the hashing primitives: SHA-256 and BLAKE2b-512 through
// OpenSSL's EVP interface, and hashing of a byte range of a mapped file in
// bounded windows whose pages are released as soon as they are hashed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/error.h"
#include "fingerprint/mapped_file.h"

namespace pedigree {

/// Digest algorithms for file digests (tensor digests are always SHA-256).
enum class HashAlgorithm { kSha256, kBlake2b512 };

/// "sha256" or "blake2b" (the OMS `hash_type` spelling).
std::string_view algorithm_name(HashAlgorithm a);
/// Parses "sha256" / "blake2b" (also "blake2b-512"); nullopt otherwise.
std::optional<HashAlgorithm> algorithm_from_name(std::string_view name);
/// Digest length in bytes (32 or 64).
size_t digest_size(HashAlgorithm a);

/// Lowercase hex of raw bytes.
std::string to_hex(const uint8_t* p, size_t n);
inline std::string to_hex(const std::vector<uint8_t>& v) { return to_hex(v.data(), v.size()); }
/// Decodes lowercase/uppercase hex; false on odd length or bad digit.
bool from_hex(std::string_view hex, std::vector<uint8_t>* out);

/// An incremental hash. Not copyable; one per thread.
class Hasher {
 public:
  explicit Hasher(HashAlgorithm a);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void update(const void* p, size_t n);
  /// Final digest; the hasher must not be used afterwards.
  std::vector<uint8_t> finish();

 private:
  void* ctx_;  // EVP_MD_CTX*
  HashAlgorithm alg_;
};

/// One-shot digest of bytes.
std::vector<uint8_t> digest_bytes(HashAlgorithm a, std::string_view bytes);

/// Bytes hashed so far, for progress reporting across threads.
using ProgressCounter = std::atomic<uint64_t>;

/// Feeds [off, off+len) of `file` to `h` (and to `also` when non-null, so
/// two digests cost one read) in windows of a few MiB, releasing each
/// window's pages afterwards so resident memory stays bounded.
void hash_mapped_range(const MappedFile& file, uint64_t off, uint64_t len, Hasher* h,
                       ProgressCounter* progress = nullptr, Hasher* also = nullptr);

}  // namespace pedigree
