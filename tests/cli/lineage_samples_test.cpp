// End-to-end tests of `pedigree lineage` on the trained model family kept from
// the lineage experiment (samples/lineage/, made by
// bench/lineage/experiment/run.sh with SAMPLES=1): a base, its instruction
// fine-tune, its permuted and sign-flipped copy, and an independent base.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {

std::string sample(const std::string& name) { return test::samples_dir() + "/lineage/" + name + ".safetensors"; }

nlohmann::json lineage_json(const std::string& b, bool exact, int want_exit) {
  std::vector<std::string> args = {"lineage", "--json", "-j", "1", sample("base"), sample(b)};
  if (exact) args.push_back("--exact");
  auto r = test::run_pedigree(args);
  EXPECT_EQ(r.exit_code, want_exit) << b << (exact ? " --exact: " : ": ") << r.err << r.out;
  EXPECT_EQ(r.err, "");
  return nlohmann::json::parse(r.out);
}

TEST(LineageSamples, FineTuneIsDerived) {
  for (bool exact : {false, true}) {
    auto j = lineage_json("instruct", exact, 1);
    EXPECT_EQ(j["verdict"], "derived");
    EXPECT_GT(j["primary_score"].get<double>(), 0.7);
    EXPECT_LT(j["independence_test"]["fisher_log10_p"].get<double>(), -8);
  }
}

TEST(LineageSamples, PermutedCopyIsDerivedAndFoolsRawCosine) {
  for (bool exact : {false, true}) {
    auto j = lineage_json("permuted", exact, 1);
    EXPECT_EQ(j["verdict"], "derived");
    EXPECT_GT(j["primary_score"].get<double>(), 0.99);
    EXPECT_GT(j["alignment"]["units_moved"].get<int>(), 0);
    EXPECT_GT(j["alignment"]["sign_flips"].get<int>(), 0);
    // The naive comparison sees nothing: raw cosine of Q is near 0.
    EXPECT_LT(std::fabs(j["raw_cosine_q"].get<double>()), 0.2);
  }
}

TEST(LineageSamples, IndependentBaseIsIndependent) {
  for (bool exact : {false, true}) {
    auto j = lineage_json("independent", exact, 0);
    EXPECT_EQ(j["verdict"], "independent");
    EXPECT_LT(j["primary_score"].get<double>(), 0.3);
    EXPECT_GT(j["independence_test"]["fisher_log10_p"].get<double>(), -2);
  }
}

}  // namespace
}  // namespace pedigree
