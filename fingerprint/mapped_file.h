// This file implements MappedFile, a read-only memory map of a whole input
// file (the mold idiom): readers parse headers in place and hashing reads the
// mapped pages without copying. Empty files map to an empty span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fingerprint/error.h"

namespace pedigree {

/// A read-only mapping of one file. Move-only; unmaps on destruction.
class MappedFile {
 public:
  /// Maps `path` read-only. Refuses directories and non-regular files.
  static std::unique_ptr<MappedFile> open(const std::string& path, Error* err);
  /// Wraps bytes already in memory (tests, fuzzers, zip entries); copies them.
  static std::unique_ptr<MappedFile> from_bytes(std::string path, std::string_view bytes);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(data_), static_cast<size_t>(size_)};
  }
  /// Tells the kernel the range [off, off+len) will not be needed again, so
  /// long hashes keep a bounded resident set.
  void release(uint64_t off, uint64_t len) const;
  /// Tells the kernel the range [off, off+len) will be read soon (asynchronous
  /// read-ahead of just those pages), so scattered reads are issued together
  /// instead of one page fault at a time.
  void will_need(uint64_t off, uint64_t len) const;
  /// Tells the kernel reads will be scattered: no read-around beyond the pages
  /// asked for (with will_need, only the wanted rows are read from disk).
  void advise_random() const;

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  bool mapped_ = false;
  std::string owned_;
};

}  // namespace pedigree
