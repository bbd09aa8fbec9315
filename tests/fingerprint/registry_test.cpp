// This file implements the tests of the lineage registry library: add, list,
// get, remove, export and import; duplicate names; a failure in the middle of
// an add (injected by a trigger) leaving the database unchanged; corrupt and
// foreign files; and matching a model against the registry.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "fingerprint/lineage_fp.h"
#include "fingerprint/registry.h"
#include "tests/support/llama_fixtures.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

std::string hf() { return test::samples_dir() + "/tinyllama-hf"; }

RegistryEntry entry(const std::string& path, const std::string& name, bool prot = false) {
  RegistryEntry e;
  Error err;
  EXPECT_TRUE(describe_model(path, &e, &err, 1)) << err.str();
  e.model.name = name;
  e.model.license = "apache-2.0";
  e.model.is_protected = prot;
  e.model.added_at = 1700000000;
  return e;
}

std::vector<std::string> names(Registry& r) {
  std::vector<RegistryModel> ms;
  Error err;
  EXPECT_TRUE(r.list(&ms, &err)) << err.str();
  std::vector<std::string> out;
  for (const RegistryModel& m : ms) out.push_back(m.name);
  return out;
}

TEST(Registry, AddListGetRemove) {
  test::TempDir dir;
  std::string db = (dir.path() / "r.db").string();
  Error err;
  auto reg = Registry::open(db, &err);
  ASSERT_TRUE(reg) << err.str();
  RegistryEntry e = entry(hf(), "tiny");
  ASSERT_TRUE(reg->add(e, &err)) << err.str();
  ASSERT_TRUE(reg->add(entry(test::samples_dir() + "/tinyllama-gguf/tinyllama-f16.gguf", "tiny-f16"), &err));
  EXPECT_EQ(names(*reg), (std::vector<std::string>{"tiny", "tiny-f16"}));
  RegistryEntry got;
  ASSERT_TRUE(reg->get("tiny", &got, &err)) << err.str();
  EXPECT_EQ(got.fingerprint, e.fingerprint);
  EXPECT_EQ(got.model.named_root, e.model.named_root);
  EXPECT_EQ(got.model.manifest_root.size(), 64u);
  EXPECT_EQ(got.model.format, "hf-directory");
  EXPECT_EQ(got.model.vocab, 260u);
  EXPECT_EQ(got.model.layers, 2u);
  EXPECT_EQ(got.model.added_at, 1700000000);
  EXPECT_TRUE(got.model.parameters > 0);
  LineageFp fp;
  EXPECT_TRUE(parse_lineage_fp(got.fingerprint, "fp", &fp, &err)) << err.str();

  EXPECT_FALSE(reg->add(e, &err));
  EXPECT_EQ(err.str(), "model 'tiny' is already registered");
  EXPECT_FALSE(reg->get("nope", &got, &err));
  EXPECT_EQ(err.str(), "no model named 'nope' in the registry");
  ASSERT_TRUE(reg->remove("tiny", &err)) << err.str();
  EXPECT_FALSE(reg->remove("tiny", &err));
  EXPECT_EQ(err.str(), "no model named 'tiny' in the registry");
  EXPECT_EQ(names(*reg), (std::vector<std::string>{"tiny-f16"}));
}

