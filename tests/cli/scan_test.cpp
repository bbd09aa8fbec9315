// End-to-end tests of `pedigree scan` through the built binary: the signature
// check (absent, integrity only, verified with a key, tampered, wrong key),
// lineage against a registry (identity with a protected model flagged, an
// independent model passing, the default registry), probes on an endpoint
// (the in-process HTTP stub) and on a GGUF (the real llama-server), and
// -o DIR writing an AI-BOM that `pedigree bom validate` accepts.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/http_stub.h"
#include "tests/support/pki_util.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using nlohmann::json;
using test::run_pedigree;
namespace fs = std::filesystem;

std::string sample(const std::string& rel) { return test::samples_dir() + "/" + rel; }

// Sets an environment variable for the runs in scope and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A temp dir holding a copy of samples/tinyllama-hf; the default registry lives in it too (empty).
struct Work {
  test::TempDir t;
  std::string model;
  ScopedEnv xdg{"XDG_DATA_HOME", (t.path() / "xdg").string()};
  Work() {
    model = (t.path() / "tinyllama-hf").string();
    fs::copy(sample("tinyllama-hf"), model, fs::copy_options::recursive);
  }
};

// The check named `name` in a scan --json report.
json check_of(const json& report, const std::string& name) {
  for (const json& c : report["checks"])
    if (c["name"] == name) return c;
  return json();
}

json scan_json(std::vector<std::string> args, int want_exit) {
  args.insert(args.begin(), "scan");
  args.push_back("--json");
  auto r = run_pedigree(args);
  EXPECT_EQ(r.exit_code, want_exit) << r.out << r.err;
  return json::parse(r.out, nullptr, false);
}

TEST(ScanCli, SignatureAbsentIntegrityVerifiedAndTampered) {
  Work w;
  json j = scan_json({w.model}, 0);
  EXPECT_EQ(check_of(j, "signature")["status"], "not-evaluated");
  EXPECT_EQ(check_of(j, "signature")["detail"], "no signature beside the model (" + w.model + "/model.sig)");

  test::TestKey k = test::make_key(KeyType::kP256), other = test::make_key(KeyType::kP256);
  std::string key = w.t.write("k.pem", k.private_pem), pub = w.t.write("k.pub", k.public_pem);
  std::string other_pub = w.t.write("other.pub", other.public_pem);
  ASSERT_EQ(run_pedigree({"sign", w.model, "--key", key}).exit_code, 0);
  j = scan_json({w.model}, 0);
  json sig = check_of(j, "signature");
  EXPECT_EQ(sig["status"], "pass");
  EXPECT_EQ(sig["detail"].get<std::string>().rfind("integrity only: the ", 0), 0u) << sig;
  EXPECT_NE(sig["detail"].get<std::string>().find("signer not verified (public key"), std::string::npos) << sig;
  EXPECT_EQ(sig["evidence"], "pedigree verify " + w.model + " --sig " + w.model + "/model.sig --key <the signer's public key>");
  j = scan_json({w.model, "--key", pub}, 0);
  EXPECT_EQ(check_of(j, "signature")["detail"], "verified with key " + pub);
  j = scan_json({w.model, "--key", other_pub}, 1);
  EXPECT_EQ(check_of(j, "signature")["status"], "flagged");
  EXPECT_EQ(check_of(j, "signature")["detail"], "signature does not verify with the given key");

  std::ofstream(w.model + "/config.json", std::ios::app) << " ";
  for (std::vector<std::string> args : {std::vector<std::string>{w.model}, {w.model, "--key", pub}}) {
    j = scan_json(args, 1);
    EXPECT_EQ(j["verdict"], "flagged");
    EXPECT_EQ(check_of(j, "signature")["status"], "flagged");
    EXPECT_EQ(check_of(j, "signature")["detail"], "model does not match the signature: changed config.json");
  }
  auto text = run_pedigree({"scan", w.model});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("  verdict    FLAGGED (1 check)\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("    signature     flagged       model does not match the signature: changed config.json\n"),
            std::string::npos) << text.out;
}

TEST(ScanCli, UnreadableSignatureCannotRun) {
  Work w;
  std::string bad = w.t.write("bad.sig", "{not json");
  auto r = run_pedigree({"scan", w.model, "--sig", bad});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(r.err, "pedigree: error: " + bad + ": offset 0x2: signature: bundle is not JSON\n");
}

