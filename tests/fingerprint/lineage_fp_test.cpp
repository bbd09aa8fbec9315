// This file implements the tests of the stored lineage fingerprint: the plan's
// size at 7B shape, the binary round trip, the parser's exact errors, and the
// agreement of fingerprint scores with the full computation on the samples
// and fixtures (default plan and a deliberately small plan).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "fingerprint/formats/reader.h"
#include "fingerprint/lineage_fp.h"
#include "tests/support/llama_fixtures.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

std::string hf() { return test::samples_dir() + "/tinyllama-hf"; }

LineageFp fp_of(const std::string& path, const FpPlan& plan = FpPlan{}) {
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  LineageFp fp;
  EXPECT_TRUE(read_model(path, &art, &idx, &err) && build_lineage_fp(art, idx, plan, &fp, &err)) << err.str();
  return fp;
}

LineageReport full(const std::string& a, const std::string& b) {
  ModelArtifact aa, ab;
  TensorIndex ia, ib;
  Error err;
  LineageReport r;
  EXPECT_TRUE(read_model(a, &aa, &ia, &err) && read_model(b, &ab, &ib, &err) &&
              compare_lineage(aa, ia, ab, ib, &r, &err))
      << err.str();
  return r;
}

LineageReport via_fp(const std::string& a, const std::string& b, const FpPlan& plan = FpPlan{}) {
  LineageReport r;
  Error err;
  EXPECT_TRUE(compare_fingerprints(fp_of(a, plan), fp_of(b, plan), a, b, &r, &err)) << err.str();
  return r;
}

TEST(LineageFp, DefaultPlanFitsBudgetAt7BShape) {
  FpPlan p = default_fp_plan(4096);
  EXPECT_EQ(p.embed_rows, 255u);
  EXPECT_EQ(p.qk_rows, 11u);
  EXPECT_EQ(p.neurons, 11u);
  LineageFp fp;
  fp.vocab = 32000, fp.hidden = 4096;
  auto rows = [](uint64_t n) {
    return Int8Rows{n, 4096, std::vector<float>(n, 1.0f), std::vector<int8_t>(n * 4096, 1)};
  };
  fp.embed = rows(p.embed_rows);
  fp.layers.assign(32, FpLayer{4096, 4096, 11008, true, rows(11), rows(11), rows(11), rows(11)});
  std::string bytes = serialize_lineage_fp(fp);
  EXPECT_LE(bytes.size(), kLineageFpBudget);
  EXPECT_EQ(bytes.size(), 6821433u);  // 6.5 MiB
  LineageFp back;
  Error err;
  ASSERT_TRUE(parse_lineage_fp(bytes, "fp", &back, &err)) << err.str();
  EXPECT_EQ(back.layers.size(), 32u);
}

TEST(LineageFp, TinyModelIsKeptWhole) {
  LineageFp fp = fp_of(hf());
  EXPECT_EQ(fp.vocab, 260u);
  EXPECT_EQ(fp.hidden, 64u);
  EXPECT_EQ(fp.embed.rows, 260u);
  ASSERT_EQ(fp.layers.size(), 2u);
  EXPECT_EQ(fp.layers[0].q.rows, fp.layers[0].q_out);
  EXPECT_EQ(fp.layers[0].gate.rows, 172u);
  EXPECT_EQ(fp.layers[0].ffn, 172u);
}

TEST(LineageFp, RoundTrip) {
  LineageFp fp = fp_of(hf());
  std::string bytes = serialize_lineage_fp(fp);
  LineageFp back;
  Error err;
  ASSERT_TRUE(parse_lineage_fp(bytes, "fp", &back, &err)) << err.str();
  EXPECT_EQ(serialize_lineage_fp(back), bytes);
  EXPECT_EQ(back.embed.q, fp.embed.q);
  EXPECT_EQ(back.layers[1].up.scale, fp.layers[1].up.scale);
  // The same weights in GGUF (Q/K rows permuted by llama.cpp) give the same sampled rows.
  LineageFp g = fp_of(test::samples_dir() + "/tinyllama-gguf/tinyllama-f32.gguf");
  EXPECT_EQ(serialize_lineage_fp(g), bytes);
}

