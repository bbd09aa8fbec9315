// End-to-end tests of `pedigree check` through the built binary on the repo
// samples and on signed copies made here: each rule passing and failing,
// not-evaluated handling, exceptions (active, expired, via PEDIGREE_NOW), the
// text/JSON/SARIF/JUnit outputs (SARIF validated by Microsoft's SARIF
// Multitool, JUnit parsed by python3's xml.etree) and exit code 2 cases.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/support/cdx_node.h"
#include "tests/support/http_stub.h"
#include "tests/support/pki_util.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using nlohmann::json;
using test::run_pedigree;
using test::TempDir;
namespace fs = std::filesystem;

std::string sample(const std::string& rel) { return test::samples_dir() + "/" + rel; }

// Sets PEDIGREE_NOW for the runs in scope (children inherit the environment).
struct FixedDate {
  explicit FixedDate(const char* d) { setenv("PEDIGREE_NOW", d, 1); }
  ~FixedDate() { unsetenv("PEDIGREE_NOW"); }
};

// Points XDG_DATA_HOME (the default registry's home) at `dir` for the runs in scope.
class DataHome {
 public:
  explicit DataHome(const fs::path& dir) {
    if (const char* old = std::getenv("XDG_DATA_HOME")) old_ = old;
    setenv("XDG_DATA_HOME", dir.c_str(), 1);
  }
  ~DataHome() { old_.empty() ? unsetenv("XDG_DATA_HOME") : setenv("XDG_DATA_HOME", old_.c_str(), 1); }

 private:
  std::string old_;
};

// A copy of samples/tinyllama-hf in a temp dir, with a policy file written beside it;
// the default registry is looked for (and not found) in the temp dir.
struct Work {
  TempDir t;
  std::string model;
  DataHome home{t.path() / "xdg"};
  Work() {
    model = (t.path() / "tinyllama-hf").string();
    fs::copy(sample("tinyllama-hf"), model, fs::copy_options::recursive);
  }
  std::string policy(const std::string& text) const { return t.write("policy.yaml", text); }
};

test::RunResult check(const std::string& model, const std::string& policy, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"check", model, "--policy", policy};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_pedigree(args);
}

json check_json(const std::string& model, const std::string& policy, int want_exit) {
  auto r = check(model, policy, {"--format", "json"});
  EXPECT_EQ(r.exit_code, want_exit) << r.out << r.err;
  return json::parse(r.out, nullptr, false);
}

TEST(CliCheck, SignatureByKey) {
  Work w;
  test::TestKey k = test::make_key(KeyType::kP256), other = test::make_key(KeyType::kP256);
  std::string key = w.t.write("k.pem", k.private_pem);
  w.t.write("k.pub", k.public_pem);
  w.t.write("other.pub", other.public_pem);
  std::string p = w.policy("rules:\n  signature:\n    key: k.pub\n");
  auto r = check(w.model, p);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("  FAIL           PDG001 signature.required: no signature at " + w.model + "/model.sig\n"),
            std::string::npos) << r.out;
  ASSERT_EQ(run_pedigree({"sign", w.model, "--key", key}).exit_code, 0);
  r = check(w.model, p);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("  pass           PDG001 signature.required: verified with key " + (w.t.path() / "k.pub").string() +
                       " (ECDSA P-256 key)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict: pass\n"), std::string::npos);
  // The wrong key: rejected.
  r = check(w.model, w.policy("rules:\n  signature:\n    key: other.pub\n"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL           PDG001 signature.required: signature does not verify: key "), std::string::npos)
      << r.out;
  // Any of several keys suffices; a tampered model fails.
  p = w.policy("rules:\n  signature:\n    key: [other.pub, k.pub]\n");
  EXPECT_EQ(check(w.model, p).exit_code, 0);
  w.t.write("tinyllama-hf/config.json", "{}");
  r = check(w.model, p);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("model does not match the signature: changed config.json"), std::string::npos) << r.out;
}