TEST(ScanCli, LineageRegistryIdentityIsFlagged) {
  Work w;
  std::string db = (w.t.path() / "reg.db").string();
  ASSERT_EQ(run_pedigree({"registry", "--registry", db, "add", sample("lineage/base.safetensors"), "--name", "base",
                          "--protected"}).exit_code, 0);
  json j = scan_json({sample("lineage/base.safetensors"), "--registry", db}, 1);
  json lin = check_of(j, "lineage");
  EXPECT_EQ(lin["status"], "flagged");
  EXPECT_EQ(lin["detail"], "identical to or derived from protected model: base");
  EXPECT_EQ(lin["evidence"], "pedigree lineage " + sample("lineage/base.safetensors") + " --registry " + db);
  EXPECT_EQ(j["lineage"]["flagged"], json::array({"base"}));
  EXPECT_EQ(j["lineage"]["matches"][0]["relation"], "identity");

  j = scan_json({sample("lineage/independent.safetensors"), "--registry", db}, 0);
  EXPECT_EQ(check_of(j, "lineage")["status"], "pass");
  EXPECT_EQ(check_of(j, "lineage")["detail"].get<std::string>().rfind("not derived from any protected model (1 registered model; nearest base (", 0), 0u)
      << check_of(j, "lineage");

  // Without --registry: not evaluated while the default registry does not exist, used once it does.
  j = scan_json({sample("lineage/base.safetensors")}, 0);
  EXPECT_EQ(check_of(j, "lineage")["status"], "not-evaluated");
  std::string def = (w.t.path() / "xdg/pedigree/registry.db").string();
  EXPECT_EQ(check_of(j, "lineage")["detail"], "no lineage registry (--registry, or " + def + " does not exist)");
  ASSERT_EQ(run_pedigree({"registry", "add", sample("lineage/base.safetensors"), "--name", "base", "--protected"}).exit_code, 0);
  j = scan_json({sample("lineage/base.safetensors")}, 1);
  EXPECT_EQ(check_of(j, "lineage")["status"], "flagged");

  auto missing = run_pedigree({"scan", w.model, "--registry", (w.t.path() / "none.db").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "pedigree: error: cannot open registry " + (w.t.path() / "none.db").string() + ": no such file\n");
}

TEST(ScanCli, OutputDirWritesAValidDeterministicBom) {
  Work w;
  ScopedEnv epoch("SOURCE_DATE_EPOCH", "1700000000");
  std::string out = (w.t.path() / "out").string();
  const std::string serial = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79";
  auto r = run_pedigree({"scan", w.model, "-o", out, "--serial", serial});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string bom = out + "/tinyllama-hf.cdx.json", report = out + "/tinyllama-hf.scan.json";
  EXPECT_NE(r.out.find("  evidence   " + bom + " (CycloneDX AI-BOM, results as pedigree:scan:* properties)\n"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("             " + report + " (full scan report)\n"), std::string::npos) << r.out;
  auto v = run_pedigree({"bom", "validate", bom});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  json b = json::parse(test::read_file(bom));
  EXPECT_EQ(b["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(b["serialNumber"], serial);
  std::map<std::string, std::string> props;
  for (const json& p : b["metadata"]["component"]["properties"]) props[p["name"]] = p["value"];
  EXPECT_EQ(props["pedigree:scan:verdict"], "pass");
  EXPECT_EQ(props["pedigree:scan:signature"], "not-evaluated: no signature beside the model (" + w.model + "/model.sig)");
  EXPECT_EQ(props["pedigree:scan:probes"], "not-evaluated: no --pack given");
  EXPECT_EQ(props["pedigree:scan:reader"].rfind("pass: ", 0), 0u);
  EXPECT_EQ(json::parse(test::read_file(report))["verdict"], "pass");
  std::string first = test::read_file(bom);
  ASSERT_EQ(run_pedigree({"scan", w.model, "-o", out, "--serial", serial}).exit_code, 0);
  EXPECT_EQ(test::read_file(bom), first);  // same clock and serial: the same bytes
  auto bad = run_pedigree({"scan", w.model, "--serial", "urn:uuid:nope"});
  EXPECT_EQ(bad.exit_code, 2);
}

const char* const kPack = R"(id: stub-canary
version: 1
description: "one canary for the stub"
kind: canary
chance_probability: 0.00390625
threshold: 0.01
prompts:
  - {id: t01, text: "hello", expect: {match: exact, value: "world"}}
)";

std::string chat_answer(const std::string& text) {
  return R"({"choices":[{"finish_reason":"stop","index":0,"message":{"role":"assistant","content":")" + text + R"("}}]})";
}

TEST(ScanCli, EndpointProbesFlaggedAndPassing) {
  Work w;
  std::string pack = w.t.write("stub.yaml", kPack);
  for (const char* answer : {"world", "nope"}) {
    test::HttpStub stub;
    stub.set_fallback(test::HttpStub::json(chat_answer(answer)));
    bool hit = std::string(answer) == "world";
    json j = scan_json({"--endpoint", stub.url() + "/v1", "--model", "m", "--pack", pack, "--no-cache"}, hit ? 1 : 0);
    EXPECT_EQ(check_of(j, "reader")["status"], "not-evaluated");
    EXPECT_EQ(check_of(j, "lineage")["detail"], "endpoint scan: no model files");
    json c = check_of(j, "probe:stub-canary");
    EXPECT_EQ(c["status"], hit ? "flagged" : "pass") << c;
    EXPECT_EQ(c["detail"], hit ? "canary pack: 1 of 1 trials matched, p = 0.003906 (threshold 0.01)"
                               : "canary pack: 0 of 1 trials matched, p = 1 (threshold 0.01)");
    EXPECT_EQ(j["probes"]["packs"][0]["matches"], hit ? 1 : 0);
  }
  auto down = run_pedigree({"scan", "--endpoint", "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/v1",
                            "--model", "m", "--pack", pack, "--no-cache"});
  EXPECT_EQ(down.exit_code, 2) << down.out;
  // A directory model has no local backend: probes are not evaluated, the rest runs.
  json j = scan_json({w.model, "--pack", pack}, 0);
  EXPECT_EQ(check_of(j, "probes")["detail"], "probes need --endpoint URL or a GGUF model (llama-server); hf-directory given");
}

TEST(ScanCli, ArgumentErrors) {
  auto none = run_pedigree({"scan"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.err, "pedigree: error: scan: give PATH or --endpoint URL\n");
  auto no_model = run_pedigree({"scan", "--endpoint", "http://127.0.0.1:1/v1", "--pack", "canary-example"});
  EXPECT_EQ(no_model.err, "pedigree: error: --endpoint needs --model NAME\n");
  auto no_pack = run_pedigree({"scan", "--endpoint", "http://127.0.0.1:1/v1", "--model", "m"});
  EXPECT_EQ(no_pack.exit_code, 2);
  EXPECT_EQ(no_pack.err,
            "pedigree: error: http://127.0.0.1:1/v1: scanning an endpoint needs --pack (its only evidence is probes)\n");
  auto two = run_pedigree({"scan", sample("tinyllama-hf"), "--key", "a.pub", "--cert-root", "r.pem"});
  EXPECT_EQ(two.err, "pedigree: error: give at most one of --key, --cert-root and --trust-root\n");
}

TEST(ScanCli, GgufProbedWithLlamaServer) {
  std::string server = test::llama_server_binary();
  if (server.empty()) GTEST_SKIP() << "llama-server not built: run scripts/llama-server.sh or set PEDIGREE_LLAMA_SERVER";
  Work w;
  std::string pack = sample("probe-packs/canary-tiny.yaml");
  std::string cache = (w.t.path() / "cache").string();
  json j = scan_json({sample("probe-models/canary-implanted.gguf"), "--pack", pack, "--llama-server", server,
                      "--cache-dir", cache}, 1);
  EXPECT_EQ(j["verdict"], "flagged");
  ASSERT_TRUE(j.contains("probes")) << j.dump();
  EXPECT_EQ(check_of(j, j["checks"][3]["name"].get<std::string>())["status"], "flagged") << j["checks"];
  j = scan_json({sample("probe-models/clean-twin.gguf"), "--pack", pack, "--llama-server", server, "--cache-dir", cache}, 0);
  EXPECT_EQ(j["checks"][3]["status"], "pass") << j["checks"];
  // No server to start: the probes are not evaluated, with the reason.
  j = scan_json({sample("probe-models/clean-twin.gguf"), "--pack", pack, "--llama-server",
                 (w.t.path() / "no-such-server").string(), "--no-cache"}, 0);
  EXPECT_EQ(j["checks"][3]["status"], "not-evaluated") << j["checks"];
  EXPECT_EQ(j["checks"][3]["detail"].get<std::string>().rfind("could not run the local model: ", 0), 0u) << j["checks"];
}

}  // namespace
}  // namespace pedigree