TEST(Registry, FailedAddLeavesItUnchanged) {
  test::TempDir dir;
  std::string db = (dir.path() / "r.db").string();
  Error err;
  auto reg = Registry::open(db, &err);
  ASSERT_TRUE(reg) << err.str();
  ASSERT_TRUE(reg->add(entry(hf(), "first"), &err));
  {  // fail the second half of an add: the model row is inserted, the fingerprint row is refused
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw,
                           "CREATE TRIGGER fail_fp BEFORE INSERT ON fingerprints "
                           "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  }
  EXPECT_FALSE(reg->add(entry(hf(), "second"), &err));
  EXPECT_EQ(err.str(), "registry " + db + ": insert fingerprint of second: injected failure");
  EXPECT_EQ(names(*reg), (std::vector<std::string>{"first"}));
  std::vector<RegistryEntry> all;
  ASSERT_TRUE(reg->entries(&all, &err));
  EXPECT_EQ(all.size(), 1u);
}

TEST(Registry, ExportImport) {
  test::TempDir dir;
  std::string db = (dir.path() / "r.db").string(), out = (dir.path() / "copy.db").string();
  Error err;
  auto reg = Registry::open(db, &err);
  ASSERT_TRUE(reg) << err.str();
  ASSERT_TRUE(reg->add(entry(hf(), "a"), &err));
  ASSERT_TRUE(reg->export_to(out, &err)) << err.str();
  auto other = Registry::open((dir.path() / "other.db").string(), &err);
  ASSERT_TRUE(other) << err.str();
  ASSERT_TRUE(other->import_from(out, &err)) << err.str();
  EXPECT_EQ(names(*other), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(other->import_from(out, &err));  // all or nothing: 'a' exists
  EXPECT_EQ(err.str(), "model 'a' is already registered");
  EXPECT_EQ(names(*other), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(other->import_from((dir.path() / "missing.db").string(), &err));
  EXPECT_EQ(err.str(), "cannot open registry " + (dir.path() / "missing.db").string() + ": no such readable file");
}

TEST(Registry, CorruptOrForeignFile) {
  test::TempDir dir;
  std::string bad = (dir.path() / "bad.db").string();
  std::ofstream(bad) << std::string(4096, 'x');
  Error err;
  EXPECT_FALSE(Registry::open(bad, &err));
  EXPECT_EQ(err.str(), "cannot open registry " + bad + ": file is not a database");
  std::string foreign = (dir.path() / "foreign.db").string();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(foreign.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE t (x INTEGER)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  EXPECT_FALSE(Registry::open(foreign, &err));
  EXPECT_EQ(err.str(), "cannot open registry " + foreign + ": not a pedigree registry (no schema_version table)");
}

TEST(Registry, MatchFindsIdentityDerivationAndIncompatibility) {
  test::TempDir dir;
  Error err;
  auto reg = Registry::open((dir.path() / "r.db").string(), &err);
  ASSERT_TRUE(reg) << err.str();
  auto w = test::load_float_tensors(hf() + "/model.safetensors");
  std::string random = (dir.path() / "random.safetensors").string();
  test::write_safetensors(random, test::random_like(w, 3));
  auto big = w;
  big["model.embed_tokens.weight"].shape[0] = 300;
  big["model.embed_tokens.weight"].v.resize(300 * 64, 0.25f);
  std::string vocab = (dir.path() / "vocab.safetensors").string();
  test::write_safetensors(vocab, big);
  ASSERT_TRUE(reg->add(entry(hf(), "base", true), &err));
  ASSERT_TRUE(reg->add(entry(random, "random"), &err));
  ASSERT_TRUE(reg->add(entry(vocab, "wide-vocab"), &err));

  std::vector<RegistryMatch> ms;
  ASSERT_TRUE(match_registry(hf(), *reg, &ms, &err, 1)) << err.str();
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_EQ(ms[0].model.name, "base");
  EXPECT_EQ(ms[0].relation, "identity");
  EXPECT_EQ(ms[1].model.name, "random");
  EXPECT_EQ(ms[1].report.verdict, "independent");
  EXPECT_EQ(ms[2].relation, "not-comparable");
  EXPECT_EQ(ms[2].note, "vocabulary sizes differ: 300 vs 260 tokens");

  auto renamed = w;
  renamed["output.weight"] = renamed["lm_head.weight"];
  renamed.erase("lm_head.weight");
  std::string ren = (dir.path() / "renamed.safetensors").string();
  test::write_safetensors(ren, renamed);
  ASSERT_TRUE(match_registry(ren, *reg, &ms, &err, 1)) << err.str();
  EXPECT_EQ(ms[0].relation, "identity-renamed");

  ASSERT_TRUE(match_registry(test::samples_dir() + "/tinyllama-gguf/tinyllama-f16.gguf", *reg, &ms, &err, 1));
  EXPECT_EQ(ms[0].model.name, "base");
  EXPECT_EQ(ms[0].relation, "compared");
  EXPECT_EQ(ms[0].report.verdict, "derived");
  EXPECT_GT(ms[0].report.primary, 0.99);
}

}  // namespace
}  // namespace pedigree
