// End-to-end tests of the built `pedigree` binary: help, version, unknown
// commands, exit codes, and the hash output on real OMS fixtures.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using test::run_pedigree;
using test::TempDir;
namespace fs = std::filesystem;

TEST(Cli, HelpListsCommandsAndExitCodes) {
  auto r = run_pedigree({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* c : {"scan", "inspect", "hash", "help", "Exit codes"})
    EXPECT_NE(r.out.find(c), std::string::npos) << c;
}

TEST(Cli, HelpCommandShowsSubcommandOptions) {
  auto r = run_pedigree({"help", "hash"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--shard-size"), std::string::npos);
  EXPECT_NE(r.out.find("--ignore-paths"), std::string::npos);
}

TEST(Cli, Version) {
  auto r = run_pedigree({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "pedigree " PEDIGREE_VERSION "\n");
}

TEST(Cli, UnknownCommandSuggestsNearest) {
  auto r = run_pedigree({"hsah", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: unknown command 'hsah'; did you mean 'hash'? (see 'pedigree --help')\n");
  r = run_pedigree({"zzzzzzzz"});
  EXPECT_EQ(r.err, "pedigree: error: unknown command 'zzzzzzzz' (see 'pedigree --help')\n");
}

TEST(Cli, NoCommandIsUsageError) {
  EXPECT_EQ(run_pedigree({}).exit_code, 2);
}

TEST(Cli, BadOptionValuesExitTwo) {
  TempDir t;
  t.write("f", "x");
  auto r = run_pedigree({"hash", t.path().string(), "--algorithm", "md5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: unknown algorithm 'md5' (sha256 or blake2b)\n");
  r = run_pedigree({"hash", t.path().string(), "--method", "shards", "--shard-size", "0"});
  EXPECT_EQ(r.err, "pedigree: error: --shard-size must be positive\n");
}

TEST(Cli, MissingPathExitsTwo) {
  auto r = run_pedigree({"inspect", "/nonexistent/model.gguf"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: /nonexistent/model.gguf: cannot open: no such file or directory\n");
}

TEST(Cli, UnrecognizedFormatExitsTwo) {
  TempDir t;
  std::string p = t.write("notes.txt", "just some text");
  auto r = run_pedigree({"inspect", p});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + p + ": offset 0x0: unrecognized model format (no known magic bytes or extension)\n");
}

TEST(Cli, HashMatchesReferenceBundle) {
  std::string shared = test::shared_dir();
  if (shared.empty()) GTEST_SKIP() << "../shared is absent: OMS fixtures not available";
  std::string dir = shared + "/fixtures/oms-model-transparency/v1.1.0-certificate";
  auto r = run_pedigree({"hash", dir, "--ignore-paths", "ignore-me", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["manifest_root"], "sha256:61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226");
  EXPECT_EQ(j["resources"].size(), 2u);
  EXPECT_EQ(j["serialization"]["method"], "files");
}

TEST(Cli, HashOutputFileIsWrittenWhole) {
  TempDir t;
  t.write("m/a", "abc");
  std::string out = (t.path() / "out.txt").string();
  auto r = run_pedigree({"hash", (t.path() / "m").string(), "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream f(out);
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, test::sha256_hex("abc") + "  a");
  for (const auto& e : fs::directory_iterator(t.path()))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << "temporary file left behind";
}

TEST(Cli, HashShardsAndBlake2b) {
  TempDir t;
  t.write("m/w", std::string(10, 'q'));
  auto r = run_pedigree({"hash", (t.path() / "m").string(), "--method", "shards", "--shard-size", "4",
                         "--algorithm", "blake2b", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["resources"].size(), 3u);
  EXPECT_EQ(j["resources"][2]["name"], "w:8:10");
  EXPECT_EQ(j["resources"][2]["digest"].get<std::string>().size(), 128u);
  EXPECT_EQ(j["serialization"]["shard_size"], 4);
}

}  // namespace
}  // namespace pedigree
