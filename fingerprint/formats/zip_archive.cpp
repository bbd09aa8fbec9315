// This file implements ZipArchive: libzip opens the archive from the mapped
// bytes (with its consistency checks) and inflates members; a bounded walk of
// the end-of-central-directory records (zip64 included) and local headers
// locates stored members' bytes so they can be hashed without copying.
#include "fingerprint/formats/zip_archive.h"

#include <zip.h>

#include <cstring>
#include <string_view>

#include "fingerprint/formats/limits.h"

namespace pedigree {
namespace {

uint64_t le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct CdRecord {
  uint64_t local_offset = 0;
  uint64_t size = 0;
  uint64_t csize = 0;
  uint16_t method = 0;
};

// Locates the central directory: returns its offset and entry count.
bool find_central_directory(const MappedFile& f, uint64_t* cd_off, uint64_t* count, Error* err) {
  const uint8_t* d = f.data();
  uint64_t n = f.size();
  if (n < 22) return fail(err, f.path(), 0, "zip archive shorter than its 22-byte end record");
  uint64_t lo = n > 22 + 65535 ? n - 22 - 65535 : 0;
  for (uint64_t pos = n - 22 + 1; pos-- > lo;) {
    if (le(d + pos, 4) != 0x06054b50) continue;
    *count = le(d + pos + 10, 2);
    *cd_off = le(d + pos + 16, 4);
    bool zip64 = *count == 0xffff || *cd_off == 0xffffffff;
    if (!zip64) return true;
    if (pos < 20 || le(d + pos - 20, 4) != 0x07064b50)
      return fail(err, f.path(), pos, "zip64 end record locator missing");
    uint64_t e64 = le(d + pos - 20 + 8, 8);
    if (e64 > n || n - e64 < 56 || le(d + e64, 4) != 0x06064b50)
      return fail(err, f.path(), pos - 20, "zip64 end record offset " + hex_offset(e64) + " is invalid");
    *count = le(d + e64 + 32, 8);
    *cd_off = le(d + e64 + 48, 8);
    return true;
  }
  return fail(err, f.path(), std::nullopt, "not a zip archive (no end of central directory record)");
}

// Applies the zip64 extended-information extra field to a central record.
void apply_zip64_extra(const uint8_t* extra, uint64_t len, CdRecord* r, bool need_size,
                       bool need_csize, bool need_off) {
  uint64_t i = 0;
  while (i + 4 <= len) {
    uint64_t id = le(extra + i, 2), sz = le(extra + i + 2, 2);
    if (i + 4 + sz > len) return;
    if (id == 0x0001) {
      const uint8_t* p = extra + i + 4;
      uint64_t k = 0;
      if (need_size && k + 8 <= sz) r->size = le(p + k, 8), k += 8;
      if (need_csize && k + 8 <= sz) r->csize = le(p + k, 8), k += 8;
      if (need_off && k + 8 <= sz) r->local_offset = le(p + k, 8), k += 8;
      return;
    }
    i += 4 + sz;
  }
}

bool read_central_directory(const MappedFile& f, std::vector<CdRecord>* out, Error* err) {
  uint64_t off = 0, count = 0;
  if (!find_central_directory(f, &off, &count, err)) return false;
  if (count > limits::kMaxZipEntries)
    return fail(err, f.path(), off, "zip entry count " + count_str(count) + " exceeds limit " +
                                        count_str(limits::kMaxZipEntries));
  if (off > f.size() || count > (f.size() - off) / 46)
    return fail(err, f.path(), off, "zip central directory of " + count_str(count) +
                                        " entries exceeds file size " + human_bytes(f.size()));
  const uint8_t* d = f.data();
  out->reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (f.size() - off < 46 || le(d + off, 4) != 0x02014b50)
      return fail(err, f.path(), off, "zip central directory record " + std::to_string(i) + " is invalid");
    CdRecord r;
    r.method = static_cast<uint16_t>(le(d + off + 10, 2));
    r.csize = le(d + off + 20, 4);
    r.size = le(d + off + 24, 4);
    uint64_t nlen = le(d + off + 28, 2), elen = le(d + off + 30, 2), clen = le(d + off + 32, 2);
    r.local_offset = le(d + off + 42, 4);
    if (f.size() - off - 46 < nlen + elen + clen)
      return fail(err, f.path(), off, "zip central directory record " + std::to_string(i) + " is truncated");
    apply_zip64_extra(d + off + 46 + nlen, elen, &r, r.size == 0xffffffff, r.csize == 0xffffffff,
                      r.local_offset == 0xffffffff);
    out->push_back(r);
    off += 46 + nlen + elen + clen;
  }
  return true;
}

bool unsafe_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos) return true;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    if (name.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::unique_ptr<ZipArchive> ZipArchive::open(const MappedFile& file, Error* err) {
  std::vector<CdRecord> cd;
  if (!read_central_directory(file, &cd, err)) return nullptr;
  zip_error_t zerr;
  zip_error_init(&zerr);
  zip_source_t* src = zip_source_buffer_create(file.data(), file.size(), 0, &zerr);
  zip_t* za = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &zerr) : nullptr;
  if (!za) {
    fail(err, file.path(), std::nullopt, std::string("invalid zip archive: ") + zip_error_strerror(&zerr));
    if (src) zip_source_free(src);
    zip_error_fini(&zerr);
    return nullptr;
  }
  zip_error_fini(&zerr);
  std::unique_ptr<ZipArchive> za_out(new ZipArchive(file));
  za_out->zip_ = za;
  zip_int64_t n = zip_get_num_entries(za, 0);
  if (n < 0 || static_cast<uint64_t>(n) != cd.size()) {
    fail(err, file.path(), std::nullopt, "zip central directory disagrees with libzip's entry count");
    return nullptr;
  }
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, static_cast<zip_uint64_t>(i), 0, &st) != 0 || !st.name) {
      fail(err, file.path(), std::nullopt, "zip entry " + std::to_string(i) + " cannot be read");
      return nullptr;
    }
    ZipEntry e;
    e.name = st.name;
    e.index = static_cast<uint64_t>(i);
    e.size = st.size;
    e.compressed_size = st.comp_size;
    e.stored = st.comp_method == ZIP_CM_STORE;
    const CdRecord& r = cd[static_cast<size_t>(i)];
    uint64_t lho = r.local_offset;
    if (unsafe_name(e.name)) {
      fail(err, file.path(), lho, "zip entry name '" + e.name + "' escapes the archive");
      return nullptr;
    }
    if (e.size > limits::kMaxInflatedBytes ||
        (!e.stored && e.size > (uint64_t{1} << 20) && e.size / std::max<uint64_t>(e.compressed_size, 1) > limits::kMaxInflateRatio)) {
      fail(err, file.path(), lho, "zip entry '" + e.name + "' inflates to " + human_bytes(e.size) +
                                      " from " + human_bytes(e.compressed_size) + " (zip bomb limit)");
      return nullptr;
    }
    if (e.stored) {
      if (lho > file.size() || file.size() - lho < 30 || le(file.data() + lho, 4) != 0x04034b50) {
        fail(err, file.path(), lho, "zip entry '" + e.name + "' has no local header");
        return nullptr;
      }
      uint64_t start = lho + 30 + le(file.data() + lho + 26, 2) + le(file.data() + lho + 28, 2);
      if (e.size != e.compressed_size || start > file.size() || file.size() - start < e.size) {
        fail(err, file.path(), lho, "zip entry '" + e.name + "' data of " + human_bytes(e.size) +
                                        " exceeds file size " + human_bytes(file.size()));
        return nullptr;
      }
      e.data_offset = start;
    }
    za_out->entries_.push_back(std::move(e));
  }
  return za_out;
}

