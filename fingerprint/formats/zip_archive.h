// This file implements ZipArchive, a bounded view of a zip file (PyTorch
// checkpoints, .npz) over a MappedFile: libzip validates the archive and
// inflates compressed members; our own central-directory walk gives the
// absolute data offset of stored members so their bytes are hashed in place.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fingerprint/error.h"
#include "fingerprint/mapped_file.h"

namespace pedigree {

/// One member of the archive.
struct ZipEntry {
  std::string name;
  uint64_t size = 0;             ///< uncompressed size
  uint64_t compressed_size = 0;
  bool stored = false;           ///< compression method 0: bytes sit as-is in the file
  uint64_t data_offset = 0;      ///< absolute offset of the member's bytes (stored members)
  uint64_t index = 0;            ///< libzip index
};

/// A zip archive opened over a MappedFile that must outlive it.
class ZipArchive {
 public:
  /// Opens and validates: entry count, names (no absolute paths or ".."),
  /// sizes against the file and limits::kMaxInflatedBytes / kMaxInflateRatio.
  static std::unique_ptr<ZipArchive> open(const MappedFile& file, Error* err);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  const std::vector<ZipEntry>& entries() const { return entries_; }
  /// The entry named `name`, or nullptr.
  const ZipEntry* find(const std::string& name) const;
  /// Reads a whole member into memory (at most `cap` bytes, else an error).
  bool read(const ZipEntry& e, uint64_t cap, std::string* out, Error* err) const;
  /// Streams `len` bytes from `offset` of a member to `sink` in chunks.
  template <class Sink>
  bool stream(const ZipEntry& e, uint64_t offset, uint64_t len, Sink&& sink, Error* err) const;
  const std::string& path() const { return file_.path(); }

 private:
  explicit ZipArchive(const MappedFile& f) : file_(f) {}
  bool open_member(const ZipEntry& e, void** zf, Error* err) const;
  bool read_member(void* zf, const ZipEntry& e, uint8_t* buf, uint64_t n, Error* err) const;
  void close_member(void* zf) const;
  const MappedFile& file_;
  void* zip_ = nullptr;  // zip_t*
  std::vector<ZipEntry> entries_;
};

template <class Sink>
bool ZipArchive::stream(const ZipEntry& e, uint64_t offset, uint64_t len, Sink&& sink,
                        Error* err) const {
  if (offset > e.size || len > e.size - offset)
    return fail(err, path(), std::nullopt,
                "member '" + e.name + "': range exceeds member size " + human_bytes(e.size));
  if (e.stored) {
    sink(file_.data() + e.data_offset + offset, len);
    return true;
  }
  void* zf = nullptr;
  if (!open_member(e, &zf, err)) return false;
  std::vector<uint8_t> buf(1 << 20);
  uint64_t skip = offset, left = len;
  bool ok = true;
  while (ok && (skip > 0 || left > 0)) {
    uint64_t want = skip > 0 ? std::min<uint64_t>(skip, buf.size()) : std::min<uint64_t>(left, buf.size());
    ok = read_member(zf, e, buf.data(), want, err);
    if (!ok) break;
    if (skip > 0) {
      skip -= want;
    } else {
      sink(buf.data(), want);
      left -= want;
    }
  }
  close_member(zf);
  return ok;
}

}  // namespace pedigree
