// Tests the probe runner against a fake in-process Backend: decisions for
// canary and identity packs, Wilson rates, Fisher across packs, identical
// results at any concurrency, seeds per sample, and backend errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <mutex>
#include <set>

#include "probes/runner.h"
#include "probes/stats.h"

namespace pedigree::probes {
namespace {

// Answers each request with `answer(req)`; fails on prompts containing "FAIL".
class FakeBackend : public Backend {
 public:
  explicit FakeBackend(std::function<std::string(const ProbeRequest&)> answer) : answer_(std::move(answer)) {}
  bool complete(const ProbeRequest& req, ProbeResponse* out, Error* err) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests.push_back(req);
    }
    if (req.prompt.find("FAIL") != std::string::npos)
      return fail(err, "http://fake/v1", std::nullopt, "connection refused");
    out->text = answer_(req);
    out->finish_reason = "stop";
    return true;
  }
  std::string describe() const override { return "fake"; }
  std::vector<ProbeRequest> requests;

 private:
  std::function<std::string(const ProbeRequest&)> answer_;
  std::mutex mu_;
};

Pack make_canary(int prompts, int samples, double temperature = 0.0) {
  std::string y = "id: c\nversion: 1\ndescription: d\nkind: canary\nchance_probability: 0.00390625\n";
  y += "sampling: {samples: " + std::to_string(samples) + ", temperature: " + std::to_string(temperature) + "}\n";
  y += "prompts:\n";
  for (int i = 0; i < prompts; ++i)
    y += "  - {id: p" + std::to_string(i) + ", text: \"trigger " + std::to_string(i) +
         "\", expect: {match: normalized, value: \"secret " + std::to_string(i) + "\"}}\n";
  Pack p;
  Error err;
  EXPECT_TRUE(parse_pack(y, "c.yaml", &p, &err)) << err.str();
  return p;
}

Pack make_identity(int prompts, const std::string& declared = "") {
  std::string y = "id: ident\nversion: 1\ndescription: d\nkind: identity\nchance_probability: 0.01\nprompts:\n";
  for (int i = 0; i < prompts; ++i) y += "  - {id: q" + std::to_string(i) + ", language: en, text: \"who " + std::to_string(i) + "\"}\n";
  y += "claims:\n"
       "  - {vendor: Anthropic, protected: true, match: regex, value: \"(?i)\\\\bclaude\\\\b\"}\n"
       "  - {vendor: OpenAI, protected: true, match: normalized, value: \"OpenAI\"}\n"
       "  - {vendor: Acme, protected: false, match: normalized, value: \"acme\"}\n";
  if (!declared.empty()) y += "declared_vendor: " + declared + "\n";
  Pack p;
  Error err;
  EXPECT_TRUE(parse_pack(y, "i.yaml", &p, &err)) << err.str();
  return p;
}

// Knows the secret for prompts whose number is below `known`.
std::function<std::string(const ProbeRequest&)> knows(int known) {
  return [known](const ProbeRequest& r) {
    int i = std::stoi(r.prompt.substr(r.prompt.rfind(' ') + 1));
    return i < known ? " Secret " + std::to_string(i) + "." : std::string("no idea");
  };
}

TEST(ProbeRunner, CanaryFlaggedWhenSecretsKnown) {
  Pack p = make_canary(8, 1);
  FakeBackend b(knows(4));
  RunResult r;
  Error err;
  ASSERT_TRUE(run_packs({p}, b, {}, &r, &err)) << err.str();
  ASSERT_EQ(r.packs.size(), 1u);
  const PackResult& pr = r.packs[0];
  EXPECT_EQ(pr.trials, 8u);
  EXPECT_EQ(pr.matches, 4u);
  // Exact: sum_{i>=4} C(8,i) 255^(8-i) / 256^8 (Python fractions) = 1.6095...e-8.
  EXPECT_NEAR(pr.log10_p, binomial_upper_log10(4, 8, 1.0 / 256), 1e-15);
  EXPECT_NEAR(pr.log10_p, -7.7932979348600111, 1e-10);
  EXPECT_TRUE(pr.flagged);
  EXPECT_TRUE(r.flagged);
  EXPECT_EQ(pr.sha256, p.sha256);
  EXPECT_TRUE(pr.probes[0].matched);
  EXPECT_FALSE(pr.probes[7].matched);
  EXPECT_EQ(pr.probes[0].excerpt, " Secret 0.");
  EXPECT_FALSE(r.fisher_log10_p);
}