ZipArchive::~ZipArchive() {
  if (zip_) zip_discard(static_cast<zip_t*>(zip_));
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  for (const ZipEntry& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

bool ZipArchive::open_member(const ZipEntry& e, void** zf, Error* err) const {
  zip_file_t* f = zip_fopen_index(static_cast<zip_t*>(zip_), e.index, 0);
  if (!f) return fail(err, path(), std::nullopt, "zip entry '" + e.name + "' cannot be opened: " +
                                                   zip_strerror(static_cast<zip_t*>(zip_)));
  *zf = f;
  return true;
}

bool ZipArchive::read_member(void* zf, const ZipEntry& e, uint8_t* buf, uint64_t n, Error* err) const {
  uint64_t got = 0;
  while (got < n) {
    zip_int64_t r = zip_fread(static_cast<zip_file_t*>(zf), buf + got, n - got);
    if (r <= 0)
      return fail(err, path(), std::nullopt, "zip entry '" + e.name + "' is corrupt or truncated: " +
                                                 zip_file_strerror(static_cast<zip_file_t*>(zf)));
    got += static_cast<uint64_t>(r);
  }
  return true;
}

void ZipArchive::close_member(void* zf) const { zip_fclose(static_cast<zip_file_t*>(zf)); }

bool ZipArchive::read(const ZipEntry& e, uint64_t cap, std::string* out, Error* err) const {
  if (e.size > cap)
    return fail(err, path(), std::nullopt, "zip entry '" + e.name + "' of " + human_bytes(e.size) +
                                               " exceeds limit " + human_bytes(cap));
  out->clear();
  out->reserve(e.size);
  return stream(e, 0, e.size, [&](const uint8_t* p, uint64_t n) {
    out->append(reinterpret_cast<const char*>(p), n);
  }, err);
}

}  // namespace pedigree
