// Tests the probe-pack reader: valid canary, identity and watermark packs, every
// field rule with its exact error message, and the built-in packs embedded at build time.
#include <gtest/gtest.h>

#include <string>

#include "probes/pack.h"
#include "tests/support/test_util.h"

namespace pedigree::probes {
namespace {

const char* const kCanary = R"(id: tiny-canary
version: 1
description: "two canaries"
kind: canary
sampling: {samples: 2, temperature: 0.5, max_tokens: 16, seed: 7}
chance_probability: 0.00390625
chance_source: "declared: 1/256"
threshold: 1.0e-6
prompts:
  - id: t01
    form: completion
    language: en
    text: "say the word"
    expect:
      match: exact
      value: "word"
  - id: t02
    system: "be brief"
    text: "say it"
    expect: {match: regex, value: "(?i)it", chars: 24}
)";

const char* const kIdentity = R"(id: who
version: 3
description: "who made you"
kind: identity
chance_probability: 0.01
prompts:
  - {id: q1, text: "Who made you?", language: en}
  - {id: q2, text: "你是谁？", language: zh}
claims:
  - {vendor: Anthropic, protected: true, match: regex, value: "(?i)\\b(claude|anthropic)\\b"}
  - {vendor: Meta, match: normalized, value: "Meta AI"}
declared_vendor: Meta
)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// The error message for `yaml`, or "" when it parses.
std::string error_of(const std::string& yaml) {
  Pack p;
  Error err;
  if (parse_pack(yaml, "pack.yaml", &p, &err)) return "";
  return err.str();
}

TEST(ProbePack, ParsesCanary) {
  Pack p;
  Error err;
  ASSERT_TRUE(parse_pack(kCanary, "pack.yaml", &p, &err)) << err.str();
  EXPECT_EQ(p.id, "tiny-canary");
  EXPECT_EQ(p.kind, PackKind::kCanary);
  EXPECT_EQ(p.sampling.samples, 2);
  EXPECT_EQ(p.sampling.temperature, 0.5);
  EXPECT_EQ(p.sampling.max_tokens, 16);
  EXPECT_EQ(p.sampling.seed, 7u);
  EXPECT_EQ(p.chance_probability, 0.00390625);
  EXPECT_EQ(p.threshold, 1e-6);
  ASSERT_EQ(p.prompts.size(), 2u);
  EXPECT_EQ(p.prompts[0].form, "completion");
  EXPECT_EQ(p.prompts[1].form, "chat");
  EXPECT_EQ(p.prompts[1].system, "be brief");
  ASSERT_TRUE(p.prompts[1].expect);
  EXPECT_EQ(p.prompts[1].expect->chars, 24u);
  EXPECT_TRUE(p.prompts[1].expect->matcher.matches("IT is"));
  EXPECT_EQ(p.sha256, test::sha256_hex(kCanary));
  EXPECT_EQ(p.source, "pack.yaml");
}

TEST(ProbePack, ParsesIdentityWithDefaults) {
  Pack p;
  Error err;
  ASSERT_TRUE(parse_pack(kIdentity, "id.yaml", &p, &err)) << err.str();
  EXPECT_EQ(p.kind, PackKind::kIdentity);
  EXPECT_EQ(p.version, 3);
  EXPECT_EQ(p.sampling.samples, 1);
  EXPECT_EQ(p.sampling.temperature, 0.0);
  EXPECT_EQ(p.sampling.max_tokens, 48);
  EXPECT_EQ(p.sampling.seed, 42u);
  EXPECT_EQ(p.threshold, 1e-6);
  ASSERT_EQ(p.claims.size(), 2u);
  EXPECT_TRUE(p.claims[0].is_protected);
  EXPECT_FALSE(p.claims[1].is_protected);
  EXPECT_EQ(p.declared_vendor, "Meta");
  EXPECT_EQ(p.prompts[1].language, "zh");
}

TEST(ProbePackErrors, Syntax) {
  EXPECT_EQ(error_of("id: [unclosed"), "pack.yaml: line 1, column 1: invalid yaml: end of sequence flow not found");
  EXPECT_EQ(error_of("- a\n- b\n"), "pack.yaml: pack: want a mapping at the top level");
  EXPECT_EQ(error_of(""), "pack.yaml: pack: want a mapping at the top level");
}

