// Tests RFC 8785 canonicalization: the RFC's sample with numbers, literals
// and escapes, its UTF-16 member sorting sample, the number serialization
// table of its appendix B, and NaN / infinity rejection.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "signing/jcs.h"

namespace pedigree {
namespace {

std::string canon(const nlohmann::json& j) {
  std::string out;
  Error err;
  EXPECT_TRUE(jcs_canonicalize(j, &out, &err)) << err.str();
  return out;
}

TEST(Jcs, RfcSampleWithNumbersAndEscapes) {
  auto j = nlohmann::json::parse(R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })");
  EXPECT_EQ(canon(j),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

TEST(Jcs, MembersSortByUtf16CodeUnitsNotBytes) {
  auto j = nlohmann::json::parse(R"({"\u20ac": "Euro Sign", "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"})");
  std::string c = canon(j);
  std::vector<std::string> order = {"\\r", "\"1\"", "\xC2\x80", "\xC3\xB6", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                                    "\xEF\xAC\xB3"};
  size_t last = 0;
  for (const std::string& k : order) {
    size_t at = c.find(k);
    ASSERT_NE(at, std::string::npos) << k;
    EXPECT_GT(at, last) << k;
    last = at;
  }
}

TEST(Jcs, NumbersFollowEcmaScript) {
  auto d = [](uint64_t bits) { return std::bit_cast<double>(bits); };
  EXPECT_EQ(jcs_number(d(0x0000000000000000)), "0");
  EXPECT_EQ(jcs_number(d(0x8000000000000000)), "0");
  EXPECT_EQ(jcs_number(d(0x0000000000000001)), "5e-324");
  EXPECT_EQ(jcs_number(d(0x8000000000000001)), "-5e-324");
  EXPECT_EQ(jcs_number(d(0x7fefffffffffffff)), "1.7976931348623157e+308");
  EXPECT_EQ(jcs_number(d(0x4340000000000000)), "9007199254740992");
  EXPECT_EQ(jcs_number(d(0xc340000000000000)), "-9007199254740992");
  EXPECT_EQ(jcs_number(d(0x4430000000000000)), "295147905179352830000");
  EXPECT_EQ(jcs_number(d(0x44b52d02c7e14af5)), "9.999999999999997e+22");
  EXPECT_EQ(jcs_number(d(0x44b52d02c7e14af6)), "1e+23");
  EXPECT_EQ(jcs_number(d(0x444b1ae4d6e2ef50)), "1e+21");
  EXPECT_EQ(jcs_number(d(0x444b1ae4d6e2ef4f)), "999999999999999900000");
  EXPECT_EQ(jcs_number(d(0x3eb0c6f7a0b5ed8d)), "0.000001");
  EXPECT_EQ(jcs_number(d(0x3eb0c6f7a0b5ed8c)), "9.999999999999997e-7");
  EXPECT_EQ(jcs_number(d(0x41b3de4355555555)), "333333333.3333333");
}

TEST(Jcs, IntegersAndNesting) {
  auto j = nlohmann::json::parse(R"({"b": [1, -2, 10, {"z": 0, "a": 1.0}], "a": 18446744073709551615})");
  EXPECT_EQ(canon(j), "{\"a\":18446744073709552000,\"b\":[1,-2,10,{\"a\":1,\"z\":0}]}");
}

TEST(Jcs, NonFiniteNumbersAreRejected) {
  nlohmann::json j = {{"x", {1, std::numeric_limits<double>::quiet_NaN()}}};
  std::string out;
  Error err;
  EXPECT_FALSE(jcs_canonicalize(j, &out, &err));
  EXPECT_EQ(err.str(), "/x/1: number is not finite");
  j = nlohmann::json(std::numeric_limits<double>::infinity());
  EXPECT_FALSE(jcs_canonicalize(j, &out, &err));
  EXPECT_EQ(err.str(), "(root): number is not finite");
}

}  // namespace
}  // namespace pedigree
