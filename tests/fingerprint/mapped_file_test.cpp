// Tests of MappedFile's access advice (will_need, advise_random, release):
// edge ranges (zero length, straddling or past the end, in-memory views)
// neither crash nor change the bytes seen through the mapping.
#include <gtest/gtest.h>

#include <string>

#include "fingerprint/error.h"
#include "fingerprint/mapped_file.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) & 0xff);
  return s;
}

void advise_everywhere(const MappedFile& f) {
  uint64_t n = f.size();
  f.advise_random();
  for (uint64_t off : {uint64_t{0}, uint64_t{1}, uint64_t{4095}, uint64_t{4096}, n / 2, n - 1, n, n + 10})
    for (uint64_t len : {uint64_t{0}, uint64_t{1}, uint64_t{8192}, n, ~uint64_t{0} - off})
      f.will_need(off, len);
}

TEST(MappedFile, AdviceKeepsContents) {
  test::TempDir dir;
  std::string bytes = pattern(3 * 4096 + 123);
  Error err;
  auto f = MappedFile::open(dir.write("m.bin", bytes), &err);
  ASSERT_TRUE(f) << err.str();
  advise_everywhere(*f);
  EXPECT_EQ(f->view(), bytes);
  f->release(0, f->size());
  EXPECT_EQ(f->view(), bytes);  // released pages are read again from the file
}

TEST(MappedFile, AdviceOnInMemoryBytesIsHarmless) {
  std::string bytes = pattern(1000);
  auto f = MappedFile::from_bytes("mem", bytes);
  advise_everywhere(*f);
  EXPECT_EQ(f->view(), bytes);
}

}  // namespace
}  // namespace pedigree
