// Tests `pedigree bom validate` end to end through the built binary: exit
// codes 0/1/2, text and --json output, and the unreadable cases (missing file,
// malformed JSON, wrong root type, 100 MB document, 100k nested arrays) with
// their exact messages.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {

using test::run_pedigree;
using test::TempDir;

const char* kValid = R"({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
  "components": [{"type": "library", "name": "a", "bom-ref": "a"}],
  "dependencies": [{"ref": "a"}]})";

const char* kInvalid = R"({"bomFormat": "CycloneDX", "specVersion": "1.7", "version": 1,
  "serialNumber": "urn:uuid:placeholder",
  "components": [{"type": "machine-learning-model", "name": "m",
    "hashes": [{"alg": "SHA-256", "content": "0123456789012345678901234567890123456789"}]}]})";

TEST(BomValidateCli, ValidExitsZero) {
  TempDir t;
  std::string p = t.write("bom.json", kValid);
  auto r = run_pedigree({"bom", "validate", p});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, p + ": valid (CycloneDX 1.6)\n");
  EXPECT_EQ(r.err, "");
}

TEST(BomValidateCli, InvalidListsEveryErrorAndExitsOne) {
  TempDir t;
  std::string p = t.write("bom.json", kInvalid);
  auto r = run_pedigree({"bom", "validate", p});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, p + ": invalid (CycloneDX 1.7): 3 errors\n"
                       "  /serialNumber: failed to match pattern "
                       "'^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "
                       "(value \"urn:uuid:placeholder\")\n"
                       "  /components/0/hashes/0/content: SHA-256 digest has 40 hex digits, expected 64\n"
                       "  /components/0: machine-learning-model component \"m\" has no modelCard\n"
                       "  warning: /components/0/licenses: model \"m\" has no licenses\n");
}

TEST(BomValidateCli, JsonOutput) {
  TempDir t;
  std::string p = t.write("bom.json", kInvalid);
  auto r = run_pedigree({"bom", "validate", "--json", p});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["valid"], false);
  EXPECT_EQ(j["spec_version"], "1.7");
  EXPECT_EQ(j["file"], p);
  ASSERT_EQ(j["errors"].size(), 3u);
  EXPECT_EQ(j["errors"][0], (nlohmann::json{{"path", "/serialNumber"},
                                            {"message",
                                             "failed to match pattern '^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                             "[0-9a-f]{4}-[0-9a-f]{12}$' (value \"urn:uuid:placeholder\")"},
                                            {"source", "schema"}}));
  EXPECT_EQ(j["errors"][1]["source"], "pedigree");
  EXPECT_EQ(j["warnings"][0], (nlohmann::json{{"path", "/components/0/licenses"}, {"message", "model \"m\" has no licenses"}}));
  r = run_pedigree({"bom", "validate", "--json", t.write("ok.json", kValid)});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out)["errors"], nlohmann::json::array());
}

TEST(BomValidateCli, UnreadableExitsTwo) {
  TempDir t;
  struct Case {
    std::string name, bytes, message;
  } cases[] = {
      {"trunc.json", "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": [",
       "offset 0x40: malformed JSON at line 1, column 65: syntax error while parsing value - unexpected end of "
       "input; expected '[', '{', or a literal"},
      {"array.json", "[1, 2]", "root is array, not an object"},
      {"nospec.json", "{\"bomFormat\": \"CycloneDX\"}", "/specVersion is missing"},
      {"old.json", "{\"specVersion\": \"1.2\"}", "/specVersion \"1.2\" is not supported (supported: 1.4, 1.5, 1.6, 1.7)"},
      {"deep.json", std::string(100000, '[') + std::string(100000, ']'),
       "offset 0x80: nesting deeper than 128 levels at line 1, column 129"},
  };
  for (const Case& c : cases) {
    std::string p = t.write(c.name, c.bytes);
    auto r = run_pedigree({"bom", "validate", p});
    EXPECT_EQ(r.exit_code, 2) << c.name;
    EXPECT_EQ(r.err, "pedigree: error: " + p + ": " + c.message + "\n");
    EXPECT_EQ(r.out, "");
  }
  auto r = run_pedigree({"bom", "validate", "/nonexistent/bom.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: /nonexistent/bom.json: cannot open: no such file or directory\n");
}

TEST(BomValidateCli, HundredMegabyteDocumentRefusedUnread) {
  TempDir t;
  std::string p = (t.path() / "huge.json").string();
  {
    std::ofstream f(p, std::ios::binary);
    f << "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"pad\": \"";
    std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 100; ++i) f << chunk;
    f << "\"}";
  }
  auto r = run_pedigree({"bom", "validate", p});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + p + ": document of 100.0 MiB exceeds the 64.0 MiB cap\n");
}

TEST(BomValidateCli, UsageErrors) {
  auto r = run_pedigree({"bom", "validate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: FILE is required (see 'pedigree --help')\n");
  r = run_pedigree({"bom"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: bom: PATH is required (see 'pedigree help bom')\n");
}

TEST(BomValidateCli, ManPageHasEveryOption) {
  std::ifstream f(std::string(PEDIGREE_SOURCE_DIR) + "/man/pedigree-bom.1");
  std::string page((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_NE(page.find(".SS Validate"), std::string::npos);
  auto r = run_pedigree({"bom", "validate", "--help"});
  ASSERT_EQ(r.exit_code, 0);
  for (const std::string opt : {"--json"}) {
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
    EXPECT_NE(page.find("\\-\\-" + opt.substr(2)), std::string::npos) << opt;
  }
}

}  // namespace
}  // namespace pedigree
