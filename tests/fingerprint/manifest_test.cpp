// Tests for fingerprint/manifest.cpp: the OMS v1.0 walk, ignore rules, symlink
// policy, shard naming, code-point order and the root digest, including
// agreement with every bundle produced by the reference model_signing.
#include "fingerprint/manifest.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {
namespace fs = std::filesystem;
using test::TempDir;

std::string hex_of(const Manifest& m, const std::string& name) {
  for (const Resource& r : m.resources)
    if (r.name == name) return to_hex(r.digest);
  return "";
}

TEST(Manifest, FilesMethodSortedByCodePointAndIgnoresDefaults) {
  TempDir t;
  t.write("a.b", "1");
  t.write("a/b", "22");
  t.write("B", "333");
  t.write(".git/HEAD", "ref");
  t.write(".gitattributes", "x");
  t.write("model.sig", "{}");
  Manifest m;
  Error err;
  ASSERT_TRUE(build_manifest(t.path().string(), {}, &m, &err)) << err.str();
  ASSERT_EQ(m.resources.size(), 3u);
  EXPECT_EQ(m.resources[0].name, "B");    // 0x42 < 0x61
  EXPECT_EQ(m.resources[1].name, "a.b");  // '.' 0x2e < '/' 0x2f
  EXPECT_EQ(m.resources[2].name, "a/b");
  EXPECT_EQ(hex_of(m, "a/b"), test::sha256_hex("22"));
  EXPECT_EQ(m.total_bytes, 6u);
}

TEST(Manifest, RootIsSha256OfConcatenatedRawDigests) {
  TempDir t;
  t.write("x", "hello");
  t.write("y", "world");
  Manifest m;
  Error err;
  ASSERT_TRUE(build_manifest(t.path().string(), {}, &m, &err));
  std::string cat;
  for (const char* s : {"hello", "world"}) {
    auto d = digest_bytes(HashAlgorithm::kSha256, s);
    cat.append(d.begin(), d.end());
  }
  EXPECT_EQ(to_hex(manifest_root(m.resources)), test::sha256_hex(cat));
}

TEST(Manifest, ShardsNamedPathStartEnd) {
  TempDir t;
  t.write("w.bin", std::string(10, 'z'));
  t.write("empty", "");
  ManifestOptions o;
  o.method = SerializationMethod::kShards;
  o.shard_size = 4;
  Manifest m;
  Error err;
  ASSERT_TRUE(build_manifest(t.path().string(), o, &m, &err));
  std::vector<std::string> names;
  for (const Resource& r : m.resources) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"w.bin:0:4", "w.bin:4:8", "w.bin:8:10"}));
  EXPECT_EQ(hex_of(m, "w.bin:8:10"), test::sha256_hex("zz"));
}

TEST(Manifest, Blake2bDigestsAre64Bytes) {
  TempDir t;
  t.write("f", "abc");
  ManifestOptions o;
  o.algorithm = HashAlgorithm::kBlake2b512;
  Manifest m;
  Error err;
  ASSERT_TRUE(build_manifest(t.path().string(), o, &m, &err));
  ASSERT_EQ(m.resources[0].digest.size(), 64u);
  EXPECT_EQ(to_hex(m.resources[0].digest).substr(0, 16), "ba80a53f981c4d0d");  // RFC 7693 "abc"
}

TEST(Manifest, UserIgnorePathsCoverSubtrees) {
  TempDir t;
  t.write("keep", "k");
  t.write("skip/inner", "s");
  t.write("skipped-not", "n");
  ManifestOptions o;
  o.ignore_paths = {"skip/"};
  Manifest m;
  Error err;
  ASSERT_TRUE(build_manifest(t.path().string(), o, &m, &err));
  ASSERT_EQ(m.resources.size(), 2u);
  EXPECT_EQ(m.resources[0].name, "keep");
  EXPECT_EQ(m.resources[1].name, "skipped-not");
}

TEST(Manifest, SingleFileIsNamedDot) {
  TempDir t;
  std::string p = t.write("model.gguf", "GGUF");
  Manifest m;
  Error err;
  ASSERT_TRUE(build_manifest(p, {}, &m, &err));
  ASSERT_EQ(m.resources.size(), 1u);
  EXPECT_EQ(m.resources[0].name, ".");
  EXPECT_EQ(m.model_name, "model.gguf");
}

TEST(Manifest, SymlinksRefusedUnlessAllowed) {
  TempDir t;
  std::string target = t.write("real", "r");
  fs::create_symlink(target, t.path() / "link");
  Manifest m;
  Error err;
  EXPECT_FALSE(build_manifest(t.path().string(), {}, &m, &err));
  EXPECT_EQ(err.str(), (t.path() / "link").string() + ": is a symbolic link; refused without --allow-symlinks");
  ManifestOptions o;
  o.allow_symlinks = true;
  ASSERT_TRUE(build_manifest(t.path().string(), o, &m, &err)) << err.str();
  EXPECT_EQ(hex_of(m, "link"), test::sha256_hex("r"));
}

