// End-to-end tests of `pedigree lineage` through the built binary: verdicts
// and exit codes on the samples, the JSON report, and the exact "cannot
// compare" messages with exit code 2.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "tests/support/llama_fixtures.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using test::run_pedigree;

std::string hf() { return test::samples_dir() + "/tinyllama-hf"; }
std::string gguf() { return test::samples_dir() + "/tinyllama-gguf/tinyllama-f16.gguf"; }

TEST(LineageCli, DerivedExitsOne) {
  auto r = run_pedigree({"lineage", hf(), gguf()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("verdict: derived (primary score 1.000 >= 0.7"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("raw cosine of Q (comparison only, not evidence): 1.000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("thresholds: derived if primary >= 0.7"), std::string::npos) << r.out;
}

TEST(LineageCli, Json) {
  auto r = run_pedigree({"lineage", hf(), gguf(), "--json", "-j", "1"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "derived");
  EXPECT_GT(j["primary_score"].get<double>(), 0.999);
  ASSERT_EQ(j["layers"].size(), 2u);
  EXPECT_EQ(j["layers"][1]["layer_a"], 1);
  EXPECT_LT(j["layers"][0]["log10_p"].get<double>(), -30);
  EXPECT_LT(j["independence_test"]["fisher_log10_p"].get<double>(), -50);
  EXPECT_EQ(j["thresholds"]["derived_score"], 0.7);
  EXPECT_EQ(j["alignment"]["vocab_rows_used"], 260);
}

// A lattice-quantized GGUF (IQ3_S, written by tests/fingerprint/make_kquant_lineage.py).
TEST(LineageCli, Iq3SGgufIsDerived) {
  const std::string d = std::string(PEDIGREE_SOURCE_DIR) + "/tests/fingerprint/kquant_lineage/";
  auto r = run_pedigree({"lineage", d + "base.gguf", d + "base_iq3_s.gguf"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("verdict: derived (primary score 0.98"), std::string::npos) << r.out;
}

TEST(LineageCli, IndependentExitsZero) {
  test::TempDir dir;
  std::string path = (dir.path() / "random.safetensors").string();
  test::write_safetensors(path, test::random_like(test::load_float_tensors(hf() + "/model.safetensors"), 5));
  auto r = run_pedigree({"lineage", hf(), path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("verdict: independent (primary score "), std::string::npos) << r.out;
}

TEST(LineageCli, CannotCompareExitsTwo) {
  test::TempDir dir;
  auto w = test::load_float_tensors(hf() + "/model.safetensors");
  w.erase("model.embed_tokens.weight");
  std::string missing = (dir.path() / "missing.safetensors").string();
  test::write_safetensors(missing, w);
  auto r = run_pedigree({"lineage", hf(), missing});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "pedigree: error: cannot compare: " + missing +
                       ": missing token embedding 'model.embed_tokens.weight'\n");

  auto big = test::load_float_tensors(hf() + "/model.safetensors");
  big["model.embed_tokens.weight"].shape[0] = 300;
  big["model.embed_tokens.weight"].v.resize(300 * 64, 0.25f);
  std::string vocab = (dir.path() / "vocab.safetensors").string();
  test::write_safetensors(vocab, big);
  r = run_pedigree({"lineage", vocab, hf()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: cannot compare: vocabulary sizes differ: " + vocab + " has 300 tokens, " + hf() +
                       " has 260 tokens\n");

  std::string npy = test::samples_dir() + "/numpy/weights.npy";
  r = run_pedigree({"lineage", npy, gguf()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: cannot compare: " + npy +
                       ": unsupported architecture: no decoder tensor names (model.layers.N.*, h.N.* or blk.N.*)\n");

  r = run_pedigree({"lineage", hf()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("B is required"), std::string::npos) << r.err;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string lineage_sample(const std::string& n) { return test::samples_dir() + "/lineage/" + n + ".safetensors"; }

// The JSON report without the two input names.
nlohmann::json scores(const std::vector<std::string>& args, int want_exit) {
  auto r = run_pedigree(args);
  EXPECT_EQ(r.exit_code, want_exit) << r.err;
  EXPECT_EQ(r.err, "");
  nlohmann::json j = nlohmann::json::parse(r.out);
  j.erase("a");
  j.erase("b");
  return j;
}

TEST(LineageCli, FingerprintFilesScoreExactlyLikeModels) {
  test::TempDir dir;
  std::string base_fp = (dir.path() / "base.bin").string(), inst_fp = (dir.path() / "instruct").string();
  auto r = run_pedigree({"lineage", lineage_sample("base"), "--save-fingerprint", base_fp});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "wrote the lineage fingerprint of " + lineage_sample("base") +
                       " (llama from tensor names, 3 layers, 122477 bytes) to " + base_fp + "\n");
  ASSERT_EQ(run_pedigree({"lineage", lineage_sample("instruct"), "--save-fingerprint", inst_fp}).exit_code, 0);
  for (const char* b : {"instruct", "permuted", "independent"}) {
    std::string model_b = lineage_sample(b);
    int want = std::string(b) == "independent" ? 0 : 1;
    nlohmann::json mm = scores({"lineage", "--json", "-j", "1", lineage_sample("base"), model_b}, want);
    EXPECT_EQ(scores({"lineage", "--json", "-j", "1", base_fp, model_b}, want), mm) << b;
    EXPECT_EQ(scores({"lineage", "--json", "-j", "1", model_b, base_fp}, want)["arch_b"], "llama (from tensor names)");
    if (std::string(b) == "instruct") {
      EXPECT_EQ(scores({"lineage", "--json", "-j", "1", base_fp, inst_fp}, 1), mm);
    }
  }
}

TEST(LineageCli, FingerprintFileErrors) {
  test::TempDir dir;
  std::string fp = (dir.path() / "a.fp").string();
  ASSERT_EQ(run_pedigree({"lineage", hf(), "--save-fingerprint", fp}).exit_code, 0);
  std::string bytes = read_file(fp);
  std::string cut = (dir.path() / "cut.fp").string();
  write_file(cut, bytes.substr(0, 100));
  auto r = run_pedigree({"lineage", cut, hf()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + cut + ": offset 0x3d: embedding data (260 rows) needs 17680 bytes, 39 left\n");
  std::string bad = bytes;
  bad[53] = 1;  // the embedding's column count (u64 at offset 53): 64 becomes 1
  std::string cols = (dir.path() / "cols.fp").string();
  write_file(cols, bad);
  r = run_pedigree({"lineage", hf(), cols});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + cols + ": offset 0x35: embedding columns 1 is outside 64..64\n");
  r = run_pedigree({"lineage", fp, hf(), "--exact"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: lineage --exact needs the model's weights: " + fp +
                       " is a stored lineage fingerprint\n");
  r = run_pedigree({"lineage", hf(), gguf(), "--save-fingerprint", fp});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: lineage --save-fingerprint: give one model and no B, --registry or --exact\n");
  std::string gpt2 = test::samples_dir() + "/lineage-archs/gpt2/hf";
  r = run_pedigree({"lineage", fp, gpt2});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: cannot compare: architectures differ: " + fp + " is llama, " + gpt2 + " is gpt2\n");
}

TEST(LineageCli, OtherArchitectures) {
  std::string dir = test::samples_dir() + "/lineage-archs/";
  for (const char* arch : {"mistral", "qwen2", "gemma", "gpt2", "phi3"}) {
    std::string base = dir + arch + "/hf";
    EXPECT_EQ(run_pedigree({"lineage", base, dir + arch + "/base.gguf"}).exit_code, 1) << arch;
    EXPECT_EQ(run_pedigree({"lineage", base, dir + arch + "/permuted.safetensors"}).exit_code, 1) << arch;
    auto r = run_pedigree({"lineage", base, dir + arch + "/independent.gguf"});
    EXPECT_EQ(r.exit_code, 0) << arch << r.err;
    EXPECT_NE(r.out.find("verdict: independent"), std::string::npos) << r.out;
  }
  auto r = run_pedigree({"lineage", dir + "phi3/base.gguf", dir + "qwen2/hf"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: cannot compare: architectures differ: " + dir + "phi3/base.gguf is phi3, " + dir +
                       "qwen2/hf is qwen2\n");
}

}  // namespace
}  // namespace pedigree