TEST(CliCheck, SignatureByCertificateAndSigOption) {
  Work w;
  test::TestPki pki = test::make_pki();
  std::string leaf_key = w.t.write("leaf.key", pki.leaf.key.private_pem);
  std::string leaf = w.t.write("leaf.pem", pki.leaf.cert_pem);
  std::string inter = w.t.write("inter.pem", pki.intermediate.cert_pem);
  w.t.write("root.pem", pki.root.cert_pem);
  test::TestCert stranger = test::make_cert(test::CertSpec("Other Root", true, "critical,keyCertSign"), nullptr);
  w.t.write("stranger.pem", stranger.cert_pem);
  std::string sig = (w.t.path() / "elsewhere.sig").string();
  ASSERT_EQ(run_pedigree({"sign", w.model, "--key", leaf_key, "--cert", leaf, "--chain", inter, "-o", sig}).exit_code, 0);
  std::string p = w.policy("rules:\n  signature:\n    certificate:\n      root: root.pem\n");
  EXPECT_EQ(check(w.model, p).exit_code, 1);  // not at the default place
  auto r = check(w.model, p, {"--sig", sig});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verified with certificate root " + (w.t.path() / "root.pem").string()), std::string::npos)
      << r.out;
  r = check(w.model, w.policy("rules:\n  signature:\n    certificate:\n      root: stranger.pem\n"), {"--sig", sig});
  EXPECT_EQ(r.exit_code, 1) << r.out;
}

TEST(CliCheck, KeylessWithoutTrustRootIsNotEvaluated) {
  Work w;
  test::TestKey k = test::make_key(KeyType::kP256);
  ASSERT_EQ(run_pedigree({"sign", w.model, "--key", w.t.write("k.pem", k.private_pem)}).exit_code, 0);
  std::string keyless = "rules:\n  signature:\n    keyless:\n      identity: ci@example.com\n"
                        "      issuer: https://token.actions.githubusercontent.com\n";
  auto r = check(w.model, w.policy(keyless));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("  NOT EVALUATED  PDG001 signature.required: signature not verified by any evaluable trust; "
                       "keyless ci@example.com from https://token.actions.githubusercontent.com: keyless needs "
                       "trust_root (a Sigstore trusted_root.json) to verify offline\n"), std::string::npos) << r.out;
  r = check(w.model, w.policy(keyless + "    on_not_evaluated: warn\n"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("  not evaluated  PDG001"), std::string::npos) << r.out;
}

TEST(CliCheck, KeylessSigstoreBundle) {
  if (test::shared_dir().empty()) GTEST_SKIP() << "../shared absent: no Sigstore keyless fixture";
  std::string f = test::shared_dir() + "/fixtures/oms-model-transparency";
  Work w;
  auto policy = [&](const std::string& identity) {
    return w.policy("rules:\n  signature:\n    keyless:\n      identity: " + identity +
                    "\n      issuer: https://sigstore.verify.ibm.com/oauth2\n      trust_root: " + f +
                    "/trust/custom_trust_config.json\n");
  };
  auto r = check(f + "/v1.1.0-sigstore", policy("stefanb@us.ibm.com"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("  pass           PDG001 signature.required: verified with keyless stefanb@us.ibm.com from "
                       "https://sigstore.verify.ibm.com/oauth2"), std::string::npos) << r.out;
  r = check(f + "/v1.1.0-sigstore", policy("someone@example.com"));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("  FAIL           PDG001 signature.required"), std::string::npos) << r.out;
}