TEST(LineageFp, ParserErrors) {
  std::string bytes = serialize_lineage_fp(fp_of(hf()));
  LineageFp out;
  Error err;
  EXPECT_FALSE(parse_lineage_fp("NOTAFPxxxxxxxxxx", "x.fp", &out, &err));
  EXPECT_EQ(err.str(), "x.fp: offset 0x0: not a lineage fingerprint (bad magic)");
  std::string v3 = bytes;
  v3[8] = 3;
  EXPECT_FALSE(parse_lineage_fp(v3, "x.fp", &out, &err));
  EXPECT_EQ(err.str(), "x.fp: offset 0x8: fingerprint version 3 is not supported (want 1..2)");
  EXPECT_FALSE(parse_lineage_fp(bytes.substr(0, 100), "x.fp", &out, &err));
  EXPECT_EQ(err.str(), "x.fp: offset 0x3d: embedding data (260 rows) needs 17680 bytes, 39 left");
  // v2 architecture record at offset 32: u32 length, the name, u32 flags.
  std::string bad = bytes;
  bad[32] = 0;
  EXPECT_FALSE(parse_lineage_fp(bad, "x.fp", &out, &err));
  EXPECT_EQ(err.str(), "x.fp: offset 0x20: architecture length 0 is outside 1..32");
  bad = bytes;
  bad[40] = 'A';
  EXPECT_FALSE(parse_lineage_fp(bad, "x.fp", &out, &err));
  EXPECT_EQ(err.str(), "x.fp: offset 0x24: architecture 'llamA' has a byte outside [a-z0-9._-]");
  bad = bytes;
  bad[41] = 2;
  EXPECT_FALSE(parse_lineage_fp(bad, "x.fp", &out, &err));
  EXPECT_EQ(err.str(), "x.fp: offset 0x29: architecture flags 2 is not 0 or 1");
  EXPECT_FALSE(parse_lineage_fp(bytes + "z", "x.fp", &out, &err));
  EXPECT_EQ(err.str(), "x.fp: offset " + hex_offset(bytes.size()) + ": 1 trailing bytes after the last layer");
  std::string huge = bytes;
  huge[46] = 0x7f;  // embedding rows (u64 at offset 45): 260 = 0x104 becomes 0x7f04
  EXPECT_FALSE(parse_lineage_fp(huge, "x.fp", &out, &err));
  EXPECT_EQ(err.str(), "x.fp: offset 0x2d: embedding rows 32516 is outside 1..260");
}

TEST(LineageFp, ReadsVersion1) {
  // Version 1 (before architectures): no architecture record, every MLP gated;
  // read as llama inferred from tensor names and written back unchanged.
  LineageFp fp = fp_of(hf());
  fp.version = 1;
  std::string v1 = serialize_lineage_fp(fp);
  EXPECT_EQ(v1.size(), serialize_lineage_fp(fp_of(hf())).size() - 13 - 8 * fp.layers.size());
  LineageFp back;
  Error err;
  ASSERT_TRUE(parse_lineage_fp(v1, "v1.fp", &back, &err)) << err.str();
  EXPECT_EQ(back.version, 1u);
  EXPECT_EQ(back.arch, "llama");
  EXPECT_FALSE(back.arch_declared);
  EXPECT_TRUE(back.layers[0].gated);
  EXPECT_EQ(serialize_lineage_fp(back), v1);
  LineageReport r;
  ASSERT_TRUE(compare_fingerprints(back, fp_of(hf()), "v1", "v2", &r, &err)) << err.str();
  EXPECT_GT(r.primary, 0.999);
}

TEST(LineageFp, ArchitectureAndUngatedMlp) {
  std::string dir = test::samples_dir() + "/lineage-archs/";
  LineageFp gpt = fp_of(dir + "gpt2/hf");
  EXPECT_EQ(gpt.arch, "gpt2");
  EXPECT_TRUE(gpt.arch_declared);
  EXPECT_FALSE(gpt.layers[0].gated);
  EXPECT_EQ(gpt.layers[0].ffn, 64u);
  LineageFp back;
  Error err;
  ASSERT_TRUE(parse_lineage_fp(serialize_lineage_fp(gpt), "g.fp", &back, &err)) << err.str();
  EXPECT_EQ(serialize_lineage_fp(back), serialize_lineage_fp(gpt));
  LineageFp mis = fp_of(dir + "mistral/base.gguf");
  EXPECT_EQ(fp_incompatibility(gpt, mis), "architectures differ: gpt2 vs llama");
  LineageReport r;
  EXPECT_FALSE(compare_fingerprints(gpt, mis, "A", "B", &r, &err));
  EXPECT_EQ(err.str(), "architectures differ: A is gpt2, B is llama");
  for (const char* arch : {"mistral", "qwen2", "gemma", "gpt2", "phi3"}) {
    for (const char* other : {"base.gguf", "permuted.safetensors", "independent.gguf"}) {
      std::string a = dir + arch + "/hf", b = dir + arch + "/" + other;
      LineageReport exact = full(a, b), fp = via_fp(a, b);
      EXPECT_EQ(fp.verdict, exact.verdict) << arch << " " << other;
      EXPECT_NEAR(fp.primary, exact.primary, 0.02) << arch << " " << other;  // measured at most 0.011 (int8)
    }
  }
}

