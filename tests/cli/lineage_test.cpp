// End-to-end tests of `pedigree lineage` through the built binary: verdicts
// and exit codes on the samples, the JSON report, and the exact "cannot
// compare" messages with exit code 2.
#include <gtest/gtest.h>

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
                       ": unsupported architecture: no llama-style tensor names (model.layers.N.* or blk.N.*)\n");

  r = run_pedigree({"lineage", hf()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("B is required"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pedigree