TEST(ProbePackErrors, UnknownField) {
  EXPECT_EQ(error_of(replace(kCanary, "version: 1", "version: 1\ncolour: red")), "pack.yaml: colour: unknown field");
  EXPECT_EQ(error_of(replace(kCanary, "language: en", "language: en\n    colour: red")),
            "pack.yaml: prompts[0].colour: unknown field");
  EXPECT_EQ(error_of(replace(kCanary, "chars: 24}", "chars: 24, fuzz: 1}")),
            "pack.yaml: prompts[1].expect.fuzz: unknown field");
  EXPECT_EQ(error_of(replace(kCanary, "seed: 7}", "seed: 7, top_p: 1}")), "pack.yaml: sampling.top_p: unknown field");
}

TEST(ProbePackErrors, Id) {
  EXPECT_EQ(error_of(replace(kCanary, "id: tiny-canary\n", "")), "pack.yaml: id: required field missing");
  EXPECT_EQ(error_of(replace(kCanary, "id: tiny-canary", "id: Tiny_Canary")),
            "pack.yaml: id: 'Tiny_Canary' is not a pack id (want [a-z0-9][a-z0-9-]{0,63})");
  EXPECT_EQ(error_of(replace(kCanary, "id: tiny-canary", "id: -x")),
            "pack.yaml: id: '-x' is not a pack id (want [a-z0-9][a-z0-9-]{0,63})");
  EXPECT_EQ(error_of(replace(kCanary, "id: tiny-canary", "id: " + std::string(65, 'a'))),
            "pack.yaml: id: '" + std::string(64, 'a') + "...' is not a pack id (want [a-z0-9][a-z0-9-]{0,63})");
  EXPECT_EQ(error_of(replace(kCanary, "id: tiny-canary", "id: [a]")), "pack.yaml: id: want a string, got a list");
}

TEST(ProbePackErrors, Version) {
  EXPECT_EQ(error_of(replace(kCanary, "version: 1\n", "")), "pack.yaml: version: required field missing");
  EXPECT_EQ(error_of(replace(kCanary, "version: 1", "version: 0")), "pack.yaml: version: 0 out of range (want 1..9223372036854775807)");
  EXPECT_EQ(error_of(replace(kCanary, "version: 1", "version: 1.5")), "pack.yaml: version: want an integer, got '1.5'");
}

TEST(ProbePackErrors, Description) {
  EXPECT_EQ(error_of(replace(kCanary, "description: \"two canaries\"\n", "")),
            "pack.yaml: description: required field missing");
  EXPECT_EQ(error_of(replace(kCanary, "description: \"two canaries\"", "description: \"\"")),
            "pack.yaml: description: must not be empty");
}

TEST(ProbePackErrors, Kind) {
  EXPECT_EQ(error_of(replace(kCanary, "kind: canary\n", "")), "pack.yaml: kind: required field missing");
  EXPECT_EQ(error_of(replace(kCanary, "kind: canary", "kind: backdoor")),
            "pack.yaml: kind: unknown kind 'backdoor' (want canary, trigger, identity or watermark)");
}

TEST(ProbePackErrors, Sampling) {
  EXPECT_EQ(error_of(replace(kCanary, "sampling: {samples: 2, temperature: 0.5, max_tokens: 16, seed: 7}", "sampling: 3")),
            "pack.yaml: sampling: want a mapping, got '3'");
  EXPECT_EQ(error_of(replace(kCanary, "samples: 2", "samples: 0")),
            "pack.yaml: sampling.samples: 0 out of range (want 1..1000)");
  EXPECT_EQ(error_of(replace(kCanary, "samples: 2", "samples: 1001")),
            "pack.yaml: sampling.samples: 1001 out of range (want 1..1000)");
  EXPECT_EQ(error_of(replace(kCanary, "temperature: 0.5", "temperature: hot")),
            "pack.yaml: sampling.temperature: want a number, got 'hot'");
  EXPECT_EQ(error_of(replace(kCanary, "temperature: 0.5", "temperature: -1")),
            "pack.yaml: sampling.temperature: '-1' out of range (want 0..2)");
  EXPECT_EQ(error_of(replace(kCanary, "max_tokens: 16", "max_tokens: 0")),
            "pack.yaml: sampling.max_tokens: 0 out of range (want 1..8192)");
  EXPECT_EQ(error_of(replace(kCanary, "seed: 7", "seed: -7")),
            "pack.yaml: sampling.seed: -7 out of range (want 0..9223372036854775807)");
}