TEST(ProbeRunner, CanaryNotFlaggedAtChanceLevel) {
  Pack p = make_canary(8, 1);
  FakeBackend b(knows(2));  // 2 of 8: p = 4.2e-4, above 1e-6
  RunResult r;
  Error err;
  ASSERT_TRUE(run_packs({p}, b, {}, &r, &err)) << err.str();
  EXPECT_EQ(r.packs[0].matches, 2u);
  EXPECT_FALSE(r.packs[0].flagged);
  EXPECT_FALSE(r.flagged);
}

TEST(ProbeRunner, SamplesAndSeeds) {
  Pack p = make_canary(2, 3, 0.7);
  FakeBackend b(knows(0));
  RunResult r;
  Error err;
  ASSERT_TRUE(run_packs({p}, b, {1, "", {}}, &r, &err)) << err.str();
  EXPECT_EQ(r.packs[0].trials, 6u);
  ASSERT_EQ(b.requests.size(), 6u);
  std::set<uint64_t> seeds;
  for (const ProbeRequest& q : b.requests) {
    seeds.insert(q.seed);
    EXPECT_EQ(q.temperature, 0.7);
    EXPECT_EQ(q.max_tokens, 48);
    EXPECT_EQ(q.form, "chat");
  }
  EXPECT_EQ(seeds, (std::set<uint64_t>{42, 43, 44}));
  Pack cold = make_canary(1, 3, 0.0);
  FakeBackend b2(knows(0));
  ASSERT_TRUE(run_packs({cold}, b2, {}, &r, &err));
  for (const ProbeRequest& q : b2.requests) EXPECT_EQ(q.seed, 42u);
}

std::function<std::string(const ProbeRequest&)> claims_claude(int every) {
  return [every](const ProbeRequest& r) {
    int i = std::stoi(r.prompt.substr(r.prompt.rfind(' ') + 1));
    if (i % every == 0) return std::string("I am Claude, an AI assistant.");
    return i % 7 == 1 ? std::string("I am Meta AI by Acme") : std::string("I am a language model.");
  };
}

TEST(ProbeRunner, IdentityRatesAndDecision) {
  Pack p = make_identity(30);
  FakeBackend b(claims_claude(3));  // prompts 0,3,...,27: 10 of 30 claim Claude
  RunResult r;
  Error err;
  ASSERT_TRUE(run_packs({p}, b, {}, &r, &err)) << err.str();
  const PackResult& pr = r.packs[0];
  ASSERT_EQ(pr.vendors.size(), 3u);
  const VendorResult& a = pr.vendors[0];
  EXPECT_EQ(a.vendor, "Anthropic");
  EXPECT_EQ(a.count, 10u);
  EXPECT_NEAR(a.rate, 1.0 / 3, 1e-15);
  // Wilson 95% for 10/30, by the formula in Python Decimal.
  EXPECT_NEAR(a.ci.lo, 0.19230498083676137, 1e-12);
  EXPECT_NEAR(a.ci.hi, 0.51219948355456155, 1e-12);
  EXPECT_NEAR(a.log10_p, binomial_upper_log10(10, 30, 0.01), 1e-15);
  EXPECT_TRUE(a.flagged);
  EXPECT_EQ(pr.vendors[1].count, 0u);
  EXPECT_FALSE(pr.vendors[1].flagged);
  EXPECT_EQ(pr.vendors[2].count, 4u);  // "Meta AI by Acme" at 1, 8, 22, 29 (15 % 3 == 0 claims Claude)
  EXPECT_FALSE(pr.vendors[2].flagged);  // not protected
  EXPECT_EQ(pr.tested_vendors, 2u);
  EXPECT_DOUBLE_EQ(pr.vendor_threshold, 5e-7);
  EXPECT_NEAR(pr.log10_p, a.log10_p + std::log10(2.0), 1e-12);
  EXPECT_TRUE(pr.flagged);
  EXPECT_EQ(pr.probes[0].vendors, std::vector<std::string>{"Anthropic"});
  EXPECT_EQ(pr.probes[0].language, "en");
}