struct Fixture {
  std::string name, path;
};

std::vector<Fixture> fixtures(const test::TempDir& dir) {
  auto w = test::load_float_tensors(hf() + "/model.safetensors");
  std::vector<Fixture> out = {{"gguf-f16", test::samples_dir() + "/tinyllama-gguf/tinyllama-f16.gguf"}};
  std::vector<size_t> perm(64);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(11));
  std::vector<float> sign(64, 1.0f);
  for (size_t i = 0; i < 64; i += 3) sign[i] = -1.0f;
  out.push_back({"permuted", (dir.path() / "permuted.safetensors").string()});
  test::write_safetensors(out.back().path, test::permute_hidden(w, perm, sign));
  std::map<std::string, test::FloatTensor> noisy;
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 0.3f);
  for (auto& [name, t] : w) {
    double ss = 0;
    for (float x : t.v) ss += static_cast<double>(x) * x;
    float scale = static_cast<float>(std::sqrt(ss / t.v.size()));
    test::FloatTensor o = t;
    for (float& x : o.v) x += scale * nd(rng);
    noisy[name] = o;
  }
  out.push_back({"noise-30%", (dir.path() / "noisy.safetensors").string()});
  test::write_safetensors(out.back().path, noisy);
  for (const char* q : {"Q8_0", "Q4_0"}) {
    out.push_back({q, (dir.path() / (std::string(q) + ".gguf")).string()});
    test::write_quantized_gguf(out.back().path, w, 4, q);
  }
  out.push_back({"random", (dir.path() / "random.safetensors").string()});
  test::write_safetensors(out.back().path, test::random_like(w, 77));
  return out;
}

// Default plan: the tiny model is kept whole (int8), so the scores are the
// full computation's up to int8 rounding. Small plan (64 embedding rows, 8
// Q/K rows, 16 neurons): the estimator; the measured differences are printed.
TEST(LineageFp, AgreesWithFullComputation) {
  test::TempDir dir;
  for (const Fixture& f : fixtures(dir)) {
    LineageReport exact = full(hf(), f.path), fp = via_fp(hf(), f.path);
    LineageReport small = via_fp(hf(), f.path, FpPlan{64, 8, 16});
    std::printf("[ fp-vs-full ] %-10s full %.4f (p 1e%.1f, %s)  fp %.4f (1e%.1f, %s)  small %.4f (1e%.1f, %s)\n",
                f.name.c_str(), exact.primary, exact.fisher_log10_p.value_or(0), exact.verdict.c_str(), fp.primary,
                fp.fisher_log10_p.value_or(0), fp.verdict.c_str(), small.primary, small.fisher_log10_p.value_or(0),
                small.verdict.c_str());
    EXPECT_EQ(fp.verdict, exact.verdict) << f.name;
    EXPECT_NEAR(fp.primary, exact.primary, 0.005) << f.name;  // measured at most 0.0009 (int8)
    EXPECT_EQ(small.verdict, exact.verdict) << f.name;
    EXPECT_NEAR(small.primary, exact.primary, 0.05) << f.name;  // measured at most 0.024
  }
}

TEST(LineageFp, IncompatibleShapes) {
  LineageFp a = fp_of(hf()), b = a;
  b.vocab = 300;
  EXPECT_EQ(fp_incompatibility(a, b), "vocabulary sizes differ: 260 vs 300 tokens");
  LineageReport r;
  Error err;
  EXPECT_FALSE(compare_fingerprints(a, b, "A", "B", &r, &err));
  EXPECT_EQ(err.str(), "vocabulary sizes differ: A has 260 tokens, B has 300 tokens");
  b = a;
  b.hidden = 32;
  EXPECT_EQ(fp_incompatibility(a, b), "hidden sizes differ: 64 vs 32");
}

}  // namespace
}  // namespace pedigree