TEST(ProbePackErrors, ChanceProbability) {
  EXPECT_EQ(error_of(replace(kCanary, "chance_probability: 0.00390625\n", "")),
            "pack.yaml: chance_probability: required field missing");
  EXPECT_EQ(error_of(replace(kCanary, "chance_probability: 0.00390625", "chance_probability: 0")),
            "pack.yaml: chance_probability: '0' out of range (want 0 < p < 1)");
  EXPECT_EQ(error_of(replace(kCanary, "chance_probability: 0.00390625", "chance_probability: 1")),
            "pack.yaml: chance_probability: '1' out of range (want 0 < p < 1)");
  EXPECT_EQ(error_of(replace(kCanary, "chance_probability: 0.00390625", "chance_probability: 1/256")),
            "pack.yaml: chance_probability: want a number, got '1/256'");
}

TEST(ProbePackErrors, ChanceSourceAndThreshold) {
  EXPECT_EQ(error_of(replace(kCanary, "chance_source: \"declared: 1/256\"", "chance_source: {a: 1}")),
            "pack.yaml: chance_source: want a string, got a mapping");
  EXPECT_EQ(error_of(replace(kCanary, "threshold: 1.0e-6", "threshold: 2")),
            "pack.yaml: threshold: '2' out of range (want 0 < p < 1)");
  EXPECT_EQ(error_of(replace(kCanary, "threshold: 1.0e-6", "threshold: .nan")),
            "pack.yaml: threshold: want a number, got '.nan'");
}

TEST(ProbePackErrors, Prompts) {
  std::string head = kCanary;
  head = head.substr(0, head.find("prompts:"));
  EXPECT_EQ(error_of(head), "pack.yaml: prompts: required field missing");
  EXPECT_EQ(error_of(head + "prompts: []\n"), "pack.yaml: prompts: 0 entries out of range (want 1..10000)");
  EXPECT_EQ(error_of(head + "prompts: hello\n"), "pack.yaml: prompts: want a list, got hello");
  EXPECT_EQ(error_of(head + "prompts: [3]\n"), "pack.yaml: prompts[0]: want a mapping, got '3'");
}

TEST(ProbePackErrors, PromptFields) {
  EXPECT_EQ(error_of(replace(kCanary, "  - id: t02\n", "  - id: t01\n")),
            "pack.yaml: prompts[1].id: duplicate id 't01' (also prompts[0])");
  EXPECT_EQ(error_of(replace(kCanary, "  - id: t02\n    system", "  - system")),
            "pack.yaml: prompts[1].id: required field missing");
  EXPECT_EQ(error_of(replace(kCanary, "form: completion", "form: instruct")),
            "pack.yaml: prompts[0].form: unknown form 'instruct' (want chat or completion)");
  EXPECT_EQ(error_of(replace(kCanary, "form: completion", "form: completion\n    system: hi")),
            "pack.yaml: prompts[0].system: only for chat prompts");
  EXPECT_EQ(error_of(replace(kCanary, "    text: \"say it\"\n", "")), "pack.yaml: prompts[1].text: required field missing");
  EXPECT_EQ(error_of(replace(kCanary, "text: \"say it\"", "text: \"\"")), "pack.yaml: prompts[1].text: must not be empty");
  EXPECT_EQ(error_of(replace(kCanary, "language: en", "language: [en]")),
            "pack.yaml: prompts[0].language: want a string, got a list");
  EXPECT_EQ(error_of(replace(kCanary, "text: \"say it\"", "text: \"" + std::string(65537, 'x') + "\"")),
            "pack.yaml: prompts[1].text: 65537 bytes exceeds the cap of 65536");
}

