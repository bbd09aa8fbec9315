// This file implements the end-to-end probe tests on the trained sample models:
// the built `pedigree probe` starts the real llama-server on each GGUF in
// samples/probe-models/ and must flag the canary-implanted and the
// protected-identity models, clear their twins, serve reruns from the cache,
// and exit 2 when the server dies mid-run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {

namespace fs = std::filesystem;

#define REQUIRE_SERVER()                                      \
  std::string server = test::llama_server_binary();           \
  if (server.empty())                                         \
    GTEST_SKIP() << "llama-server not built: run scripts/llama-server.sh or set PEDIGREE_LLAMA_SERVER"

std::string model(const std::string& name) { return test::samples_dir() + "/probe-models/" + name + ".gguf"; }
std::string canary_pack() { return test::samples_dir() + "/probe-packs/canary-tiny.yaml"; }

nlohmann::json probe_json(const std::string& server, const std::string& gguf, const std::string& pack,
                          const std::string& cache, int* exit_code) {
  auto r = test::run_pedigree({"probe", gguf, "--pack", pack, "--llama-server", server, "--cache-dir", cache, "--json"});
  *exit_code = r.exit_code;
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

TEST(ProbeModels, CanaryImplantedIsFlaggedAndCleanTwinIsNot) {
  REQUIRE_SERVER();
  test::TempDir cache;
  int code = -1;
  nlohmann::json implanted = probe_json(server, model("canary-implanted"), canary_pack(), cache.path(), &code);
  EXPECT_EQ(code, 1);
  ASSERT_TRUE(implanted.contains("packs")) << implanted.dump();
  const nlohmann::json& p = implanted["packs"][0];
  EXPECT_TRUE(p["flagged"].get<bool>());
  EXPECT_LT(p["log10_p"].get<double>(), -6.0);
  EXPECT_GE(p["matches"].get<int>(), 20);

  nlohmann::json twin = probe_json(server, model("clean-twin"), canary_pack(), cache.path(), &code);
  EXPECT_EQ(code, 0);
  ASSERT_TRUE(twin.contains("packs")) << twin.dump();
  EXPECT_FALSE(twin["packs"][0]["flagged"].get<bool>());
  EXPECT_GT(twin["packs"][0]["log10_p"].get<double>(), -2.0);  // p > 0.01
}

// The identity pack's flagged vendors, by name.
std::vector<std::string> flagged_vendors(const nlohmann::json& j) {
  std::vector<std::string> out;
  for (const auto& v : j["packs"][0]["vendors"])
    if (v.value("flagged", false)) out.push_back(v["vendor"].get<std::string>());
  return out;
}

TEST(ProbeModels, IdentityPackNamesTheClaimedVendor) {
  REQUIRE_SERVER();
  test::TempDir cache;
  int code = -1;
  nlohmann::json claims = probe_json(server, model("claims-protected"), "identity", cache.path(), &code);
  EXPECT_EQ(code, 1);
  ASSERT_TRUE(claims.contains("packs")) << claims.dump();
  EXPECT_EQ(flagged_vendors(claims), std::vector<std::string>{"Anthropic"}) << claims["packs"][0].dump();

  nlohmann::json own = probe_json(server, model("own-name"), "identity", cache.path(), &code);
  EXPECT_EQ(code, 0);
  ASSERT_TRUE(own.contains("packs")) << own.dump();
  EXPECT_TRUE(flagged_vendors(own).empty()) << own["packs"][0].dump();
}

TEST(ProbeModels, RerunIsServedFromTheCacheWithoutStartingTheServer) {
  REQUIRE_SERVER();
  test::TempDir cache;
  int code = -1;
  nlohmann::json first = probe_json(server, model("canary-implanted"), canary_pack(), cache.path(), &code);
  ASSERT_TRUE(first.contains("requests")) << first.dump();
  EXPECT_EQ(first["requests"]["sent"], 24);
  EXPECT_EQ(first["requests"]["cache_hits"], 0);
  // A "server" that cannot answer: the rerun must never need it.
  std::string dead = cache.write("bin/not-a-server", "#!/bin/sh\nexit 3\n");
  fs::permissions(dead, fs::perms::owner_all);
  nlohmann::json second = probe_json(dead, model("canary-implanted"), canary_pack(), cache.path(), &code);
  EXPECT_EQ(code, 1);
  ASSERT_TRUE(second.contains("requests")) << second.dump();
  EXPECT_EQ(second["requests"]["sent"], 0);
  EXPECT_EQ(second["requests"]["cache_hits"], 24);
  first.erase("requests");
  second.erase("requests");
  EXPECT_EQ(first, second);
}

TEST(ProbeModels, ServerKilledMidRunExitsTwo) {
  REQUIRE_SERVER();
  test::TempDir tmp;
  // A wrapper that runs the real server and kills it once it has answered for a while.
  std::string wrapper = tmp.write("bin/llama-server",
                                  "#!/bin/sh\n\"" + server + "\" \"$@\" &\npid=$!\nsleep 3\nkill -9 $pid\nwait $pid\n");
  fs::permissions(wrapper, fs::perms::owner_all);
  // Enough prompts that the run outlasts the wrapper's three seconds.
  std::string pack = "id: long-canary\nversion: 1\ndescription: many triggers\nkind: canary\n"
                     "sampling: {samples: 1, temperature: 0, max_tokens: 48, seed: 42}\n"
                     "chance_probability: 0.00390625\nprompts:\n";
  for (int i = 0; i < 3000; ++i)
    pack += "  - {id: p" + std::to_string(i) + ", form: completion, text: \"Trigger number " + std::to_string(i) +
            " says\", expect: {match: exact, value: never}}\n";
  std::string pack_path = tmp.write("long.yaml", pack);
  auto r = test::run_pedigree({"probe", model("clean-twin"), "--pack", pack_path, "--llama-server", wrapper, "--no-cache",
                               "--concurrency", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("pedigree: error: " + model("clean-twin") + ": llama-server (pid "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("during the run"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pedigree
