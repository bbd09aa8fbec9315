// This file implements the response cache: a Backend decorator that answers a
// request it has seen before from a file under the cache directory, keyed by the
// SHA-256 of a canonical JSON of the model identity and every request field.
// Entries are written atomically; a corrupt entry is a miss, never an error.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "probes/backend.h"

namespace pedigree::probes {

/// Counters for the CLI summary.
struct CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;          ///< lookups that found no usable entry
  uint64_t sent = 0;            ///< requests passed on to the wrapped backend
  uint64_t corrupt = 0;         ///< entries that existed but could not be used (rewritten)
  uint64_t write_errors = 0;    ///< answers that could not be stored (the run goes on)
};

/// Wraps any backend with an on-disk cache. Thread-safe.
class CachingBackend : public Backend {
 public:
  /// `dir` empty: default_dir().
  CachingBackend(std::unique_ptr<Backend> inner, std::string dir);

  bool complete(const ProbeRequest& req, ProbeResponse* out, Error* err) override;
  std::string describe() const override { return inner_->describe(); }

  CacheStats stats() const;
  const std::string& dir() const { return dir_; }
  /// The file an entry for `req` lives in.
  std::string entry_path(const ProbeRequest& req) const;

  /// ${XDG_CACHE_HOME:-$HOME/.cache}/pedigree/responses.
  static std::string default_dir();

 private:
  bool load(const std::string& path, const std::string& canonical, ProbeResponse* out) const;
  bool store(const std::string& path, const std::string& key, const std::string& canonical,
             const ProbeResponse& resp) const;

  std::unique_ptr<Backend> inner_;
  std::string dir_;
  mutable std::atomic<uint64_t> hits_{0}, misses_{0}, sent_{0}, corrupt_{0}, write_errors_{0};
};

/// The canonical JSON the key is computed over (sorted keys, no spaces).
std::string cache_canonical(const std::string& identity, const ProbeRequest& req);

/// Lowercase hex SHA-256 of cache_canonical().
std::string cache_key(const std::string& identity, const ProbeRequest& req);

/// Decodes a cache entry file; false when it is not a complete entry for
/// `canonical`. Never throws.
bool decode_cache_entry(std::string_view bytes, const std::string& canonical, ProbeResponse* out);

/// The bytes of a cache entry.
std::string encode_cache_entry(const std::string& key, const std::string& canonical,
                               const ProbeResponse& resp);

}  // namespace pedigree::probes
