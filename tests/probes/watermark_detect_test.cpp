// This file implements the tests of probes/watermark_detect.cpp with a fake
// Backend over a toy language: watermarked generations (our own kgw generator)
// give tiny p-values, clean ones give uniform-looking p-values, a wrong key
// detects nothing, dedup keeps repeated text from inflating the count, reading
// mode sees a "radioactive" suspect, and pack/key errors name the field.
#include "probes/watermark_detect.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace pedigree::probes::wm {
namespace {

constexpr uint32_t kLo = 0x30, kHi = 0x70;  // toy alphabet: bytes '0'..'o'

/// Toy next-token logits over bytes: a fixed pseudo-random table per previous byte.
std::vector<double> toy_logits(uint32_t prev) {
  std::vector<double> lg(256, -INFINITY);
  std::mt19937_64 rng(prev * 7919u + 1);
  std::normal_distribution<double> nd(0.0, 1.5);
  for (uint32_t v = kLo; v < kHi; ++v) lg[v] = nd(rng);
  return lg;
}

uint32_t sample(const std::vector<double>& lg, std::mt19937_64& rng) {
  double mx = *std::max_element(lg.begin(), lg.end());
  std::vector<double> w(lg.size());
  for (size_t i = 0; i < lg.size(); ++i) w[i] = std::exp(lg[i] - mx);
  std::discrete_distribution<uint32_t> d(w.begin(), w.end());
  return d(rng);
}

WatermarkKey key_of(std::string secret, double delta = 3.0) {
  WatermarkKey k;
  k.key = std::move(secret);
  k.delta = delta;
  return k;
}

/// A fake suspect: continues prompts from the toy language, optionally with
/// a kgw watermark (closed mode) or a learned green bias (reading mode, argmax).
class ToyBackend : public Backend {
 public:
  explicit ToyBackend(const WatermarkKey* wm, bool repeat = false) : wm_(wm), repeat_(repeat) {}
  bool complete(const ProbeRequest& req, ProbeResponse* out, Error*) override {
    ++calls;
    std::mt19937_64 rng(repeat_ ? 7 : req.seed * 1000003u + std::hash<std::string>()(req.prompt));
    std::string s = req.prompt;
    while (s.size() < 2) s.insert(s.begin(), static_cast<char>(kLo));
    std::string gen;
    for (int i = 0; i < req.max_tokens; ++i) {
      uint32_t a = static_cast<unsigned char>(s[s.size() - 2]), b = static_cast<unsigned char>(s.back());
      const std::vector<double>& lg = logits(a, b);
      uint32_t t = req.temperature == 0 ? static_cast<uint32_t>(std::max_element(lg.begin(), lg.end()) - lg.begin())
                                        : sample(lg, rng);
      s.push_back(static_cast<char>(t));
      gen.push_back(static_cast<char>(t));
    }
    out->text = repeat_ ? std::string("0123456789abcdef0123") : gen;
    return true;
  }
  std::string describe() const override { return "toy"; }
  int calls = 0;

 private:
  /// Toy logits after (a, b), with the kgw bias when watermarking; memoized per context.
  const std::vector<double>& logits(uint32_t a, uint32_t b) {
    auto [it, fresh] = memo_.try_emplace(a * 256 + b);
    if (fresh) {
      it->second = toy_logits(b);
      std::vector<uint32_t> ctx = {a, b};
      if (wm_) kgw_bias(*wm_, ctx, it->second);
    }
    return it->second;
  }
  std::map<uint32_t, std::vector<double>> memo_;
  const WatermarkKey* wm_;
  bool repeat_;
};

/// Serializes calls into a backend that is not thread-safe, and records prompts.
class LockedBackend : public Backend {
 public:
  explicit LockedBackend(Backend* inner) : inner_(inner) {}
  bool complete(const ProbeRequest& req, ProbeResponse* out, Error* err) override {
    std::lock_guard<std::mutex> l(mu_);
    prompts.push_back(req.prompt);
    return inner_->complete(req, out, err);
  }
  std::string describe() const override { return inner_->describe(); }
  std::vector<std::string> prompts;

