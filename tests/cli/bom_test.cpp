// End-to-end tests of `pedigree bom`, `bom score` and `bom diff` through the
// built binary: golden BOMs (byte-identical across runs with --serial and
// SOURCE_DATE_EPOCH; PEDIGREE_UPDATE_GOLDEN=1 rewrites tests/golden/bom/),
// exit codes and error messages.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using test::run_pedigree;
using test::TempDir;

const std::string kSerial = "urn:uuid:12345678-1234-4234-8234-123456789abc";

// Sets SOURCE_DATE_EPOCH for the child processes of one test.
struct Epoch {
  explicit Epoch(const char* v) { ::setenv("SOURCE_DATE_EPOCH", v, 1); }
  ~Epoch() { ::unsetenv("SOURCE_DATE_EPOCH"); }
};

void check_golden(const std::string& sample, const std::vector<std::string>& extra, const std::string& golden) {
  Epoch e("1767225600");  // 2026-01-01T00:00:00Z
  std::vector<std::string> args = {"bom", test::samples_dir() + "/" + sample, "--serial", kSerial};
  args.insert(args.end(), extra.begin(), extra.end());
  auto a = run_pedigree(args), b = run_pedigree(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out) << "two runs differ";
  std::string path = std::string(PEDIGREE_SOURCE_DIR) + "/tests/golden/bom/" + golden;
  const char* update = std::getenv("PEDIGREE_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << a.out;
    GTEST_SKIP() << "rewrote " << path;
  }
  std::string want = test::read_file(path);
  ASSERT_FALSE(want.empty()) << "missing golden " << path << " (run with PEDIGREE_UPDATE_GOLDEN=1)";
  EXPECT_EQ(a.out, want) << "differs from " << path;
}

TEST(BomCli, GoldenGgufF32) { check_golden("tinyllama-gguf/tinyllama-f32.gguf", {}, "tinyllama-f32.gguf.cdx.json"); }

TEST(BomCli, GoldenGgufF16Spec17WithOptions) {
  check_golden("tinyllama-gguf/tinyllama-f16.gguf",
               {"--spec-version", "1.7", "--version", "0.1", "--supplier", "Pedigree samples", "--base-model",
                "pkg:generic/pedigree-tinyllama-f32"},
               "tinyllama-f16.gguf.1.7.cdx.json");
}

TEST(BomCli, GoldenHfDirectory) { check_golden("tinyllama-hf", {}, "tinyllama-hf.cdx.json"); }

TEST(BomCli, GoldenOnnxExternalData) {
  check_golden("tinyllama-onnx-external/tinyllama.onnx", {}, "tinyllama-onnx-external.cdx.json");
}

TEST(BomCli, GoldenPytorch) { check_golden("tinyllama/tinyllama.pt", {}, "tinyllama.pt.cdx.json"); }

TEST(BomCli, GoldenFacts) {
  Epoch e("0");
  auto r = run_pedigree({"bom", test::samples_dir() + "/tinyllama-gguf/tinyllama-f32.gguf", "--serial", kSerial});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["metadata"]["timestamp"], "1970-01-01T00:00:00Z");
  const auto& m = j["metadata"]["component"];
  EXPECT_EQ(m["hashes"][0]["content"], "6bb60e08d28445bc2b1078f902751466ec0bb72e7b3d80ee5026a21d47520f24");
  EXPECT_EQ(m["name"], "pedigree-tinyllama");
  EXPECT_EQ(m["licenses"][0]["license"]["name"], "mit");  // GGUF says "mit": not the SPDX id "MIT"
  EXPECT_EQ(m["modelCard"]["modelParameters"]["architectureFamily"], "llama");
}

TEST(BomCli, RandomSerialAndWallClockByDefault) {
  std::string g = test::samples_dir() + "/tinyllama-gguf/tinyllama-f32.gguf";
  auto a = run_pedigree({"bom", g}), b = run_pedigree({"bom", g});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  EXPECT_NE(ja["serialNumber"], jb["serialNumber"]);
  EXPECT_EQ(ja["serialNumber"].get<std::string>().substr(0, 9), "urn:uuid:");
}

