// End-to-end tests of `pedigree probe`: listing and validating packs, argument
// errors, and an unreachable backend (exit 2 with the backend's message).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {

const char* const kGood = R"(id: tiny
version: 1
description: "one canary"
kind: canary
chance_probability: 0.00390625
prompts:
  - {id: t01, text: "hello", expect: {match: exact, value: "world"}}
)";

TEST(ProbeCli, ListPacks) {
  auto r = test::run_pedigree({"probe", "--list-packs"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("canary-example"), std::string::npos) << r.out;
  auto j = test::run_pedigree({"probe", "--list-packs", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  nlohmann::json doc = nlohmann::json::parse(j.out);
  bool found = false;
  for (const auto& p : doc) found = found || (p["id"] == "canary-example" && p["prompts"] == 8 && p["kind"] == "canary");
  EXPECT_TRUE(found) << j.out;
}

TEST(ProbeCli, ValidatePackGood) {
  test::TempDir dir;
  std::string path = dir.write("tiny.yaml", kGood);
  auto r = test::run_pedigree({"probe", "--validate-pack", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, path + ": valid canary pack 'tiny' version 1, 1 prompts, sha256 " + test::sha256_hex(kGood) + "\n");
}

TEST(ProbeCli, ValidatePackBadNamesTheField) {
  test::TempDir dir;
  std::string yaml = kGood;
  yaml.replace(yaml.find("match: exact"), 12, "match: fuzzy");
  std::string path = dir.write("bad.yaml", yaml);
  auto r = test::run_pedigree({"probe", "--validate-pack", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + path +
                       ": prompts[0].expect.match: unknown matcher 'fuzzy' (want exact, normalized, regex or sha256)\n");
  auto missing = test::run_pedigree({"probe", "--validate-pack", dir.path().string() + "/none.yaml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "pedigree: error: " + dir.path().string() + "/none.yaml: cannot read pack file\n");
}

TEST(ProbeCli, ArgumentErrors) {
  auto no_pack = test::run_pedigree({"probe", "--endpoint", "http://127.0.0.1:1/v1", "--model", "m"});
  EXPECT_EQ(no_pack.exit_code, 2);
  EXPECT_EQ(no_pack.err, "pedigree: error: no --pack given (see 'pedigree probe --list-packs')\n");
  auto no_model = test::run_pedigree({"probe", "--pack", "canary-example"});
  EXPECT_EQ(no_model.exit_code, 2);
  EXPECT_EQ(no_model.err, "pedigree: error: give either --endpoint URL with --model NAME, or a MODEL.gguf file\n");
  auto both = test::run_pedigree({"probe", "m.gguf", "--endpoint", "http://x/v1", "--model", "m", "--pack", "canary-example"});
  EXPECT_EQ(both.exit_code, 2);
  auto bad_conc = test::run_pedigree(
      {"probe", "--endpoint", "http://127.0.0.1:1/v1", "--model", "m", "--pack", "canary-example", "--concurrency", "0"});
  EXPECT_EQ(bad_conc.exit_code, 2);
  EXPECT_EQ(bad_conc.err, "pedigree: error: --concurrency 0 out of range (want 1..64)\n");
  auto unknown = test::run_pedigree({"probe", "--endpoint", "http://127.0.0.1:1/v1", "--model", "m", "--pack", "nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err.rfind("pedigree: error: nope: no such pack file or built-in pack (built-in: ", 0), 0u) << unknown.err;
}

TEST(ProbeCli, UnreachableEndpointCannotRun) {
  ::setenv("PEDIGREE_API_KEY", "sk-test-do-not-print-4711", 1);
  test::TempDir dir;
  auto r = test::run_pedigree({"probe", "--endpoint", "http://127.0.0.1:1/v1", "--model", "m", "--pack",
                               "canary-example", "--cache-dir", dir.path().string()});
  ::unsetenv("PEDIGREE_API_KEY");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(r.err.rfind("pedigree: error: http://127.0.0.1:1/v1", 0), 0u) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.find("sk-test-do-not-print-4711"), std::string::npos);
}

}  // namespace
}  // namespace pedigree