 private:
  Backend* inner_;
  std::mutex mu_;
};

WatermarkConfig closed_config(size_t prompts) {
  WatermarkConfig c;
  c.modes = {"closed"};
  c.max_tokens = 60;
  for (size_t i = 0; i < prompts; ++i) c.prompts.push_back("p" + std::to_string(i) + "_" + std::to_string(i * 37));
  return c;
}

WatermarkReport closed(Backend& b, const WatermarkConfig& c, const Tokenizer& tok, std::vector<WatermarkKey> keys) {
  DetectInputs in;
  in.config = &c;
  in.tokenizer = &tok;
  in.keys = std::move(keys);
  WatermarkReport r;
  Error err;
  EXPECT_TRUE(detect_closed(b, in, &r, &err)) << err.str();
  return r;
}

TEST(WatermarkDetect, ClosedModeWatermarkedGivesTinyP) {
  WatermarkKey k = key_of("provider-secret-key-01");
  ToyBackend suspect(&k);
  auto tok = make_bytes_tokenizer();
  WatermarkReport r = closed(suspect, closed_config(20), *tok, {k});
  ASSERT_EQ(r.keys.size(), 1u);
  const ScoreSummary& s = r.keys[0].summary;
  EXPECT_GT(s.n, 500u);
  EXPECT_GT(static_cast<double>(s.green) / static_cast<double>(s.n), 0.5);
  EXPECT_LT(s.log10_p, -30.0);
  EXPECT_EQ(suspect.calls, 20);
}

TEST(WatermarkDetect, ClosedModeCleanAndWrongKeysLookUniform) {
  WatermarkKey k = key_of("provider-secret-key-01");
  ToyBackend watermarked(&k), clean(nullptr);
  auto tok = make_bytes_tokenizer();
  WatermarkConfig c = closed_config(20);
  std::vector<WatermarkKey> strangers;
  for (int i = 0; i < 40; ++i) strangers.push_back(key_of("stranger-key-number-" + std::to_string(i)));
  // One generation pass, 40 keys each: clean text, and watermarked text under wrong keys.
  for (Backend* b : {static_cast<Backend*>(&clean), static_cast<Backend*>(&watermarked)}) {
    WatermarkReport r = closed(*b, c, *tok, strangers);
    ASSERT_EQ(r.keys.size(), 40u);
    int below_05 = 0;
    double mean_p = 0;
    for (const KeyReport& kr : r.keys) {
      double p = std::pow(10.0, kr.summary.log10_p);
      mean_p += p / 40;
      below_05 += p < 0.05;
      EXPECT_GT(kr.summary.log10_p, -3.0);
    }
    EXPECT_LE(below_05, 8);
    EXPECT_GT(mean_p, 0.3);
    EXPECT_LT(mean_p, 0.7);
  }
}

TEST(WatermarkDetect, RepeatedTextDoesNotInflateTheCount) {
  WatermarkKey k = key_of("provider-secret-key-01");
  ToyBackend parrot(nullptr, /*repeat=*/true);
  auto tok = make_bytes_tokenizer();
  WatermarkConfig c = closed_config(30);
  WatermarkReport r = closed(parrot, c, *tok, {k});
  // The same 20-byte answer 30 times: its tuples count once (the seam windows
  // differ per prompt, so a few more than 18).
  EXPECT_LE(r.keys[0].summary.n, 18u + 2 * 30u);
  c.dedup = Dedup::kOff;
  WatermarkReport off = closed(parrot, c, *tok, {k});
  EXPECT_EQ(off.keys[0].summary.n, 30u * 20u);
}

TEST(WatermarkDetect, ReadingModeSeesALearnedBias) {
  WatermarkKey k = key_of("provider-secret-key-01");
  // Reference: watermarked text from the provider.
  ToyBackend provider(&k);
  std::vector<ReferenceDoc> reference;
  for (int i = 0; i < 10; ++i) {
    ProbeRequest req;
    req.prompt = "r" + std::to_string(i);
    req.max_tokens = 80;
    req.temperature = 1.0;
    ProbeResponse resp;
    ASSERT_TRUE(provider.complete(req, &resp, nullptr));
    reference.push_back({"", resp.text});
  }
  auto tok = make_bytes_tokenizer();
  WatermarkConfig c;
  c.modes = {"reading"};
  DetectInputs in;
  in.config = &c;
  in.tokenizer = tok.get();
  in.keys = {k};
  in.reference = reference;
  ToyBackend radioactive(&k), clean(nullptr);
  WatermarkReport r1, r2;
  Error err;
  ASSERT_TRUE(detect_reading(radioactive, in, &r1, &err)) << err.str();
  ASSERT_TRUE(detect_reading(clean, in, &r2, &err)) << err.str();
  EXPECT_EQ(r1.requests, 10u * 78u);
  EXPECT_LT(r1.keys[0].summary.log10_p, -20.0);
  EXPECT_GT(r2.keys[0].summary.log10_p, -3.0);
}

TEST(WatermarkDetect, ReadingModeFeedsTheContextButScoresOnlyTheText) {
  WatermarkKey k = key_of("provider-secret-key-01");
  auto tok = make_bytes_tokenizer();
  WatermarkConfig c;
  c.modes = {"reading"};
  c.reading_context = 6;
  DetectInputs in;
  in.config = &c;
  in.tokenizer = tok.get();
  in.keys = {k};
  in.reference = {{"0123456789", "abcde"}};
  ToyBackend suspect(&k);
  LockedBackend locked(&suspect);
  WatermarkReport r;
  Error err;
  ASSERT_TRUE(detect_reading(locked, in, &r, &err)) << err.str();
  // One prediction per text byte; the first one is fed the context's last 6 bytes.
  EXPECT_EQ(r.requests, 5u);
  EXPECT_EQ(locked.prompts, (std::vector<std::string>{"456789", "56789a", "6789ab", "789abc", "89abcd"}));
  in.reference = {{"", "0123456789abcde"}};  // the same bytes without a context: 13 predictions
  ASSERT_TRUE(detect_reading(locked, in, &r, &err)) << err.str();
  EXPECT_EQ(r.requests, 13u);
}

TEST(WatermarkDetect, ResultsDoNotDependOnConcurrency) {
  WatermarkKey k = key_of("provider-secret-key-01");
  auto tok = make_bytes_tokenizer();
  WatermarkConfig c = closed_config(30);
  c.modes = {"closed", "reading"};
  c.min_window_count = 1;
  c.samples_per_prompt = 2;
  DetectInputs in;
  in.config = &c;
  in.tokenizer = tok.get();
  in.keys = {k, key_of("provider-secret-key-02")};
  in.reference = {{"q0", "0a1b2c3d4e5f6g7h"}, {"", "hgfedcba98765"}};
  std::vector<std::string> runs;
  for (int conc : {1, 4, 16}) {
    ToyBackend suspect(&k);
    LockedBackend locked(&suspect);
    in.concurrency = conc;
    WatermarkRun run;
    Error err;
    ASSERT_TRUE(run_watermark(locked, in, &run, &err)) << err.str();
    runs.push_back(run_json(run).dump());
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);
  // 30 prompts x 2 samples; 16 + 11 reading positions (the context "q0" is not predicted).
  EXPECT_NE(runs[0].find("\"mode\":\"closed\",\"requests\":60"), std::string::npos) << runs[0];
  EXPECT_NE(runs[0].find("\"mode\":\"reading\",\"requests\":27"), std::string::npos) << runs[0];
}

TEST(WatermarkDetect, RunDecidesWithBonferroniAcrossKeys) {
  WatermarkKey k = key_of("provider-secret-key-01"), other = key_of("provider-secret-key-02");
  ToyBackend suspect(&k);
  auto tok = make_bytes_tokenizer();
  WatermarkConfig c = closed_config(20);
  DetectInputs in;
  in.config = &c;
  in.tokenizer = tok.get();
  in.keys = {other, k};
  WatermarkRun run;
  Error err;
  ASSERT_TRUE(run_watermark(suspect, in, &run, &err)) << err.str();
  EXPECT_EQ(run.tests, 2u);
  EXPECT_TRUE(run.detected);
  EXPECT_NEAR(run.log10_p_adjusted, run.log10_p_min + std::log10(2.0), 1e-9);
  nlohmann::json j = run_json(run);
  EXPECT_EQ(j["reports"][0]["keys"][1]["key_fingerprint"], k.fingerprint());
  EXPECT_EQ(j.dump().find("provider-secret"), std::string::npos);
  in.keys = {other};
  ASSERT_TRUE(run_watermark(suspect, in, &run, &err));
  EXPECT_FALSE(run.detected);
}

TEST(WatermarkDetect, ConfigErrorsNameTheField) {
  struct Case {
    std::string json, msg;
  };
  std::vector<Case> cases = {
      {R"({"key_fingerprints":["b4a696b6494ed1bd"],"gamma":2,"prompts":["a"]})",
       "pack.json: watermark.gamma: 2 is not in [1e-09, 1]"},
      {R"({"prompts":["a"]})", "pack.json: watermark.key_fingerprints: missing or not a non-empty list"},
      {R"({"key_fingerprints":["B4A696B6494ED1BD"],"prompts":["a"]})",
       "pack.json: watermark.key_fingerprints[0]: not 16 lowercase hex digits"},
      {R"({"key_fingerprints":["b4a696b6494ed1bd"],"modes":["open"]})",
       "pack.json: watermark.modes[0]: unknown mode (want closed or reading)"},
      {R"({"key_fingerprints":["b4a696b6494ed1bd"]})",
       "pack.json: watermark.prompts: closed mode needs at least one prompt"},
      {R"({"key_fingerprints":["b4a696b6494ed1bd"],"modes":["reading"]})",
       "pack.json: watermark.reference: reading mode and min_window_count need a reference text file"},
      {R"({"key_fingerprints":["b4a696b6494ed1bd"],"prompts":["a"],"dedup":"maybe"})",
       "pack.json: watermark.dedup: unknown value 'maybe' (want tuple, window or off)"},
      {R"({"key_fingerprints":["b4a696b6494ed1bd"],"prompts":["a"],"h":17})",
       "pack.json: watermark.h: 17 is not in 1..16"},
      {R"({"key_fingerprints":["b4a696b6494ed1bd"],"prompts":["a"],"colour":1})",
       "pack.json: watermark.colour: unknown field"},
      {R"({"key_fingerprints":["b4a696b6494ed1bd"],"prompts":["a"],"top_p":1.5})",
       "pack.json: watermark.top_p: 1.5 is not in [0, 1]"},
      {R"({"key_fingerprints":["b4a696b6494ed1bd"],"prompts":["a"],"top_k":-1})",
       "pack.json: watermark.top_k: not a non-negative integer"},
      {R"({"key_fingerprints":["b4a696b6494ed1bd"],"prompts":["a"],"min_p":"low"})",
       "pack.json: watermark.min_p: not a number"},
  };
  for (const Case& c : cases) {
    WatermarkConfig cfg;
    Error err;
    EXPECT_FALSE(parse_watermark_config(nlohmann::json::parse(c.json), "pack.json", &cfg, &err)) << c.json;
    EXPECT_EQ(err.str(), c.msg);
  }
  WatermarkConfig cfg;
  Error err;
  ASSERT_TRUE(parse_watermark_config(
      nlohmann::json::parse(R"({"key_fingerprints":["b4a696b6494ed1bd"],"modes":["closed","reading"],
        "prompts":["a"],"reference":"ref.jsonl","min_window_count":2,"threshold":1e-3})"),
      "pack.json", &cfg, &err))
      << err.str();
  EXPECT_EQ(cfg.modes.size(), 2u);
  EXPECT_EQ(cfg.min_window_count, 2u);
  EXPECT_EQ(cfg.threshold, 1e-3);
  EXPECT_FALSE(cfg.top_k || cfg.top_p || cfg.min_p);
  ASSERT_TRUE(parse_watermark_config(
      nlohmann::json::parse(R"({"key_fingerprints":["b4a696b6494ed1bd"],"prompts":["a"],"top_k":0,"top_p":1,"min_p":0})"),
      "pack.json", &cfg, &err))
      << err.str();
  EXPECT_EQ(cfg.top_k, 0);
  EXPECT_EQ(cfg.top_p, 1.0);
  EXPECT_EQ(cfg.min_p, 0.0);
}

