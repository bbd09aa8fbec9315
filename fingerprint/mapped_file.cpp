// This file implements MappedFile with POSIX open/fstat/mmap, read-only and
// private; an empty file yields an empty, unmapped view.
#include "fingerprint/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pedigree {
namespace {
// strerror text in the lowercase style of our messages ("no such file or directory").
std::string errno_text(int e) {
  std::string s = std::strerror(e);
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}
}  // namespace

std::unique_ptr<MappedFile> MappedFile::open(const std::string& path, Error* err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fail(err, path, std::nullopt, "cannot open: " + errno_text(errno));
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(err, path, std::nullopt, "not a regular file");
    return nullptr;
  }
  std::unique_ptr<MappedFile> mf(new MappedFile());
  mf->path_ = path;
  mf->size_ = static_cast<uint64_t>(st.st_size);
  if (mf->size_ > 0) {
    void* p = ::mmap(nullptr, mf->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      fail(err, path, std::nullopt, std::string("cannot map ") + human_bytes(mf->size_) +
                                        ": " + errno_text(e));
      return nullptr;
    }
    mf->data_ = static_cast<const uint8_t*>(p);
    mf->mapped_ = true;
  }
  ::close(fd);
  return mf;
}

std::unique_ptr<MappedFile> MappedFile::from_bytes(std::string path, std::string_view bytes) {
  std::unique_ptr<MappedFile> mf(new MappedFile());
  mf->path_ = std::move(path);
  mf->owned_.assign(bytes.data(), bytes.size());
  mf->data_ = reinterpret_cast<const uint8_t*>(mf->owned_.data());
  mf->size_ = mf->owned_.size();
  return mf;
}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void MappedFile::release(uint64_t off, uint64_t len) const {
  if (!mapped_ || len == 0) return;
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t start = (off + page - 1) / page * page;
  uint64_t end = off + len >= size_ ? size_ : (off + len) / page * page;
  if (end <= start) return;
  ::madvise(const_cast<uint8_t*>(data_) + start, end - start, MADV_DONTNEED);
}

void MappedFile::will_need(uint64_t off, uint64_t len) const {
  if (!mapped_ || len == 0 || off >= size_) return;
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t start = off / page * page;
  uint64_t end = len > size_ - off ? size_ : off + len;
  ::madvise(const_cast<uint8_t*>(data_) + start, end - start, MADV_WILLNEED);
}

void MappedFile::advise_random() const {
  if (mapped_) ::madvise(const_cast<uint8_t*>(data_), size_, MADV_RANDOM);
}

}  // namespace pedigree
