// Tests of signing/encoding.cpp: base64 in both alphabets, the DSSE v1 PAE
// and the model_signing v0.2.0 encoding with its Python bytes repr.
#include "signing/encoding.h"

#include <gtest/gtest.h>

namespace pedigree {
namespace {

TEST(SigningEncoding, Base64RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    std::string back;
    ASSERT_TRUE(base64_decode(base64_encode(bytes), &back)) << n;
    EXPECT_EQ(back, bytes);
    bytes.push_back(char(n * 37 + 200));
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("f"), "Zg==");
}

TEST(SigningEncoding, Base64AcceptsUrlSafeAndMissingPadding) {
  std::string out;
  ASSERT_TRUE(base64_decode("Zm8", &out));
  EXPECT_EQ(out, "fo");
  ASSERT_TRUE(base64_decode("-_8=", &out));
  EXPECT_EQ(out, std::string("\xfb\xff", 2));
}

TEST(SigningEncoding, Base64RejectsMalformed) {
  std::string out;
  for (const char* bad : {"Z", "Zm9v!", "Zm=v", "Zm9vY", "Zh==", "Zm 9v", "====", "Zm8==="})
    EXPECT_FALSE(base64_decode(bad, &out)) << bad;
}

TEST(SigningEncoding, DssePaeMatchesTheSpecExample) {
  // DSSE protocol.md example: type "http://example.com/HelloWorld", body "hello world".
  EXPECT_EQ(dsse_pae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(dsse_pae("", ""), "DSSEv1 0  0 ");
}

TEST(SigningEncoding, PythonBytesRepr) {
  EXPECT_EQ(python_bytes_repr("{\n  \"a\": 1\t}\r"), "b'{\\n  \"a\": 1\\t}\\r'");
  EXPECT_EQ(python_bytes_repr("it's"), "b\"it's\"");
  EXPECT_EQ(python_bytes_repr("'\""), "b'\\'\"'");
  EXPECT_EQ(python_bytes_repr(std::string("\\\x00\x7f\xe9", 4)), "b'\\\\\\x00\\x7f\\xe9'");
}

TEST(SigningEncoding, LegacyPaeUsesUppercaseVAndRepr) {
  EXPECT_EQ(legacy_pae("application/vnd.in-toto+json", "{\n}"),
            "DSSEV1 28 application/vnd.in-toto+json 3 b'{\\n}'");
}

}  // namespace
}  // namespace pedigree