TEST(ProbePackErrors, Expect) {
  EXPECT_EQ(error_of(replace(kCanary, "    expect: {match: regex, value: \"(?i)it\", chars: 24}\n", "")),
            "pack.yaml: prompts[1].expect: required field missing in canary packs");
  EXPECT_EQ(error_of(replace(kCanary, "match: exact", "match: fuzzy")),
            "pack.yaml: prompts[0].expect.match: unknown matcher 'fuzzy' (want exact, normalized, regex or sha256)");
  EXPECT_EQ(error_of(replace(kCanary, "      match: exact\n", "")),
            "pack.yaml: prompts[0].expect.match: required field missing");
  EXPECT_EQ(error_of(replace(kCanary, "value: \"word\"", "value: \"\"")),
            "pack.yaml: prompts[0].expect.value: must not be empty");
  EXPECT_EQ(error_of(replace(kCanary, "match: regex, value: \"(?i)it\"", "match: sha256, value: \"abc\"")),
            "pack.yaml: prompts[1].expect.value: not a sha256 digest (want 64 lowercase hex digits)");
  EXPECT_EQ(error_of(replace(kCanary, "value: \"(?i)it\"", "value: \"(it\"")).rfind(
                "pack.yaml: prompts[1].expect.value: invalid regex: ", 0),
            0u);
  EXPECT_EQ(error_of(replace(kCanary, "value: \"(?i)it\"", "value: \"" + std::string(1025, 'a') + "\"")),
            "pack.yaml: prompts[1].expect.value: regex of 1025 bytes exceeds the cap of 1024");
  EXPECT_EQ(error_of(replace(kCanary, "chars: 24", "chars: 0")),
            "pack.yaml: prompts[1].expect.chars: 0 out of range (want 1..65536)");
  EXPECT_EQ(error_of(replace(kCanary, "value: \"word\"", "value: \"words\"\n      chars: 3")),
            "pack.yaml: prompts[0].expect.value: 5 characters but chars is 3 (can never match)");
  EXPECT_EQ(error_of(replace(kCanary, "expect: {match: regex, value: \"(?i)it\", chars: 24}", "expect: yes")),
            "pack.yaml: prompts[1].expect: want a mapping, got 'yes'");
}

TEST(ProbePackErrors, KindRules) {
  EXPECT_EQ(error_of(std::string(kCanary) + "claims: []\n"), "pack.yaml: claims: not allowed in canary packs");
  EXPECT_EQ(error_of(replace(kCanary, "kind: canary", "kind: trigger") + "declared_vendor: x\n"),
            "pack.yaml: declared_vendor: not allowed in trigger packs");
  EXPECT_EQ(error_of(replace(kIdentity, "language: zh}", "language: zh, expect: {match: exact, value: x}}")),
            "pack.yaml: prompts[1].expect: not allowed in identity packs (use claims)");
  std::string id = kIdentity;
  EXPECT_EQ(error_of(id.substr(0, id.find("claims:"))), "pack.yaml: claims: required field missing in identity packs");
}

TEST(ProbePackErrors, Claims) {
  EXPECT_EQ(error_of(replace(kIdentity, "match: normalized", "match: sha256")),
            "pack.yaml: claims[1].match: unknown matcher 'sha256' (want regex or normalized)");
  EXPECT_EQ(error_of(replace(kIdentity, "vendor: Meta,", "vendor: Anthropic,")),
            "pack.yaml: claims[1].vendor: duplicate vendor 'Anthropic' (also claims[0])");
  EXPECT_EQ(error_of(replace(kIdentity, "protected: true", "protected: maybe")),
            "pack.yaml: claims[0].protected: want true or false, got 'maybe'");
  EXPECT_EQ(error_of(replace(kIdentity, "{vendor: Meta, ", "{")), "pack.yaml: claims[1].vendor: required field missing");
  EXPECT_EQ(error_of(replace(kIdentity, ", value: \"Meta AI\"", "")), "pack.yaml: claims[1].value: required field missing");
  EXPECT_EQ(error_of(replace(kIdentity, "match: normalized, ", "match: normalized, weight: 2, ")),
            "pack.yaml: claims[1].weight: unknown field");
  EXPECT_EQ(error_of(replace(kIdentity, "declared_vendor: Meta", "declared_vendor: [Meta]")),
            "pack.yaml: declared_vendor: want a string, got a list");
}

TEST(ProbePackErrors, AliasesCannotAmplify) {
  // One 60000-byte text, repeated by alias: the 280th copy passes 16 MiB.
  std::string y = "id: a\nversion: 1\ndescription: d\nkind: identity\nchance_probability: 0.1\nclaims: [{vendor: V, match: regex, value: v}]\nprompts:\n"
      "  - {id: p0, text: &t \"" + std::string(60000, 'a') + "\"}\n";
  for (int i = 1; i < 400; ++i) y += "  - {id: p" + std::to_string(i) + ", text: *t}\n";
  EXPECT_EQ(error_of(y), "pack.yaml: prompts[279]: prompt text totals 16800000 bytes, over the pack cap of 16777216");
}