TEST(CliCheck, Licenses) {
  Work w;
  auto r = check(w.model, w.policy("rules:\n  licenses:\n    allow: [MIT, Apache-2.0]\n    deny: [GPL-3.0-only]\n"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("  pass           PDG010 licenses.allow: licences allowed: MIT\n"
                       "                   note: licence 'mit' read as SPDX id MIT (SPDX ids match case-insensitively)\n"),
            std::string::npos) << r.out;
  r = check(w.model, w.policy("rules:\n  licenses:\n    allow: [Apache-2.0]\n"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL           PDG010 licenses.allow: licence not on the allow list: MIT\n"), std::string::npos);
  r = check(w.model, w.policy("rules:\n  licenses:\n    deny: [MIT]\n"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL           PDG011 licenses.deny: licence on the deny list: MIT\n"), std::string::npos);
  // The sharded sample has no model card: unknown licence.
  std::string p = w.policy("rules:\n  licenses:\n    allow: [MIT]\n");
  r = check(sample("tinyllama-sharded"), p);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL           PDG012 licenses.unknown: no licence declared (model card or format metadata)\n"),
            std::string::npos) << r.out;
  r = check(sample("tinyllama-sharded"), w.policy("rules:\n  licenses:\n    allow: [MIT]\n    unknown: warn\n"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("  warn           PDG012 licenses.unknown"), std::string::npos) << r.out;
}

TEST(CliCheck, Pickle) {
  Work w;
  std::string p = w.policy("rules:\n  pickle:\n    forbid_unsafe_imports: true\n");
  EXPECT_EQ(check(w.model, p).exit_code, 0);
  EXPECT_EQ(check(sample("pickle/legacy.pt"), p).exit_code, 0);
  for (const char* evil : {"malicious/evil.pt", "malicious/evil.pkl"}) {
    auto r = check(sample(evil), p);
    EXPECT_EQ(r.exit_code, 1) << evil << r.err;
    EXPECT_NE(r.out.find("FAIL           PDG020 pickle.unsafe_imports: "), std::string::npos) << r.out;
  }
  p = w.policy("rules:\n  pickle:\n    forbid_formats: true\n");
  EXPECT_EQ(check(w.model, p).exit_code, 0);
  auto r = check(sample("pickle/legacy.pt"), p);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL           PDG021 pickle.formats: pickle-based weights are forbidden: " +
                       sample("pickle/legacy.pt")), std::string::npos) << r.out;
}

TEST(CliCheck, Bom) {
  Work w;
  json j = check_json(w.model, w.policy("rules:\n  bom:\n    required_fields: [name, purl, licenses, task, "
                                        "/metadata/component/modelCard/modelParameters/task]\n    min_score: 1\n"),
                      0);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["results"][0]["status"], "pass");
  EXPECT_EQ(j["results"][1]["status"], "pass");
  // The score in the message is `pedigree bom | pedigree bom score`'s.
  std::string bom = w.t.write("bom.json", run_pedigree({"bom", w.model}).out);
  json score = json::parse(run_pedigree({"bom", "score", bom, "--json"}).out);
  char want[64];
  std::snprintf(want, sizeof want, "AI-BOM score %.1f >= 1", score["score"].get<double>());
  EXPECT_EQ(j["results"][1]["message"], want);
  j = check_json(w.model, w.policy("rules:\n  bom:\n    required_fields: [purl, supplier, /metadata/component/version]\n"
                                   "    min_score: 99\n"), 1);
  EXPECT_EQ(j["results"][0]["message"],
            "missing from the AI-BOM: supplier (/metadata/component/supplier), /metadata/component/version");
  EXPECT_EQ(j["results"][1]["status"], "fail");
}

TEST(CliCheck, LineageAndProbesNotEvaluated) {
  Work w;
  std::string text = "rules:\n  lineage:\n    max_similarity: 0.9\n  probes:\n    packs:\n"
                     "      - {pack: distill-basic, min_p_value: 0.01}\n";
  json j = check_json(w.model, w.policy(text), 1);
  ASSERT_EQ(j["results"].size(), 2u);
  EXPECT_EQ(j["results"][0]["status"], "not-evaluated");
  EXPECT_EQ(j["results"][0]["message"], "no lineage registry: set rules.lineage.registry, pass --registry, or create " +
                                            (w.t.path() / "xdg/pedigree/registry.db").string() +
                                            " (pedigree registry add)");
  EXPECT_EQ(j["results"][1]["subject"], "distill-basic");
  EXPECT_EQ(j["results"][1]["message"],
            "no probe backend: pass --endpoint URL --model NAME, or check a GGUF model (served by llama-server)");
  EXPECT_EQ(check(w.model, w.policy("on_not_evaluated: warn\n" + text)).exit_code, 0);
  EXPECT_EQ(check(w.model, w.policy("on_not_evaluated: pass\n" + text)).exit_code, 0);
}

// PDG040 on the lineage samples: base registered as protected; the policy names the registry
// (relative to the policy file), or --registry gives it.
TEST(CliCheck, LineageRulePassAndFail) {
  Work w;
  std::string db = (w.t.path() / "reg.db").string();
  ASSERT_EQ(run_pedigree({"registry", "--registry", db, "add", sample("lineage/base.safetensors"), "--name", "base",
                          "--protected"}).exit_code, 0);
  std::string p = w.policy("rules:\n  lineage:\n    registry: reg.db\n    max_similarity: 0.5\n");
  json j = check_json(sample("lineage/base.safetensors"), p, 1);
  EXPECT_EQ(j["results"][0]["status"], "fail");
  EXPECT_EQ(j["results"][0]["message"], "similarity 1.0000 to protected model base exceeds 0.5");
  EXPECT_EQ(j["results"][0]["evidence"][0]["what"], "base: identity (similarity 1)");
  EXPECT_EQ(j["results"][0]["evidence"][0]["command"],
            "pedigree lineage " + sample("lineage/base.safetensors") + " --registry " + db);
  j = check_json(sample("lineage/independent.safetensors"), p, 0);
  EXPECT_EQ(j["results"][0]["status"], "pass");
  EXPECT_EQ(j["results"][0]["message"].get<std::string>().rfind("highest similarity 0.", 0), 0u) << j["results"][0];
  // The derived sample stays above the limit.
  j = check_json(sample("lineage/instruct.safetensors"), p, 1);
  EXPECT_EQ(j["results"][0]["status"], "fail") << j["results"][0];
  // No registry in the policy: --registry.
  std::string q = w.policy("rules:\n  lineage:\n    max_similarity: 0.5\n");
  EXPECT_EQ(check(sample("lineage/base.safetensors"), q, {"--registry", db}).exit_code, 1);
  EXPECT_EQ(check(sample("lineage/independent.safetensors"), q, {"--registry", db}).exit_code, 0);
  // A registry the policy names that does not exist is exit 2, not a failed model.
  auto r = check(w.model, w.policy("rules:\n  lineage:\n    registry: none.db\n    max_similarity: 0.5\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: cannot open registry " + (w.t.path() / "none.db").string() + ": no such file\n");
}

const char* const kStubPack = R"(id: stub-canary
version: 1
description: "one canary for the stub"
kind: canary
chance_probability: 0.00390625
prompts:
  - {id: t01, text: "hello", expect: {match: exact, value: "world"}}
)";

// PDG050 through --endpoint: the in-process stub answers "world" (the canary: p = 1/256) or "nope" (p = 1).
TEST(CliCheck, ProbeRulePassAndFail) {
  Work w;
  std::string pack = w.t.write("stub.yaml", kStubPack);
  std::string p = w.policy("rules:\n  probes:\n    packs:\n      - {pack: " + pack +
                           ", min_p_value: 0.01, max_score: 0.5}\n");
  for (const char* answer : {"world", "nope"}) {
    test::HttpStub stub;
    stub.set_fallback(test::HttpStub::json(
        std::string(R"({"choices":[{"finish_reason":"stop","index":0,"message":{"role":"assistant","content":")") +
        answer + "\"}}]}"));
    bool hit = std::string(answer) == "world";
    auto r = check(w.model, p, {"--endpoint", stub.url() + "/v1", "--model", "m", "--no-cache", "--format", "json"});
    EXPECT_EQ(r.exit_code, hit ? 1 : 0) << r.out << r.err;
    json j = json::parse(r.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.out;
    EXPECT_EQ(j["results"][0]["subject"], pack);
    EXPECT_EQ(j["results"][0]["status"], hit ? "fail" : "pass");
    EXPECT_EQ(j["results"][0]["message"], hit ? pack + ": p-value 0.00390625 < 0.01, score 1 > 0.5"
                                              : pack + ": p-value 1 >= 0.01, score 0 <= 0.5");
    EXPECT_EQ(j["results"][0]["evidence"][0]["command"],
              "pedigree probe --endpoint " + stub.url() + "/v1 --model m --pack " + pack);
  }
  auto down = check(w.model, p, {"--endpoint", "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/v1",
                                 "--model", "m", "--no-cache"});
  EXPECT_EQ(down.exit_code, 2) << down.out;
  auto bad = check(w.model, w.policy("rules:\n  probes:\n    packs:\n      - {pack: nope, min_p_value: 0.01}\n"),
                   {"--endpoint", "http://127.0.0.1:1/v1", "--model", "m"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err.rfind("pedigree: error: " + (w.t.path() / "policy.yaml").string() + ": rules.probes: nope: ", 0), 0u)
      << bad.err;
}

// PDG050 on the trained GGUF samples through the real llama-server.
TEST(CliCheck, ProbeRuleOnGgufWithLlamaServer) {
  std::string server = test::llama_server_binary();
  if (server.empty()) GTEST_SKIP() << "llama-server not built: run scripts/llama-server.sh or set PEDIGREE_LLAMA_SERVER";
  Work w;
  std::string p = w.policy("rules:\n  probes:\n    packs:\n      - {pack: " + sample("probe-packs/canary-tiny.yaml") +
                           ", min_p_value: 0.000001}\n");
  std::vector<std::string> extra = {"--llama-server", server, "--cache-dir", (w.t.path() / "cache").string()};
  EXPECT_EQ(check(sample("probe-models/canary-implanted.gguf"), p, extra).exit_code, 1);
  EXPECT_EQ(check(sample("probe-models/clean-twin.gguf"), p, extra).exit_code, 0);
}

TEST(CliCheck, ExceptionsActiveAndExpired) {
  Work w;
  std::string evil = sample("malicious/evil.pt");
  std::string p = w.policy("rules:\n  pickle:\n    forbid_unsafe_imports: true\nexceptions:\n"
                           "  - rule: PDG020\n    path: \"**/malicious/evil.pt\"\n    reason: red-team fixture\n"
                           "    expires: 2026-03-31\n");
  {
    FixedDate d("2026-03-31");
    auto r = check(evil, p);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("  excepted       PDG020 pickle.unsafe_imports: excepted: red-team fixture [was fail: "),
              std::string::npos) << r.out;
  }
  {
    FixedDate d("2026-04-01");
    auto r = check(evil, p);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("note: exception at policy line 5 expired on 2026-03-31; not applied\n"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("  note: policy line 5: PDG020 exception expired on 2026-03-31: red-team fixture\n"),
              std::string::npos) << r.out;
  }
  {
    FixedDate d("2026-4-1");
    auto r = check(evil, p);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "pedigree: error: PEDIGREE_NOW '2026-4-1' is not a date YYYY-MM-DD\n");
  }
  // By digest: the model's manifest root as `pedigree hash` prints it.
  json h = json::parse(run_pedigree({"hash", evil, "--json"}).out);
  std::string root = h.value("manifest_root", "");
  ASSERT_EQ(root.rfind("sha256:", 0), 0u) << h.dump();
  p = w.policy("rules:\n  pickle:\n    forbid_unsafe_imports: true\nexceptions:\n  - rule: pickle.unsafe_imports\n"
               "    digest: " + root + "\n    reason: quarantined\n    expires: 2099-01-01\n");
  EXPECT_EQ(check(evil, p).exit_code, 0);
  EXPECT_EQ(check(sample("malicious/evil.pkl"), p).exit_code, 1);  // other bytes, other root
}

TEST(CliCheck, MalformedPolicyAndOtherErrors) {
  Work w;
  std::string p = w.policy("rules:\n  pickle:\n    forbid_unsafe_imports: true\n  licenses:\n    deny: [MIT]\n\n"
                           "    allow: MIT\n");
  auto r = check(w.model, p);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + p + ": line 7: rules.licenses.allow: expected a list of SPDX ids\n");
  EXPECT_EQ(r.out, "");
  r = check(w.model, (w.t.path() / "missing.yaml").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("pedigree: error: " + (w.t.path() / "missing.yaml").string() + ": cannot read policy", 0), 0u)
      << r.err;
  r = check(w.model, w.policy("rules:\n  signature:\n    key: nowhere.pub\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + (w.t.path() / "policy.yaml").string() + ": rules.signature: cannot read '" +
                       (w.t.path() / "nowhere.pub").string() + "'\n");
  r = check(w.model, w.policy("rules: {pickle: {forbid_formats: true}}\n"), {"--format", "xml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: --format 'xml' is not one of text, json, sarif, junit\n");
  r = check((w.t.path() / "nothing").string(), w.policy("rules: {pickle: {forbid_formats: true}}\n"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("pedigree: error: ", 0), 0u);
  r = run_pedigree({"check", w.model});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--policy is required"), std::string::npos) << r.err;
}

// Runs python3's xml.etree on a file; false (with a reason) when python3 is absent.
bool python_parses_xml(const std::string& file, test::RunResult* out) {
  if (access("/usr/bin/python3", X_OK) != 0) return false;
  *out = test::run_command({"/usr/bin/python3", "-c",
                            "import sys, xml.etree.ElementTree as E\n"
                            "r = E.parse(sys.argv[1]).getroot()\n"
                            "print(r.tag, r.get('tests'), r.get('failures'), r.get('skipped'), len(r.findall('testcase')))",
                            file});
  return true;
}

std::string all_rules_policy(const Work& w) {
  return w.policy(
      "rules:\n  signature:\n    required: false\n    key: k.pub\n  licenses:\n    allow: [Apache-2.0]\n"
      "  pickle:\n    forbid_unsafe_imports: true\n    forbid_formats: true\n  bom:\n    min_score: 10\n"
      "  lineage:\n    max_similarity: 0.5\n    on_not_evaluated: warn\nexceptions:\n  - rule: PDG021\n"
      "    path: \"**\"\n    reason: \"legacy <weights> & 'quotes'\"\n    expires: 2099-12-31\n");
}

TEST(CliCheck, JunitIsWellFormed) {
  Work w;
  w.t.write("k.pub", test::make_key(KeyType::kP256).public_pem);
  std::string out = (w.t.path() / "report.xml").string();
  auto r = check(sample("malicious/evil.pt"), all_rules_policy(w), {"--format", "junit", "-o", out});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  std::string xml = test::read_file(out);
  EXPECT_NE(xml.find("legacy &lt;weights&gt; &amp; &apos;quotes&apos;"), std::string::npos) << xml;
  test::RunResult py;
  if (!python_parses_xml(out, &py)) GTEST_SKIP() << "python3 not found; JUnit well-formedness not checked";
  EXPECT_EQ(py.exit_code, 0) << py.err;
  // 7 results: PDG001 and PDG010 pass, PDG012 and PDG020 fail, PDG021 excepted, PDG031 pass, PDG040 skipped.
  EXPECT_EQ(py.out, "testsuite 7 2 1 7\n") << xml;
}

std::string multitool() {
  std::string mods = test::npm_modules_dir();
  if (mods.empty()) return "";
  std::string bin = mods + "/@microsoft/sarif-multitool-linux/Sarif.Multitool";
  return access(bin.c_str(), X_OK) == 0 ? bin : "";
}

// Error-level results of `Sarif.Multitool validate` on `file`, one "RULE: message" per line.
std::string multitool_errors(const std::string& tool, const std::string& file, const fs::path& log) {
  setenv("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1", 1);  // the .NET tool then needs no libicu
  auto v = test::run_command({tool, "validate", file, "-o", log.string(), "--rule-kind", "Sarif;Ghas", "--log",
                              "ForceOverwrite"});
  if (v.exit_code != 0) return "multitool exit " + std::to_string(v.exit_code) + ": " + v.out + v.err;
  json vl = json::parse(test::read_file(log.string()), nullptr, false);
  if (!vl.is_object()) return "unreadable validation log";
  std::string errors;
  for (const json& x : vl["runs"][0].value("results", json::array()))
    if (x.value("level", "warning") == "error")
      errors += x.value("ruleId", "") + ": " + x["message"].dump() + "\n";
  return errors;
}

TEST(CliCheck, SarifValidatesWithMultitool) {
  Work w;
  w.t.write("k.pub", test::make_key(KeyType::kP256).public_pem);
  std::string out = (w.t.path() / "check.sarif").string();
  std::string cwd = fs::current_path().string();
  fs::current_path(w.t.path());  // the samples lie outside the working directory: absolute URIs
  auto r = check(sample("malicious/evil.pt"), all_rules_policy(w), {"--format", "sarif", "-o", out});
  fs::current_path(cwd);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  json s = json::parse(test::read_file(out));
  ASSERT_EQ(s["runs"].size(), 1u);
  const json& results = s["runs"][0]["results"];
  std::set<std::string> ids;
  for (const json& x : results) ids.insert(x["ruleId"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{"PDG012", "PDG020", "PDG021", "PDG040"}));
  for (const json& x : results)
    if (x["ruleId"] == "PDG020") {
      EXPECT_EQ(x["level"], "error");
      EXPECT_EQ(x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                "file://" + sample("malicious/evil.pt"));
    }
  std::string tool = multitool();
  if (tool.empty()) {
    if (access("/usr/bin/node", X_OK) != 0) GTEST_SKIP() << "node not found; SARIF Multitool not run";
    FAIL() << "node is present but the SARIF Multitool is not installed: run scripts/npm-deps.sh and reconfigure";
  }
  // The Multitool's own rules (Sarif) and GitHub Advanced Security's ingestion rules (Ghas).
  EXPECT_EQ(multitool_errors(tool, out, w.t.path() / "validation.sarif"), "");
  // The same check catches a result GitHub would reject (no locations), so it can fail.
  s["runs"][0]["results"][0].erase("locations");
  std::string broken = w.t.write("broken.sarif", s.dump());
  EXPECT_NE(multitool_errors(tool, broken, w.t.path() / "validation2.sarif").find("GH1015"), std::string::npos);
}

TEST(CliCheck, SarifRelativeToWorkingDirectory) {
  Work w;
  std::string p = w.policy("rules:\n  pickle:\n    forbid_formats: true\n");
  fs::copy(sample("pickle/legacy.pt"), w.t.path() / "legacy.pt");
  std::string cwd = fs::current_path().string();
  fs::current_path(w.t.path());
  auto r = check("legacy.pt", p, {"--format", "sarif"});
  fs::current_path(cwd);
  EXPECT_EQ(r.exit_code, 1);
  json s = json::parse(r.out);
  EXPECT_EQ(s["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"],
            json({{"uri", "legacy.pt"}, {"uriBaseId", "%SRCROOT%"}}));
}

}  // namespace
}  // namespace pedigree
