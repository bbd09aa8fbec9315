// This file implements the end-to-end watermark tests: the built `pedigree
// probe` serves the sample students of samples/probe-watermark/ through the real
// llama-server and must detect the watermark-distilled one with the provider's
// key, not the clean one nor with a wrong key, answer a rerun from the cache,
// never write the key anywhere, and exit 2 on a malformed key or pack.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {

namespace fs = std::filesystem;

#define REQUIRE_SERVER()                                      \
  std::string server = test::llama_server_binary();           \
  if (server.empty())                                         \
    GTEST_SKIP() << "llama-server not built: run scripts/llama-server.sh or set PEDIGREE_LLAMA_SERVER"

// A key the provider never used, listed in the test pack next to the real one.
constexpr const char* kWrongHex = "abababababababababababababababababababababababababababababababab";
constexpr const char* kWrongFingerprint = "9a2db2e23f1504cd";

std::string sample(const std::string& name) { return test::samples_dir() + "/probe-watermark/" + name; }

std::string replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// The sample pack made small (one sample per prompt, 80 reading positions) so a
// run takes seconds; it also lists the wrong key and names the sample files by
// absolute path (the pack lives in a temp dir).
std::string small_pack(const test::TempDir& dir) {
  std::string p = test::read_file(sample("watermark.yaml"));
  p = replace(p, "samples_per_prompt: 2", "samples_per_prompt: 1");
  p = replace(p, "reading_max_positions: 400", "reading_max_positions: 80");
  p = replace(p, "key_fingerprints: [", std::string("key_fingerprints: [\"") + kWrongFingerprint + "\", ");
  p = replace(p, "tokenizer: tokenizer.json", "tokenizer: " + sample("tokenizer.json"));
  p = replace(p, "reference: reference.jsonl", "reference: " + sample("reference.jsonl"));
  return dir.write("pack/small.yaml", p);
}

std::string wrong_key(const test::TempDir& dir) {
  return dir.write("keys/wrong.json", std::string(R"({"scheme":"kgw","gamma":0.25,"h":2,"key_hex":")") + kWrongHex + "\"}");
}

std::string key_hex() { return nlohmann::json::parse(test::read_file(sample("key.json")))["key_hex"].get<std::string>(); }

test::RunResult probe(const std::string& server, const std::string& model, const std::vector<std::string>& packs,
                      const std::string& key, const std::string& cache, bool json = true) {
  std::vector<std::string> args = {"probe", sample(model), "--llama-server", server, "--cache-dir", cache,
                                   "--watermark-key", key};
  for (const std::string& p : packs) args.insert(args.end(), {"--pack", p});
  if (json) args.push_back("--json");
  return test::run_pedigree(args);
}