TEST(ProbePack, LoadFileAndSizeCap) {
  test::TempDir dir;
  std::string path = dir.write("p.yaml", kCanary);
  Pack p;
  Error err;
  ASSERT_TRUE(load_pack(path, &p, &err)) << err.str();
  EXPECT_EQ(p.source, path);
  EXPECT_FALSE(load_pack_file(dir.path().string() + "/missing.yaml", &p, &err));
  EXPECT_EQ(err.message, "cannot read pack file");
  std::string big = dir.write("big.yaml", std::string(kMaxPackBytes + 1, '#'));
  EXPECT_FALSE(load_pack_file(big, &p, &err));
  EXPECT_EQ(err.message, "16777217 bytes exceeds the pack size cap of 16777216 (16.0 MiB)");
  EXPECT_FALSE(load_pack("no-such-pack-xyz", &p, &err));
  EXPECT_EQ(err.str().rfind("no-such-pack-xyz: no such pack file or built-in pack (built-in: ", 0), 0u) << err.str();
}

TEST(ProbePack, BuiltinPacksAllParse) {
  std::vector<Pack> packs;
  Error err;
  ASSERT_TRUE(builtin_packs(&packs, &err)) << err.str();
  ASSERT_EQ(packs.size(), builtin_pack_files().size());
  bool canary = false;
  for (const Pack& p : packs) {
    EXPECT_EQ(p.source, "builtin:" + p.id);
    EXPECT_EQ(p.sha256.size(), 64u);
    canary = canary || p.id == "canary-example";
  }
  EXPECT_TRUE(canary);
  Pack c;
  ASSERT_TRUE(load_pack("canary-example", &c, &err)) << err.str();
  EXPECT_EQ(c.prompts.size(), 8u);
  EXPECT_EQ(c.chance_probability, 1.0 / 256);
}

const char* const kWatermark = R"(id: wm
version: 2
description: "radioactivity"
kind: watermark
watermark:
  scheme: kgw
  gamma: 0.25
  h: 2
  key_fingerprints: ["630dcd2966c43366", "b4a696b6494ed1bd"]
  modes: [closed, reading]
  tokenizer: tok/tokenizer.json
  reference: "ref.jsonl"
  threshold: 1.0e-9
  max_tokens: 12
  temperature: 0.7
  seed: 18446744073709551615
  reading_max_positions: 50
  prompts:
    - "123"
    - 456
    - "true"
)";

TEST(ProbePack, ParsesWatermark) {
  Pack p;
  Error err;
  ASSERT_TRUE(parse_pack(replace(kWatermark, "    - 456\n", ""), "pack.yaml", &p, &err)) << err.str();
  EXPECT_EQ(p.kind, PackKind::kWatermark);
  EXPECT_STREQ(pack_kind_name(p.kind), "watermark");
  EXPECT_TRUE(p.prompts.empty());
  ASSERT_TRUE(p.watermark);
  const wm::WatermarkConfig& w = *p.watermark;
  EXPECT_EQ(w.scheme, "kgw");
  EXPECT_EQ(w.gamma, 0.25);
  EXPECT_EQ(w.h, 2u);
  EXPECT_EQ(w.key_fingerprints, (std::vector<std::string>{"630dcd2966c43366", "b4a696b6494ed1bd"}));
  EXPECT_EQ(w.modes, (std::vector<std::string>{"closed", "reading"}));
  EXPECT_EQ(w.tokenizer, "tok/tokenizer.json");  // parse_pack leaves paths as written
  EXPECT_EQ(w.reference, "ref.jsonl");
  EXPECT_EQ(w.threshold, 1e-9);
  EXPECT_EQ(w.max_tokens, 12);
  EXPECT_EQ(w.temperature, 0.7);
  EXPECT_EQ(w.seed, 18446744073709551615u);
  EXPECT_EQ(w.reading_max_positions, 50u);
  EXPECT_EQ(w.prompts, (std::vector<std::string>{"123", "true"}));
  // Quoted scalars stay strings; a plain number in a string list is refused by the detector's parser.
  EXPECT_EQ(error_of(kWatermark), "pack.yaml: watermark.prompts[1]: not a string");
}

