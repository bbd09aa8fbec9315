// Tests the watermark side of `pedigree probe`: key files are matched to the
// watermark packs that list them (exact error strings, no key bytes in any of
// them), the pack's tokenizer and reference text load, and the text summary.
#include <gtest/gtest.h>

#include <string>

#include "probes/watermark_pack.h"
#include "tests/support/test_util.h"

namespace pedigree::probes {
namespace {

constexpr const char* kHexA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";  // 630dcd2966c43366
constexpr const char* kHexB = "70656469677265652d746573742d6b65792d30303031";  // b4a696b6494ed1bd

std::string key_json(const std::string& hex, int h = 2) {
  return R"({"scheme":"kgw","gamma":0.25,"h":)" + std::to_string(h) + R"(,"key_hex":")" + hex + "\"}";
}

Pack watermark_pack(const std::string& source, std::vector<std::string> fps) {
  Pack p;
  p.id = "wm";
  p.kind = PackKind::kWatermark;
  p.source = source;
  p.watermark.emplace();
  p.watermark->key_fingerprints = std::move(fps);
  return p;
}

Pack canary_pack() {
  Pack p;
  p.id = "c";
  p.source = "c.yaml";
  return p;
}

// The error of assign_watermark_keys, or "" when it succeeds; it must never contain key bytes.
std::string assign_error(const std::vector<Pack>& packs, const std::vector<std::string>& keys,
                         std::vector<std::vector<wm::WatermarkKey>>* out = nullptr) {
  std::vector<std::vector<wm::WatermarkKey>> tmp;
  Error err;
  if (assign_watermark_keys(packs, keys, out ? out : &tmp, &err)) return "";
  EXPECT_EQ(err.str().find(kHexA), std::string::npos);
  EXPECT_EQ(err.str().find(kHexB), std::string::npos);
  return err.str();
}

TEST(WatermarkPack, KeysGoToThePacksThatListThem) {
  test::TempDir dir;
  std::string a = dir.write("a.json", key_json(kHexA)), b = dir.write("b.json", key_json(kHexB));
  std::vector<Pack> packs = {canary_pack(), watermark_pack("one.yaml", {"630dcd2966c43366"}),
                             watermark_pack("both.yaml", {"b4a696b6494ed1bd", "630dcd2966c43366"})};
  std::vector<std::vector<wm::WatermarkKey>> keys;
  EXPECT_EQ(assign_error(packs, {a, b}, &keys), "");
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_TRUE(keys[0].empty());
  ASSERT_EQ(keys[1].size(), 1u);
  EXPECT_EQ(keys[1][0].fingerprint(), "630dcd2966c43366");
  ASSERT_EQ(keys[2].size(), 2u);
  EXPECT_EQ(keys[2][1].fingerprint(), "b4a696b6494ed1bd");
  EXPECT_EQ(assign_error({canary_pack()}, {}), "");
}

TEST(WatermarkPack, KeyErrorsNameTheFileAndField) {
  test::TempDir dir;
  std::string a = dir.write("a.json", key_json(kHexA)), b = dir.write("b.json", key_json(kHexB));
  std::vector<Pack> one = {watermark_pack("one.yaml", {"630dcd2966c43366"})};
  EXPECT_EQ(assign_error(one, {}),
            "one.yaml: watermark pack needs --watermark-key FILE for one of its key_fingerprints (630dcd2966c43366)");
  EXPECT_EQ(assign_error(one, {b}),
            b + ": key fingerprint b4a696b6494ed1bd does not match any of the pack's key_fingerprints");
  EXPECT_EQ(assign_error(one, {a, a}), a + ": key fingerprint 630dcd2966c43366 given twice");
  EXPECT_EQ(assign_error({canary_pack()}, {a}), a + ": --watermark-key given but no --pack is a watermark pack");
  std::string h3 = dir.write("h3.json", key_json(kHexA, 3));
  EXPECT_EQ(assign_error(one, {h3}), h3 + ": h 3 differs from the pack's 2");
  std::string nohex = dir.write("nohex.json", R"({"scheme":"kgw","gamma":0.25,"h":2})");
  EXPECT_EQ(assign_error(one, {nohex}), nohex + ": key_hex: missing or not a string");
  std::string odd = dir.write("odd.json", key_json(std::string(kHexA) + "0"));
  EXPECT_EQ(assign_error(one, {odd}), odd + ": key_hex: not an even number of hex digits");
  std::string junk = dir.write("junk.json", std::string("{\"key_hex\": \"") + kHexA);
  EXPECT_EQ(assign_error(one, {junk}), junk + ": key file is not a json object");
  EXPECT_EQ(assign_error(one, {dir.path().string() + "/none.json"}), dir.path().string() + "/none.json: cannot open key file");
}

TEST(WatermarkPack, LoadsTokenizerAndReference) {
  test::TempDir dir;
  wm::WatermarkConfig cfg;
  cfg.tokenizer = "bytes";
  cfg.reference = dir.write("ref.jsonl", "\"one\"\n{\"text\": \"two\"}\n");
  WatermarkAssets a;
  Error err;
  ASSERT_TRUE(load_watermark_files(cfg, &a, &err)) << err.str();
  EXPECT_EQ(a.tokenizer->kind(), "bytes");
  EXPECT_EQ(a.reference, (std::vector<wm::ReferenceDoc>{{"", "one"}, {"", "two"}}));
  cfg.reference = dir.path().string() + "/missing.jsonl";
  EXPECT_FALSE(load_watermark_files(cfg, &a, &err));
  EXPECT_EQ(err.str(), cfg.reference + ": cannot open reference text");
  cfg.reference.clear();
  cfg.tokenizer = dir.write("vocab.txt", "a b c");
  EXPECT_FALSE(load_watermark_files(cfg, &a, &err));
  EXPECT_EQ(err.str(), cfg.tokenizer + ": unknown tokenizer (want bytes, a .gguf model or a tokenizer.json)");
}

TEST(WatermarkPack, SummaryText) {
  wm::WatermarkConfig cfg;
  wm::WatermarkRun run;
  run.threshold = 1e-6;
  run.tests = 2;
  wm::WatermarkReport closed{"closed", "kgw", 24, {}};
  closed.keys.push_back({"630dcd2966c43366", {400, 250, 250.0, 17.5, -54.25}, {}});
  wm::WatermarkReport reading{"reading", "kgw", 360, {}};
  reading.keys.push_back({"630dcd2966c43366", {0, 0, 0.0, 0.0, 0.0}, {}});
  run.reports = {closed, reading};
  run.log10_p_min = -54.25;
  run.log10_p_adjusted = -53.95;
  run.detected = true;
  EXPECT_EQ(watermark_run_text(cfg, run),
            "  scheme kgw, gamma 0.25, h 2, dedup tuple; 2 test(s) (keys x modes, Bonferroni)\n"
            "  mode     key              requests  scored  green fraction        z   log10 p\n"
            "  closed   630dcd2966c43366       24     400    250  0.6250    17.50    -54.25\n"
            "  reading  630dcd2966c43366      360       0      0  0.0000     0.00      0.00\n"
            "  p (Bonferroni) = 1e-53.95 vs threshold 1e-06: DETECTED (flagged)\n");
  run.detected = false;
  run.log10_p_adjusted = -1.0;
  EXPECT_NE(watermark_run_text(cfg, run).find("p (Bonferroni) = 0.1 vs threshold 1e-06: not detected\n"), std::string::npos);
}

}  // namespace
}  // namespace pedigree::probes