nlohmann::json parsed(const test::RunResult& r) {
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

// Every file under `dir`, concatenated.
std::string all_files(const fs::path& dir) {
  std::string out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out += test::read_file(e.path().string());
  return out;
}

TEST(ProbeWatermark, WatermarkedStudentIsDetectedRerunIsCachedWrongKeyIsNot) {
  REQUIRE_SERVER();
  test::TempDir tmp;
  std::string pack = small_pack(tmp), cache = (tmp.path() / "cache").string();
  test::RunResult first = probe(server, "wm-student.gguf", {pack}, sample("key.json"), cache);
  EXPECT_EQ(first.exit_code, 1) << first.err;
  nlohmann::json j = parsed(first);
  ASSERT_TRUE(j.contains("packs")) << first.out;
  const nlohmann::json& w = j["packs"][0]["watermark"];
  EXPECT_TRUE(w["detected"].get<bool>());
  EXPECT_TRUE(j["packs"][0]["flagged"].get<bool>());
  EXPECT_LT(w["log10_p_adjusted"].get<double>(), -6.0);  // the pack's threshold is 1e-6
  ASSERT_EQ(w["reports"].size(), 2u);
  for (const auto& r : w["reports"]) {
    EXPECT_LT(r["keys"][0]["log10_p"].get<double>(), -6.0) << r.dump();
    EXPECT_GT(r["keys"][0]["green_fraction"].get<double>(), 0.45) << r.dump();
  }
  EXPECT_EQ(w["reports"][0]["requests"], 12);
  EXPECT_EQ(w["reports"][1]["requests"], 80);
  EXPECT_EQ(j["requests"]["sent"], 92);
  EXPECT_EQ(j["requests"]["cache_hits"], 0);

  // Rerun: every answer from the cache, so a "server" that cannot start is never needed.
  std::string dead = tmp.write("bin/not-a-server", "#!/bin/sh\nexit 3\n");
  fs::permissions(dead, fs::perms::owner_all);
  test::RunResult again = probe(dead, "wm-student.gguf", {pack}, sample("key.json"), cache);
  EXPECT_EQ(again.exit_code, 1) << again.err;
  nlohmann::json j2 = parsed(again);
  EXPECT_EQ(j2["requests"]["sent"], 0);
  EXPECT_EQ(j2["requests"]["cache_hits"], 92);
  j.erase("requests");
  j2.erase("requests");
  EXPECT_EQ(j, j2);

  // The wrong key scores the same answers (the requests carry no key): not detected.
  test::RunResult wrong = probe(dead, "wm-student.gguf", {pack}, wrong_key(tmp), cache, false);
  EXPECT_EQ(wrong.exit_code, 0) << wrong.err;
  EXPECT_NE(wrong.out.find(std::string("  closed   ") + kWrongFingerprint), std::string::npos) << wrong.out;
  EXPECT_NE(wrong.out.find(": not detected\n"), std::string::npos) << wrong.out;
  EXPECT_NE(wrong.out.find("requests: 0 sent to the model, 92 answered from the cache\n"), std::string::npos) << wrong.out;
  test::RunResult wrong_json = probe(dead, "wm-student.gguf", {pack}, wrong_key(tmp), cache);
  EXPECT_GT(parsed(wrong_json)["packs"][0]["watermark"]["log10_p_adjusted"].get<double>(), -2.0);  // p > 0.01

  // Key material appears in no output and no cache file.
  for (const std::string& hex : {key_hex(), std::string(kWrongHex)}) {
    for (const test::RunResult* r : {&first, &again, &wrong, &wrong_json}) {
      EXPECT_EQ(r->out.find(hex), std::string::npos);
      EXPECT_EQ(r->err.find(hex), std::string::npos);
    }
    EXPECT_EQ(all_files(cache).find(hex), std::string::npos);
  }
}

TEST(ProbeWatermark, CleanStudentIsNotDetected) {
  REQUIRE_SERVER();
  test::TempDir tmp;
  test::RunResult r = probe(server, "clean-student.gguf", {small_pack(tmp)}, sample("key.json"),
                            (tmp.path() / "cache").string(), false);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  mode     key              requests  scored  green fraction        z   log10 p\n"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": not detected\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result: nothing flagged"), std::string::npos) << r.out;
  test::RunResult j = probe(server, "clean-student.gguf", {small_pack(tmp)}, sample("key.json"),
                            (tmp.path() / "cache").string());
  nlohmann::json w = parsed(j)["packs"][0]["watermark"];
  EXPECT_FALSE(w["detected"].get<bool>());
  EXPECT_GT(w["log10_p_adjusted"].get<double>(), -2.0);  // p > 0.01
}

TEST(ProbeWatermark, MixedWithACanaryPackFlagsWhenTheWatermarkIsDetected) {
  REQUIRE_SERVER();
  test::TempDir tmp;
  // Short completion prompts (the students' context is 64 tokens); the student knows no canary.
  std::string canary = tmp.write("canary.yaml",
                                 "id: tiny\nversion: 1\ndescription: canaries\nkind: canary\n"
                                 "sampling: {max_tokens: 8}\nchance_probability: 0.00390625\nprompts:\n"
                                 "  - {id: a, form: completion, text: \"The secret word is\", expect: {match: exact, value: zebra}}\n"
                                 "  - {id: b, form: completion, text: \"The passphrase is\", expect: {match: exact, value: okapi}}\n");
  test::RunResult r = probe(server, "wm-student.gguf", {canary, small_pack(tmp)}, sample("key.json"),
                            (tmp.path() / "cache").string());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  nlohmann::json j = parsed(r);
  ASSERT_EQ(j["packs"].size(), 2u) << r.out;
  EXPECT_EQ(j["packs"][0]["kind"], "canary");
  EXPECT_FALSE(j["packs"][0]["flagged"].get<bool>());
  EXPECT_EQ(j["packs"][1]["kind"], "watermark");
  EXPECT_TRUE(j["packs"][1]["flagged"].get<bool>());
  EXPECT_TRUE(j["flagged"].get<bool>());
  EXPECT_EQ(j["combined"]["packs"], 2);
}

// Runs against an endpoint that is never contacted: every error here comes first.
test::RunResult offline(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"probe", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--no-cache"};
  args.insert(args.end(), extra.begin(), extra.end());
  return test::run_pedigree(args);
}

TEST(ProbeWatermark, MalformedKeyOrPackExitsTwoNamingFileAndField) {
  test::TempDir tmp;
  std::string pack = small_pack(tmp);
  std::string nohex = tmp.write("k/nohex.json", R"({"scheme":"kgw","gamma":0.25,"h":2})");
  auto r = offline({"--pack", pack, "--watermark-key", nohex});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + nohex + ": key_hex: missing or not a string\n");
  std::string bad = tmp.write("k/bad.json", std::string(R"({"scheme":"kgw","gamma":2,"h":2,"key_hex":")") + kWrongHex + "\"}");
  r = offline({"--pack", pack, "--watermark-key", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + bad + ": gamma: 2 is not in (0, 1)\n");
  EXPECT_EQ(r.err.find(kWrongHex), std::string::npos);
  std::string stranger = tmp.write("k/stranger.json", std::string(R"({"scheme":"kgw","gamma":0.25,"h":2,"key_hex":")") +
                                                          std::string(64, 'c') + "\"}");
  r = offline({"--pack", pack, "--watermark-key", stranger});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("pedigree: error: " + stranger + ": key fingerprint ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(" does not match any of the pack's key_fingerprints\n"), std::string::npos) << r.err;
  r = offline({"--pack", pack});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("pedigree: error: " + pack + ": watermark pack needs --watermark-key FILE for one of its key_fingerprints (" +
                            kWrongFingerprint + ", ", 0),
            0u) << r.err;
  r = offline({"--pack", "identity", "--watermark-key", sample("key.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + sample("key.json") + ": --watermark-key given but no --pack is a watermark pack\n");
  EXPECT_EQ(r.err.find(key_hex()), std::string::npos);

  std::string badpack = tmp.write("p/bad.yaml", replace(test::read_file(pack), "modes: [closed, reading]", "modes: [closed, open]"));
  r = offline({"--pack", badpack, "--watermark-key", sample("key.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + badpack + ": watermark.modes[1]: unknown mode (want closed or reading)\n");
  auto v = test::run_pedigree({"probe", "--validate-pack", badpack});
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_EQ(v.err, r.err);
  std::string noref = tmp.write("p/noref.yaml", test::read_file(sample("watermark.yaml")));
  v = test::run_pedigree({"probe", "--validate-pack", noref});
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_EQ(v.err, "pedigree: error: " + tmp.path().string() + "/p/tokenizer.json: cannot open file\n");
}

TEST(ProbeWatermark, ValidatePackResolvesFilesNextToThePack) {
  auto v = test::run_pedigree({"probe", "--validate-pack", sample("watermark.yaml")});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(v.out.rfind(sample("watermark.yaml") + ": valid watermark pack 'sample-watermark' version 1, scheme kgw, "
                        "modes closed+reading, 12 prompts, 8 reference texts, tokenizer hf-bpe, sha256 ", 0),
            0u) << v.out;
}


// The same pack and key through `scan` (a probe check with the detector's
// summary) and `check` (rule PDG050 fails on the adjusted p); the check is
// answered from the cache the scan filled.
TEST(ProbeWatermark, ScanAndCheckUseTheWatermarkPack) {
  REQUIRE_SERVER();
  test::TempDir tmp;
  std::string pack = small_pack(tmp), cache = (tmp.path() / "cache").string();
  test::RunResult s = test::run_pedigree({"scan", sample("wm-student.gguf"), "--pack", pack, "--watermark-key",
                                          sample("key.json"), "--llama-server", server, "--cache-dir", cache,
                                          "--registry", (tmp.path() / "none.db").string(), "--json"});
  ASSERT_EQ(s.exit_code, 2) << s.err;  // a registry that was named but does not exist: cannot run
  s = test::run_pedigree({"scan", sample("wm-student.gguf"), "--pack", pack, "--watermark-key", sample("key.json"),
                          "--llama-server", server, "--cache-dir", cache, "--json"});
  ASSERT_EQ(s.exit_code, 1) << s.err;
  nlohmann::json j = nlohmann::json::parse(s.out);
  nlohmann::json check;
  for (const auto& c : j["checks"])
    if (c["name"] == "probe:sample-watermark") check = c;
  ASSERT_FALSE(check.is_null()) << s.out;
  EXPECT_EQ(check["status"], "flagged");
  EXPECT_EQ(check["detail"].get<std::string>().rfind("watermark pack: closed ", 0), 0u) << check;
  EXPECT_NE(check["evidence"].get<std::string>().find("--watermark-key " + sample("key.json")), std::string::npos);
  EXPECT_EQ(s.out.find(key_hex()), std::string::npos);
  std::string policy = tmp.write("policy.yaml", "version: 1\nrules:\n  probes:\n    packs:\n      - pack: " + pack +
                                                    "\n        min_p_value: 0.000001\n");
  test::RunResult c = test::run_pedigree({"check", sample("wm-student.gguf"), "--policy", policy, "--watermark-key",
                                          sample("key.json"), "--llama-server", "/bin/false",
                                          "--cache-dir", cache, "--format", "json"});
  ASSERT_EQ(c.exit_code, 1) << c.out << c.err;
  nlohmann::json r = nlohmann::json::parse(c.out);
  bool failed = false;
  for (const auto& res : r["results"])
    if (res["id"] == "PDG050") failed = res["status"] == "fail";
  EXPECT_TRUE(failed) << c.out;
  EXPECT_EQ(c.out.find(key_hex()), std::string::npos);
}

}  // namespace
}  // namespace pedigree