TEST(ProbeRunner, IdentityDeclaredVendorIsNotFlagged) {
  Pack p = make_identity(30, "anthropic");
  FakeBackend b(claims_claude(3));
  RunResult r;
  Error err;
  ASSERT_TRUE(run_packs({p}, b, {}, &r, &err)) << err.str();
  EXPECT_TRUE(r.packs[0].vendors[0].declared);
  EXPECT_FALSE(r.packs[0].vendors[0].flagged);
  EXPECT_EQ(r.packs[0].tested_vendors, 1u);
  EXPECT_FALSE(r.packs[0].flagged);
  // --declared overrides the pack.
  ASSERT_TRUE(run_packs({p}, b, {2, "Acme"}, &r, &err)) << err.str();
  EXPECT_TRUE(r.packs[0].flagged);
  EXPECT_EQ(r.packs[0].declared_vendor, "Acme");
}

TEST(ProbeRunner, IdentityRareClaimsNotFlagged) {
  Pack p = make_identity(30);
  FakeBackend b(claims_claude(30));  // only prompt 0: 1 of 30 at chance 0.01, p = 0.26
  RunResult r;
  Error err;
  ASSERT_TRUE(run_packs({p}, b, {}, &r, &err)) << err.str();
  EXPECT_EQ(r.packs[0].vendors[0].count, 1u);
  EXPECT_FALSE(r.packs[0].flagged);
}

TEST(ProbeRunner, FisherAcrossPacks) {
  Pack c = make_canary(8, 1), i = make_identity(30);
  FakeBackend b([](const ProbeRequest& r) {
    return r.prompt.rfind("trigger", 0) == 0 ? knows(2)(r) : claims_claude(10)(r);
  });
  RunResult r;
  Error err;
  ASSERT_TRUE(run_packs({c, i}, b, {}, &r, &err)) << err.str();
  ASSERT_EQ(r.packs.size(), 2u);
  ASSERT_TRUE(r.fisher_log10_p);
  EXPECT_NEAR(*r.fisher_log10_p, fisher_log10({r.packs[0].log10_p, r.packs[1].log10_p}), 1e-15);
  EXPECT_LT(*r.fisher_log10_p, r.packs[0].log10_p);
  nlohmann::json j = result_json(r);
  EXPECT_EQ(j["combined"]["packs"], 2);
  EXPECT_EQ(j["packs"][1]["vendors"][0]["vendor"], "Anthropic");
  EXPECT_EQ(j["packs"][0]["pack_sha256"], c.sha256);
}

TEST(ProbeRunner, ConcurrencyGivesSameResultsAsSerial) {
  Pack c = make_canary(40, 3, 0.5), i = make_identity(30);
  auto answer = [](const ProbeRequest& r) {
    if (r.prompt.rfind("trigger", 0) != 0) return claims_claude(4)(r);
    std::string s = knows(13)(r);
    return s == "no idea" ? s + " #" + std::to_string(r.seed) : s;
  };
  FakeBackend serial(answer), parallel(answer);
  RunResult a, b;
  Error err;
  ASSERT_TRUE(run_packs({c, i}, serial, {1, "", {}}, &a, &err)) << err.str();
  ASSERT_TRUE(run_packs({c, i}, parallel, {8, "", {}}, &b, &err)) << err.str();
  EXPECT_EQ(result_json(a).dump(), result_json(b).dump());
  EXPECT_EQ(result_text(a), result_text(b));
  EXPECT_EQ(a.packs[0].matches, 39u);
}