TEST(WatermarkDetect, ClosedModeSendsThePackSamplerFields) {
  WatermarkKey k = key_of("provider-secret-key-01");
  auto tok = make_bytes_tokenizer();
  WatermarkConfig c = closed_config(2);
  c.top_k = 0, c.top_p = 1.0, c.min_p = 0.0;
  struct Spy : Backend {
    std::vector<ProbeRequest> seen;
    bool complete(const ProbeRequest& req, ProbeResponse* out, Error*) override {
      seen.push_back(req);
      out->text = "abc";
      return true;
    }
    std::string describe() const override { return "spy"; }
  } spy;
  closed(spy, c, *tok, {k});
  ASSERT_EQ(spy.seen.size(), 2u);
  EXPECT_EQ(spy.seen[0].top_k, 0);
  EXPECT_EQ(spy.seen[0].top_p, 1.0);
  EXPECT_EQ(spy.seen[0].min_p, 0.0);
}

TEST(WatermarkDetect, LoadKeysRefusesAStrangerKey) {
  test::TempDir dir;
  std::string good = dir.write("good.json", R"({"scheme":"kgw","gamma":0.25,"h":2,"key_hex":"70656469677265652d746573742d6b65792d30303031"})");
  std::string bad = dir.write("bad.json", R"({"scheme":"kgw","gamma":0.25,"h":2,"key_hex":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"})");
  WatermarkConfig cfg;
  cfg.key_fingerprints = {"b4a696b6494ed1bd"};
  std::vector<WatermarkKey> keys;
  Error err;
  ASSERT_TRUE(load_keys({good}, cfg, &keys, &err)) << err.str();
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_FALSE(load_keys({good, bad}, cfg, &keys, &err));
  EXPECT_EQ(err.str(), bad + ": key fingerprint 630dcd2966c43366 does not match any of the pack's key_fingerprints");
  EXPECT_FALSE(load_keys({good, good}, cfg, &keys, &err));
  EXPECT_EQ(err.str(), good + ": key fingerprint b4a696b6494ed1bd given twice");
}

TEST(WatermarkDetect, ReferenceFileIsJsonLines) {
  test::TempDir dir;
  std::vector<ReferenceDoc> docs;
  Error err;
  ASSERT_TRUE(load_reference(
      dir.write("r.jsonl", "\"one\\ntwo\"\n{\"text\":\"three\"}\n\n{\"context\":\"q\",\"text\":\"four\"}\n"), &docs,
      &err));
  EXPECT_EQ(docs, (std::vector<ReferenceDoc>{{"", "one\ntwo"}, {"", "three"}, {"q", "four"}}));
  std::string bad = dir.write("bad.jsonl", "\"ok\"\n42\n");
  EXPECT_FALSE(load_reference(bad, &docs, &err));
  EXPECT_EQ(err.str(), bad + ": line 2: not a json string or an object with a \"text\" string");
  std::string bad_ctx = dir.write("ctx.jsonl", "{\"context\":7,\"text\":\"x\"}\n");
  EXPECT_FALSE(load_reference(bad_ctx, &docs, &err));
  EXPECT_EQ(err.str(), bad_ctx + ": line 1: \"context\" is not a string");
}

}  // namespace
}  // namespace pedigree::probes::wm
