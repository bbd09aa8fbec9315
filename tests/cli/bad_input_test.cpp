// End-to-end: malformed inputs of every format give exit code 2 and exactly
// one "pedigree: error:" line naming the file and the byte offset.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using test::TempDir;

struct Case {
  const char* name;
  std::string bytes;
};

std::string le64(uint64_t v) {
  std::string s;
  test::put_u64(&s, v);
  return s;
}

TEST(CliBadInput, EveryFormatExitsTwoWithOneLocatedMessage) {
  std::string gguf = "GGUF";
  test::put_u32(&gguf, 3);
  gguf += le64(uint64_t{1} << 40) + le64(0);
  const Case cases[] = {
      {"model.gguf", gguf},
      {"model.safetensors", le64(1000) + "{\"a\":"},
      {"model.onnx", std::string("\x08\x07\x3a\xff\xff\x03", 6)},
      {"model.pt", std::string("PK\x03\x04", 4) + std::string(40, '\0')},
      {"model.pkl", std::string("\x80\x04\xff", 3)},
      {"weights.npy", std::string("\x93NUMPY\x01\x00\xff\x00{'descr':", 19)},
      {"arrays.npz", std::string("PK\x03\x04", 4) + std::string(10, '\0')},
  };
  for (const Case& c : cases) {
    TempDir t;
    std::string p = t.write(c.name, c.bytes);
    auto r = test::run_pedigree({"inspect", p});
    EXPECT_EQ(r.exit_code, 2) << c.name << ": " << r.err;
    EXPECT_EQ(r.err.rfind("pedigree: error: " + p + ": ", 0), 0u) << c.name << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.name << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << c.name;
    auto s = test::run_pedigree({"scan", p});
    EXPECT_EQ(s.exit_code, 2) << c.name;
  }
}

TEST(CliBadInput, HugeGgufCountIsReportedWithSize) {
  TempDir t;
  std::string gguf = "GGUF";
  test::put_u32(&gguf, 3);
  gguf += le64(uint64_t{1} << 40) + le64(0);
  std::string p = t.write("model.gguf", gguf);
  auto r = test::run_pedigree({"inspect", p});
  EXPECT_EQ(r.err, "pedigree: error: " + p + ": offset 0x8: tensor count 2^40 exceeds file size 24 B\n");
}

TEST(CliBadInput, MaliciousPickleIsFlaggedWithExitOne) {
  auto r = test::run_pedigree({"scan", test::samples_dir() + "/malicious/evil.pkl"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("FLAGGED"), std::string::npos);
  EXPECT_NE(r.out.find("pickle imports posix.system"), std::string::npos);
}

TEST(CliBadInput, SymlinkedModelFileIsRefusedByHash) {
  TempDir t;
  std::string real = t.write("real.gguf", "GGUF");
  std::string link = (t.path() / "link.gguf").string();
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  auto r = test::run_pedigree({"hash", link});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + link + ": is a symbolic link; refused without --allow-symlinks\n");
}

}  // namespace
}  // namespace pedigree