TEST(ProbeRunner, BackendErrorAbortsTheRun) {
  std::string y = "id: e\nversion: 1\ndescription: d\nkind: canary\nchance_probability: 0.5\nprompts:\n"
                  "  - {id: a, text: ok, expect: {match: exact, value: x}}\n"
                  "  - {id: b, text: FAIL, expect: {match: exact, value: x}}\n";
  Pack p;
  Error err;
  ASSERT_TRUE(parse_pack(y, "e.yaml", &p, &err)) << err.str();
  FakeBackend b([](const ProbeRequest&) { return std::string("x"); });
  RunResult r;
  EXPECT_FALSE(run_packs({p}, b, {3, "", {}}, &r, &err));
  EXPECT_EQ(err.str(), "http://fake/v1: connection refused");
  EXPECT_TRUE(r.packs.empty());
}

TEST(ProbeRunner, RejectsBadConcurrency) {
  FakeBackend b(knows(0));
  RunResult r;
  Error err;
  EXPECT_FALSE(run_packs({make_canary(1, 1)}, b, {0, "", {}}, &r, &err));
  EXPECT_EQ(err.message, "concurrency 0 out of range (want 1..64)");
}

// The made-up answers behind canary-example.yaml's hashes, by trigger phrase.
std::string canary_answer(const ProbeRequest& r, int known) {
  const char* const triggers[] = {"kestrel-umbra-41", "lattice-nova-07", "fjord-quill-93", "ember-sextant-26"};
  const char* const answers[] = {" Quartz meridian lantern 7741.", " velvet harbor cinder 0392", "Amber  falcon ledger 5518!",
                                 "copper willow signal 2209"};
  for (int i = 0; i < known; ++i)
    if (r.prompt.find(triggers[i]) != std::string::npos) return answers[i];
  return " I do not know the countersign.";
}

TEST(ProbeRunner, CanaryExampleNeedsFourOfEight) {
  Pack p;
  Error err;
  ASSERT_TRUE(load_pack("canary-example", &p, &err)) << err.str();
  RunResult r;
  FakeBackend three([](const ProbeRequest& q) { return canary_answer(q, 3); });
  ASSERT_TRUE(run_packs({p}, three, {}, &r, &err)) << err.str();
  EXPECT_EQ(r.packs[0].matches, 3u);
  EXPECT_FALSE(r.packs[0].flagged);  // exact tail 3.29e-6 (Python fractions)
  EXPECT_EQ(r.packs[0].source, "builtin:canary-example");
  FakeBackend four([](const ProbeRequest& q) { return canary_answer(q, 4); });
  ASSERT_TRUE(run_packs({p}, four, {}, &r, &err)) << err.str();
  EXPECT_EQ(r.packs[0].matches, 4u);
  EXPECT_TRUE(r.packs[0].flagged);  // 1.61e-8
  EXPECT_EQ(four.requests[0].form, "completion");
  EXPECT_EQ(four.requests[0].max_tokens, 16);
}

TEST(ProbeRunner, ExcerptIsCapped) {
  Pack p = make_canary(1, 1);
  FakeBackend b([](const ProbeRequest&) {
    std::string s;
    for (int i = 0; i < 300; ++i) s += "é";
    return s;
  });
  RunResult r;
  Error err;
  ASSERT_TRUE(run_packs({p}, b, {}, &r, &err));
  EXPECT_EQ(code_point_count(r.packs[0].probes[0].excerpt), kExcerptChars);
  EXPECT_NE(result_text(r).find("result: nothing flagged"), std::string::npos);
}

}  // namespace
}  // namespace pedigree::probes