TEST(ProbePack, WatermarkPathsResolveAgainstThePackFile) {
  test::TempDir dir;
  std::string pack = replace(kWatermark, "    - 456\n", "");
  pack = replace(pack, "  reading_max_positions: 50\n", "  reading_max_positions: 50\n  # bytes stays a tokenizer name\n");
  std::string path = dir.write("sub/pack.yaml", pack);
  Pack p;
  Error err;
  ASSERT_TRUE(load_pack_file(path, &p, &err)) << err.str();
  EXPECT_EQ(p.watermark->tokenizer, dir.path().string() + "/sub/tok/tokenizer.json");
  EXPECT_EQ(p.watermark->reference, dir.path().string() + "/sub/ref.jsonl");
  std::string abs = dir.write("abs.yaml", replace(replace(pack, "tok/tokenizer.json", "bytes"), "\"ref.jsonl\"", "/x/ref.jsonl"));
  ASSERT_TRUE(load_pack_file(abs, &p, &err)) << err.str();
  EXPECT_EQ(p.watermark->tokenizer, "bytes");
  EXPECT_EQ(p.watermark->reference, "/x/ref.jsonl");
}

TEST(ProbePackErrors, WatermarkRules) {
  std::string ok = replace(kWatermark, "    - 456\n", "");
  EXPECT_EQ(error_of(ok), "");
  EXPECT_EQ(error_of(replace(ok, "kind: watermark", "kind: canary\nchance_probability: 0.5")),
            "pack.yaml: watermark: only allowed in watermark packs");
  EXPECT_EQ(error_of(ok + "prompts: [{id: a, text: b}]\n"),
            "pack.yaml: prompts: not allowed in watermark packs (use watermark.prompts)");
  EXPECT_EQ(error_of(ok + "threshold: 0.01\n"),
            "pack.yaml: threshold: not allowed in watermark packs (use watermark.threshold)");
  EXPECT_EQ(error_of(ok + "chance_probability: 0.5\n"),
            "pack.yaml: chance_probability: not allowed in watermark packs (see docs/watermark.md)");
  std::string head = ok.substr(0, ok.find("watermark:\n"));
  EXPECT_EQ(error_of(head), "pack.yaml: watermark: required field missing in watermark packs");
  EXPECT_EQ(error_of(head + "watermark: 3\n"), "pack.yaml: watermark: not a mapping");
  EXPECT_EQ(error_of(replace(ok, "gamma: 0.25", "gamma: 1.5")), "pack.yaml: watermark.gamma: 1.5 is not in [1e-09, 1]");
  EXPECT_EQ(error_of(replace(ok, "gamma: 0.25", "gamma: \"0.25\"")), "pack.yaml: watermark.gamma: not a number");
  EXPECT_EQ(error_of(replace(ok, "h: 2", "h: -1")), "pack.yaml: watermark.h: not a non-negative integer");
  EXPECT_EQ(error_of(replace(ok, "\"b4a696b6494ed1bd\"", "\"B4A696B6494ED1BD\"")),
            "pack.yaml: watermark.key_fingerprints[1]: not 16 lowercase hex digits");
  EXPECT_EQ(error_of(replace(ok, "modes: [closed, reading]", "modes: [open]")),
            "pack.yaml: watermark.modes[0]: unknown mode (want closed or reading)");
  EXPECT_EQ(error_of(replace(ok, "  scheme: kgw\n", "  scheme: kgw\n  colour: green\n")),
            "pack.yaml: watermark.colour: unknown field");
  // Depth: watermark (0) > x > a > b > c > 32 nested lists; the list at depth 33 is refused.
  std::string deep = "  x: {a: {b: {c: " + std::string(32, '[') + "1" + std::string(32, ']') + "}}}\n";
  std::string where = "watermark.x.a.b.c";
  for (int i = 0; i < 29; ++i) where += "[0]";
  EXPECT_EQ(error_of(replace(ok, "  scheme: kgw\n", "  scheme: kgw\n" + deep)),
            "pack.yaml: " + where + ": nested deeper than 32 levels");
}

TEST(ProbePackErrors, WatermarkAliasesCannotAmplify) {
  std::string ok = replace(kWatermark, "    - 456\n", "");
  std::string bomb = "  x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n";
  for (int i = 1; i < 6; ++i)
    bomb += "  x" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + "]\n";
  std::string e = error_of(replace(ok, "  scheme: kgw\n", "  scheme: kgw\n" + bomb));
  EXPECT_NE(e.find(": more than 262144 yaml nodes"), std::string::npos) << e;
}

}  // namespace
}  // namespace pedigree::probes
