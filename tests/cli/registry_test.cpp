// End-to-end tests of `pedigree registry` and `pedigree lineage --registry`
// through the built binary: add/list/show/remove/export/import, duplicate and
// corrupt-file errors with exit 2, two concurrent writer processes, and the
// identity / derived / independent / not comparable relations with exit codes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/llama_fixtures.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using test::run_pedigree;

std::string hf() { return test::samples_dir() + "/tinyllama-hf"; }
std::string gguf() { return test::samples_dir() + "/tinyllama-gguf/tinyllama-f16.gguf"; }

class RegistryCli : public ::testing::Test {
 protected:
  void SetUp() override { setenv("SOURCE_DATE_EPOCH", "1700000000", 1); }
  void TearDown() override { unsetenv("SOURCE_DATE_EPOCH"); }
  std::string db() const { return (dir.path() / "reg.db").string(); }
  test::RunResult reg(std::vector<std::string> args) {
    args.insert(args.begin(), {"registry", "--registry", db()});
    return run_pedigree(args);
  }
  test::TempDir dir;
};

TEST_F(RegistryCli, AddListShowRemove) {
  auto r = reg({"add", hf(), "--name", "tiny", "--license", "apache-2.0", "--protected"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("registered tiny (", 0), 0u) << r.out;
  r = reg({"list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_EQ(j["models"][0]["name"], "tiny");
  EXPECT_EQ(j["models"][0]["protected"], true);
  EXPECT_EQ(j["models"][0]["license"], "apache-2.0");
  EXPECT_EQ(j["models"][0]["added_at"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(j["models"][0]["format"], "hf-directory");
  r = reg({"show", "tiny"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("protected:           yes\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tensor named root:   sha256:"), std::string::npos) << r.out;
  r = reg({"list"});
  EXPECT_NE(r.out.find("tiny "), std::string::npos) << r.out;

  r = reg({"add", gguf(), "--name", "tiny"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: model 'tiny' is already registered\n");
  r = reg({"show", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: no model named 'nope' in the registry\n");
  r = reg({"remove", "tiny"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "removed tiny\n");
  r = reg({"list", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["models"].size(), 0u);
}

TEST_F(RegistryCli, ExportImport) {
  ASSERT_EQ(reg({"add", hf(), "--name", "tiny"}).exit_code, 0);
  std::string copy = (dir.path() / "copy.db").string(), other = (dir.path() / "other.db").string();
  auto r = reg({"export", copy});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_pedigree({"registry", "import", copy, "--registry", other});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_pedigree({"registry", "--registry", other, "list", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["models"][0]["name"], "tiny");
  r = run_pedigree({"registry", "--registry", other, "import", copy});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: model 'tiny' is already registered\n");
}

TEST_F(RegistryCli, CorruptRegistryExitsTwo) {
  std::ofstream(db()) << "this is not a database, just text that is long enough to look like a header........";
  auto r = reg({"list"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: cannot open registry " + db() + ": file is not a database\n");
  r = run_pedigree({"lineage", hf(), "--registry", db()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: cannot open registry " + db() + ": file is not a database\n");
}

TEST_F(RegistryCli, ConcurrentWritersDoNotCorruptIt) {
  ASSERT_EQ(reg({"list"}).exit_code, 0);  // create it
  test::RunResult r1, r2;
  std::thread t1([&] { r1 = reg({"add", hf(), "--name", "one", "-j", "1"}); });
  std::thread t2([&] { r2 = reg({"add", gguf(), "--name", "two", "-j", "1"}); });
  t1.join();
  t2.join();
  EXPECT_EQ(r1.exit_code, 0) << r1.err;
  EXPECT_EQ(r2.exit_code, 0) << r2.err;
  auto r = reg({"list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["models"].size(), 2u);
  EXPECT_EQ(j["models"][0]["name"], "one");
  EXPECT_EQ(j["models"][1]["name"], "two");
}

TEST_F(RegistryCli, LineageAgainstRegistry) {
  auto w = test::load_float_tensors(hf() + "/model.safetensors");
  std::string random = (dir.path() / "random.safetensors").string();
  test::write_safetensors(random, test::random_like(w, 3));
  std::string other = (dir.path() / "other.safetensors").string();
  test::write_safetensors(other, test::random_like(w, 4));
  auto big = w;
  big["model.embed_tokens.weight"].shape[0] = 300;
  big["model.embed_tokens.weight"].v.resize(300 * 64, 0.25f);
  std::string vocab = (dir.path() / "vocab.safetensors").string();
  test::write_safetensors(vocab, big);
  ASSERT_EQ(reg({"add", hf(), "--name", "base", "--protected"}).exit_code, 0);
  ASSERT_EQ(reg({"add", random, "--name", "random"}).exit_code, 0);
  ASSERT_EQ(reg({"add", vocab, "--name", "wide-vocab"}).exit_code, 0);

  auto r = run_pedigree({"lineage", hf(), "--registry", db()});  // identity with a protected model
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::string line = "base" + std::string(20, ' ') + "       yes        -         -  identity (same tensors)\n";
  EXPECT_NE(r.out.find(line), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not comparable (vocabulary sizes differ: 300 vs 260 tokens)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict: identical to or derived from protected model(s): base\n"), std::string::npos);

  r = run_pedigree({"lineage", gguf(), "--registry", db(), "--json"});  // derived from a protected model
  EXPECT_EQ(r.exit_code, 1) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["matches"][0]["name"], "base");
  EXPECT_EQ(j["matches"][0]["relation"], "compared");
  EXPECT_EQ(j["matches"][0]["verdict"], "derived");
  EXPECT_EQ(j["flagged"], nlohmann::json::array({"base"}));

  r = run_pedigree({"lineage", random, "--registry", db()});  // identity with an unprotected model only
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("verdict: not derived from any protected model\n"), std::string::npos) << r.out;

  r = run_pedigree({"lineage", other, "--registry", db(), "--json"});  // independent of everything
  EXPECT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  for (const auto& m : j["matches"])
    if (m["relation"] == "compared") EXPECT_EQ(m["verdict"], "independent") << m.dump();

  r = run_pedigree({"lineage", hf(), gguf(), "--registry", db()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: lineage: give either B or --registry, not both\n");
}

}  // namespace
}  // namespace pedigree
