// Tests response normalization and the four matchers (and identity-claim
// containment), including code-point prefixes on multi-byte text.
#include <gtest/gtest.h>

#include "probes/match.h"

namespace pedigree::probes {
namespace {

Matcher make(MatchKind k, const std::string& v, std::optional<size_t> chars = std::nullopt) {
  Matcher m;
  std::string why;
  EXPECT_TRUE(Matcher::compile(k, v, chars, &m, &why)) << why;
  return m;
}

TEST(ProbeMatch, Normalize) {
  EXPECT_EQ(normalize("  Hello,   WORLD!  "), "hello, world");
  EXPECT_EQ(normalize("a\t\n\r b"), "a b");
  EXPECT_EQ(normalize("Done. . ?!"), "done");
  EXPECT_EQ(normalize("我是Claude。"), "我是claude");
  EXPECT_EQ(normalize("Ça VA？！"), "Ça va");  // only ASCII letters are lowercased
  EXPECT_EQ(normalize("x\xC2\xA0\xE3\x80\x80y"), "x y");  // NBSP and ideographic space
  EXPECT_EQ(normalize("  \n "), "");
  EXPECT_EQ(normalize("end..."), "end");
  EXPECT_EQ(normalize("a\xFF" "B"), "a\xFF" "b");  // invalid byte kept as is
  EXPECT_EQ(normalize("3.14"), "3.14");
}

TEST(ProbeMatch, CodePoints) {
  EXPECT_EQ(code_point_count("héllo"), 5u);
  EXPECT_EQ(first_code_points("héllo", 2), "hé");
  EXPECT_EQ(first_code_points("我是模型", 3), "我是模");
  EXPECT_EQ(first_code_points("ab", 10), "ab");
  EXPECT_EQ(code_point_count("\xE6\x88"), 2u);  // truncated sequence: two invalid bytes
}

TEST(ProbeMatch, Exact) {
  Matcher m = make(MatchKind::kExact, "Paris");
  EXPECT_TRUE(m.matches("Paris"));
  EXPECT_FALSE(m.matches("paris"));
  EXPECT_FALSE(m.matches(" Paris"));
  Matcher p = make(MatchKind::kExact, "Par", 3);
  EXPECT_TRUE(p.matches("Paris is the capital"));
}

TEST(ProbeMatch, Normalized) {
  Matcher m = make(MatchKind::kNormalized, "The answer is 42.");
  EXPECT_TRUE(m.matches("  the ANSWER is\n42!"));
  EXPECT_FALSE(m.matches("the answer is 43"));
  Matcher p = make(MatchKind::kNormalized, "quartz", 6);
  EXPECT_TRUE(p.matches(" Quartz meridian"));
}

TEST(ProbeMatch, Regex) {
  Matcher m = make(MatchKind::kRegex, "(?i)\\b(claude|anthropic)\\b");
  EXPECT_TRUE(m.matches("I am CLAUDE, made by Anthropic."));
  EXPECT_FALSE(m.matches("I am Claudette"));
  Matcher cs = make(MatchKind::kRegex, "Claude");
  EXPECT_FALSE(cs.matches("claude"));
  std::string far(5000, 'x');
  EXPECT_FALSE(make(MatchKind::kRegex, "Claude").matches(far + "Claude"));  // beyond kMaxRegexInput
  EXPECT_TRUE(make(MatchKind::kRegex, "Claude").matches(std::string(4000, 'x') + "Claude"));
}

TEST(ProbeMatch, Sha256OfNormalizedPrefix) {
  // sha256("quartz meridian lantern ") by Python hashlib.
  Matcher m = make(MatchKind::kSha256, "41a679b1fb341290f05b5ae0188b2c7ca3561b9cfcfbad354d716520249c7b5f", 24);
  EXPECT_TRUE(m.matches(" Quartz  meridian lantern 7741."));
  EXPECT_FALSE(m.matches("quartz meridian lanterns"));
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ProbeMatch, CompileErrors) {
  Matcher m;
  std::string why;
  EXPECT_FALSE(Matcher::compile(MatchKind::kSha256, "ABC", std::nullopt, &m, &why));
  EXPECT_EQ(why, "not a sha256 digest (want 64 lowercase hex digits)");
  EXPECT_FALSE(Matcher::compile(MatchKind::kRegex, "(unclosed", std::nullopt, &m, &why));
  EXPECT_EQ(why.rfind("invalid regex: ", 0), 0u) << why;
}

TEST(ProbeMatch, ClaimContains) {
  Matcher n = make(MatchKind::kNormalized, "OpenAI");
  EXPECT_TRUE(n.contains("I was trained by   openai."));
  EXPECT_FALSE(n.contains("I was trained by Open AI"));
  Matcher r = make(MatchKind::kRegex, "(?i)gpt-?4");
  EXPECT_TRUE(r.contains("I am GPT4"));
}

TEST(ProbeMatch, KindNames) {
  EXPECT_EQ(match_kind_from_name("regex"), MatchKind::kRegex);
  EXPECT_FALSE(match_kind_from_name("fuzzy"));
  EXPECT_STREQ(match_kind_name(MatchKind::kSha256), "sha256");
}

}  // namespace
}  // namespace pedigree::probes