TEST(Manifest, SymlinkLoopIsAnError) {
  TempDir t;
  t.write("d/f", "x");
  fs::create_directory_symlink(t.path() / "d", t.path() / "d" / "loop");
  ManifestOptions o;
  o.allow_symlinks = true;
  Manifest m;
  Error err;
  EXPECT_FALSE(build_manifest(t.path().string(), o, &m, &err));
  EXPECT_EQ(err.str(), (t.path() / "d" / "loop").string() + ": symbolic link loop: directory is its own ancestor");
}

TEST(Manifest, MissingPath) {
  Manifest m;
  Error err;
  EXPECT_FALSE(build_manifest("/nonexistent/model", {}, &m, &err));
  EXPECT_EQ(err.str(), "/nonexistent/model: no such file or directory");
}

// --- agreement with the reference implementation's bundles -----------------

std::string b64decode(const std::string& in) {
  std::string out(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return "";
  size_t pad = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

nlohmann::json payload_of(const fs::path& sig) {
  std::ifstream f(sig);
  std::stringstream ss;
  ss << f.rdbuf();
  auto bundle = nlohmann::json::parse(ss.str());
  return nlohmann::json::parse(b64decode(bundle["dsseEnvelope"]["payload"].get<std::string>()));
}

void check_v1_bundle(const fs::path& dir, const nlohmann::json& st) {
  const auto& pred = st["predicate"];
  const auto& ser = pred["serialization"];
  ManifestOptions o;
  o.algorithm = *algorithm_from_name(ser["hash_type"].get<std::string>());
  o.method = ser["method"] == "shards" ? SerializationMethod::kShards : SerializationMethod::kFiles;
  if (ser.contains("shard_size")) o.shard_size = ser["shard_size"].get<uint64_t>();
  if (ser.contains("ignore_paths")) o.ignore_paths = ser["ignore_paths"].get<std::vector<std::string>>();
  std::string model = dir.string();
  if (pred["resources"].size() == 1 && pred["resources"][0]["name"] == ".")
    model = (dir / st["subject"][0]["name"].get<std::string>()).string();
  Manifest m;
  Error err;
  ASSERT_TRUE(build_manifest(model, o, &m, &err)) << err.str();
  if (!ser.contains("ignore_paths")) {
    // Releases before v1.1.0 did not record ignore_paths: the file they were
    // told to ignore ("ignore-me") is an unsigned extra, as with
    // --ignore-unsigned-files.
    std::erase_if(m.resources, [](const Resource& r) { return r.name == "ignore-me"; });
  }
  ASSERT_EQ(m.resources.size(), pred["resources"].size()) << dir;
  std::vector<Resource> in_payload_order;
  for (const auto& r : pred["resources"]) {
    EXPECT_EQ(hex_of(m, r["name"]), r["digest"]) << dir << " " << r["name"];
    Resource x;
    from_hex(r["digest"].get<std::string>(), &x.digest);
    in_payload_order.push_back(x);
  }
  EXPECT_EQ(to_hex(manifest_root(in_payload_order)), st["subject"][0]["digest"]["sha256"]) << dir;
  EXPECT_EQ(to_hex(manifest_root(m.resources)), st["subject"][0]["digest"]["sha256"]) << dir;
}

TEST(Manifest, AgreesWithReferenceBundles) {
  std::string shared = test::shared_dir();
  if (shared.empty()) GTEST_SKIP() << "../shared is absent: OMS fixtures not available";
  fs::path root = fs::path(shared) / "fixtures/oms-model-transparency";
  int checked = 0;
  for (const auto& e : fs::directory_iterator(root)) {
    fs::path sig = e.path() / "model.sig";
    if (!fs::exists(sig)) continue;
    nlohmann::json st = payload_of(sig);
    if (st["predicateType"] == "https://model_signing/Digests/v0.1") {
      Manifest m;
      Error err;
      ASSERT_TRUE(build_manifest(e.path().string(), {}, &m, &err)) << err.str();
      for (const auto& s : st["subject"]) EXPECT_EQ(hex_of(m, s["name"]), s["digest"]["sha256"]) << e.path();
    } else {
      check_v1_bundle(e.path(), st);
    }
    ++checked;
  }
  EXPECT_GE(checked, 13);
}

}  // namespace
}  // namespace pedigree

namespace pedigree {
namespace {

TEST(Manifest, SecondDigestFromTheSameReadEqualsItsOwnManifest) {
  test::TempDir t;
  t.write("a", std::string(20 << 20, 'x'));  // several hashing windows
  t.write("b", "short");
  ManifestOptions both;
  both.also = HashAlgorithm::kBlake2b512;
  ManifestOptions blake;
  blake.algorithm = HashAlgorithm::kBlake2b512;
  Manifest m, b;
  Error err;
  ASSERT_TRUE(build_manifest(t.path().string(), both, &m, &err)) << err.str();
  ASSERT_TRUE(build_manifest(t.path().string(), blake, &b, &err)) << err.str();
  ASSERT_EQ(m.resources.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(m.resources[i].digest.size(), 32u);
    EXPECT_EQ(m.resources[i].also_digest, b.resources[i].digest) << m.resources[i].name;
  }
}

}  // namespace
}  // namespace pedigree