TEST(BomCli, OutputFile) {
  TempDir t;
  std::string out = (t.path() / "m.cdx.json").string();
  auto r = run_pedigree({"bom", test::samples_dir() + "/tinyllama-gguf/tinyllama-f32.gguf", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(nlohmann::json::parse(test::read_file(out))["bomFormat"], "CycloneDX");
}

TEST(BomCli, Errors) {
  std::string g = test::samples_dir() + "/tinyllama-gguf/tinyllama-f32.gguf";
  auto r = run_pedigree({"bom"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: bom: PATH is required (see 'pedigree help bom')\n");
  r = run_pedigree({"bom", "/nonexistent/m.gguf"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: /nonexistent/m.gguf: cannot open: no such file or directory\n");
  r = run_pedigree({"bom", g, "--serial", "urn:uuid:NOPE"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: --serial: 'urn:uuid:NOPE' is not urn:uuid: followed by a lowercase RFC 4122 UUID\n");
  r = run_pedigree({"bom", g, "--spec-version", "1.5"});
  EXPECT_EQ(r.err, "pedigree: error: --spec-version: '1.5' is not supported (1.6 or 1.7)\n");
  {
    Epoch e("yesterday");
    r = run_pedigree({"bom", g});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "pedigree: error: SOURCE_DATE_EPOCH 'yesterday' is not a decimal number of seconds\n");
  }
}

std::string cyber(const std::string& name) {
  return test::shared_dir() + "/fixtures/cyclonedx/manifest-cyber/" + name;
}

TEST(BomCli, ScoreManifestCyber) {
  if (test::shared_dir().empty()) GTEST_SKIP() << "../shared is absent: manifest-cyber AI-BOMs not available";
  auto r = run_pedigree({"bom", "score", cyber("Qwen2.5-7B-Instruct.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  score  52.0 / 100\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  model  Qwen/Qwen2.5-7B-Instruct (components[0])\n"), std::string::npos);
  EXPECT_NE(r.out.find("      missing: model.purl\n"), std::string::npos);
  EXPECT_NE(r.out.find("  licences          10.0 / 10  complete\n"), std::string::npos) << r.out;
  r = run_pedigree({"bom", "score", "--json", cyber("Llama-3.2-1B-Instruct.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["score"], 41.0);
  EXPECT_EQ(j["groups"][1]["id"], "integrity");
  EXPECT_EQ(j["groups"][1]["points"], 0.0);
}

TEST(BomCli, ScoreOwnBom) {
  TempDir t;
  std::string out = (t.path() / "b.json").string();
  ASSERT_EQ(run_pedigree({"bom", test::samples_dir() + "/tinyllama-gguf/tinyllama-f32.gguf", "-o", out}).exit_code, 0);
  auto r = run_pedigree({"bom", "score", "--json", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["groups"][1]["points"], 20.0);  // integrity: file digest, strong algorithm, manifest root
  EXPECT_EQ(j["model"]["where"], "metadata.component");
}

TEST(BomCli, DiffExitCodes) {
  if (test::shared_dir().empty()) GTEST_SKIP() << "../shared is absent: manifest-cyber AI-BOMs not available";
  auto r = run_pedigree({"bom", "diff", cyber("Qwen2.5-7B-Instruct.json"), cyber("Qwen2.5-7B-Instruct.json")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  no differences\n"), std::string::npos);
  r = run_pedigree({"bom", "diff", cyber("Llama-3.2-1B-Instruct.json"), cyber("Qwen2.5-7B-Instruct.json")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("    ~ licenses: Llama 3.2 Community License -> Apache-2.0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  components: 47 added, 22 removed, 6 changed\n"), std::string::npos);
  r = run_pedigree({"bom", "diff", "--json", cyber("Llama-3.2-1B-Instruct.json"), cyber("FLUX.1-dev.json")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(r.out)["equal"], false);
}

TEST(BomCli, MalformedBomsExitTwo) {
  TempDir t;
  std::string bad = t.write("bad.json", "{\"bomFormat\": \"CycloneDX\", ");
  std::string spdx = t.write("spdx.json", "{\"spdxVersion\": \"SPDX-2.3\"}");
  auto r = run_pedigree({"bom", "score", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + bad +
                       ": offset 0x1b: malformed JSON at line 1, column 28: syntax error while parsing object key - unexpected end of input; "
                       "expected string literal\n");
  r = run_pedigree({"bom", "diff", spdx, spdx});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + spdx + ": not a CycloneDX BOM: no bomFormat\n");
  r = run_pedigree({"bom", "diff", bad});
  EXPECT_EQ(r.exit_code, 2);
  r = run_pedigree({"bom", "score", "/nonexistent/b.json"});
  EXPECT_EQ(r.err, "pedigree: error: /nonexistent/b.json: cannot open: no such file or directory\n");
}

}  // namespace
}  // namespace pedigree
