// Tests of policy evaluation (sbom/policy_eval.cpp) over hand-made evidence:
// each rule passing and failing, not-evaluated modes, licence normalisation
// and expressions, exceptions (active, expired, by path and by digest), glob
// matching and the JSON/text renderings.
#include <gtest/gtest.h>

#include <set>

#include "sbom/policy.h"

namespace pedigree {
namespace {

using nlohmann::json;

Policy policy(const std::string& text) {
  Policy p;
  Error err;
  EXPECT_TRUE(parse_policy(text, "p.yaml", &p, &err)) << err.str();
  return p;
}

CheckEvidence evidence(const json& licenses = json::array()) {
  CheckEvidence ev;
  ev.model_path = "models/m";
  ev.format = "hf-directory";
  ev.files = {{"models/m/model.safetensors", "model.safetensors", 10, "safetensors"}};
  ev.manifest_root = "sha256:" + std::string(64, 'a');
  json bom = {{"serialNumber", "urn:uuid:x"},
              {"metadata", {{"component", {{"name", "m"}, {"type", "machine-learning-model"}}}}}};
  if (!licenses.empty()) bom["metadata"]["component"]["licenses"] = licenses;
  ev.bom = bom;
  ev.bom_score = 42.5;
  return ev;
}

const RuleResult& only(const CheckReport& r) {
  EXPECT_EQ(r.results.size(), 1u);
  return r.results.at(0);
}

TEST(PolicyEval, SignatureStates) {
  Policy p = policy("rules:\n  signature:\n    key: k.pub\n");
  CheckEvidence ev = evidence();
  ev.signature.bundle_path = "models/m/model.sig";
  CheckReport r = evaluate_policy(p, ev, "2026-01-01");
  EXPECT_EQ(only(r).status, RuleStatus::kFail);
  EXPECT_EQ(only(r).message, "no signature at models/m/model.sig");
  EXPECT_FALSE(r.passed());

  ev.signature.present = true;
  ev.signature.attempts = {{SignatureAttempt::Outcome::kRejected, "key k.pub", "signature does not verify", "cmd"}};
  r = evaluate_policy(p, ev, "2026-01-01");
  EXPECT_EQ(only(r).status, RuleStatus::kFail);
  EXPECT_EQ(only(r).message, "signature does not verify: key k.pub: signature does not verify");

  ev.signature.attempts.push_back({SignatureAttempt::Outcome::kVerified, "key k2.pub", "ECDSA P-256 key", "cmd"});
  r = evaluate_policy(p, ev, "2026-01-01");
  EXPECT_EQ(only(r).status, RuleStatus::kPass);
  EXPECT_EQ(only(r).message, "verified with key k2.pub (ECDSA P-256 key)");
  EXPECT_TRUE(r.passed());

  ev.signature.attempts = {{SignatureAttempt::Outcome::kUnavailable, "keyless a from b",
                            "keyless verification not available in this build", ""}};
  r = evaluate_policy(p, ev, "2026-01-01");
  EXPECT_EQ(only(r).status, RuleStatus::kNotEvaluated);
  EXPECT_EQ(only(r).level, "error");
  EXPECT_FALSE(r.passed());
  r = evaluate_policy(policy("rules:\n  signature:\n    key: k.pub\n    on_not_evaluated: warn\n"), ev, "2026-01-01");
  EXPECT_EQ(only(r).level, "warning");
  EXPECT_TRUE(r.passed());

  ev.signature = {};
  ev.signature.bundle_path = "models/m/model.sig";
  r = evaluate_policy(policy("rules:\n  signature:\n    required: false\n    key: k.pub\n"), ev, "2026-01-01");
  EXPECT_EQ(only(r).status, RuleStatus::kPass);
  EXPECT_EQ(only(r).message, "no signature at models/m/model.sig (not required)");
}

TEST(PolicyEval, Licenses) {
  Policy p = policy("rules:\n  licenses:\n    allow: [MIT, Apache-2.0]\n    deny: [GPL-3.0-only]\n");
  CheckReport r = evaluate_policy(p, evidence(json::array({{{"license", {{"name", "mit"}}}}})), "2026-01-01");
  ASSERT_EQ(r.results.size(), 3u);
  EXPECT_EQ(r.results[0].id, "PDG010");
  EXPECT_EQ(r.results[0].status, RuleStatus::kPass);
  EXPECT_EQ(r.results[0].message, "licences allowed: MIT");
  EXPECT_EQ(r.results[0].notes.at(0), "licence 'mit' read as SPDX id MIT (SPDX ids match case-insensitively)");
  EXPECT_EQ(r.results[1].status, RuleStatus::kPass);
  EXPECT_EQ(r.results[2].status, RuleStatus::kPass);

  r = evaluate_policy(p, evidence(json::array({{{"expression", "MIT OR (GPL-3.0-only WITH Classpath-exception-2.0)"}}})),
                      "2026-01-01");
  EXPECT_EQ(r.results[0].status, RuleStatus::kFail);
  EXPECT_EQ(r.results[0].message, "licence not on the allow list: GPL-3.0-only");
  EXPECT_EQ(r.results[1].status, RuleStatus::kFail);
  EXPECT_EQ(r.results[1].message, "licence on the deny list: GPL-3.0-only");
  EXPECT_EQ(r.results[2].status, RuleStatus::kPass);

  r = evaluate_policy(p, evidence(json::array({{{"license", {{"name", "Llama 3.2 Community License"}}}}})), "2026-01-01");
  EXPECT_EQ(r.results[0].status, RuleStatus::kPass);
  EXPECT_EQ(r.results[2].status, RuleStatus::kFail);
  EXPECT_EQ(r.results[2].message, "licence is not an SPDX id: 'Llama 3.2 Community License'");

  r = evaluate_policy(policy("rules:\n  licenses:\n    unknown: warn\n"), evidence(), "2026-01-01");
  EXPECT_EQ(only(r).id, "PDG012");
  EXPECT_EQ(only(r).status, RuleStatus::kFail);
  EXPECT_EQ(only(r).level, "warning");
  EXPECT_EQ(only(r).message, "no licence declared (model card or format metadata)");
  EXPECT_TRUE(r.passed());
  r = evaluate_policy(policy("rules:\n  licenses:\n    unknown: pass\n"), evidence(), "2026-01-01");
  EXPECT_EQ(only(r).status, RuleStatus::kPass);

  CheckEvidence no_bom = evidence();
  no_bom.bom.reset();
  no_bom.bom_error = "boom";
  r = evaluate_policy(policy("rules:\n  licenses:\n    unknown: pass\n"), no_bom, "2026-01-01");
  EXPECT_EQ(only(r).status, RuleStatus::kNotEvaluated);
  EXPECT_EQ(only(r).message, "the AI-BOM could not be built: boom");
}

TEST(PolicyEval, Pickle) {
  Policy p = policy("rules:\n  pickle:\n    forbid_unsafe_imports: true\n    forbid_formats: true\n");
  CheckEvidence ev = evidence();
  CheckReport r = evaluate_policy(p, ev, "2026-01-01");
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].status, RuleStatus::kPass);
  EXPECT_EQ(r.results[1].status, RuleStatus::kPass);
  EXPECT_EQ(r.results[1].message, "no pickle-based file (format hf-directory)");
  ev.files = {{"x/evil.pt", ".", 10, "pytorch"}};
  ev.file_digests["x/evil.pt"] = "sha256:" + std::string(64, 'e');
  ev.findings = {{"unsafe-import", "error", "x/evil.pt", 16, "pickle imports os.system"},
                 {"no-weights", "warning", "x/evil.pt", std::nullopt, "w"}};
  r = evaluate_policy(p, ev, "2026-01-01");
  EXPECT_EQ(r.results[0].status, RuleStatus::kFail);
  EXPECT_EQ(r.results[0].message, "1 unsafe pickle import: x/evil.pt: offset 0x10: pickle imports os.system");
  EXPECT_EQ(r.results[0].locations, std::vector<std::string>{"x/evil.pt"});
  EXPECT_EQ(r.results[0].evidence.at(0).digest, "sha256:" + std::string(64, 'e'));
  EXPECT_EQ(r.results[1].status, RuleStatus::kFail);
  EXPECT_EQ(r.results[1].message, "pickle-based weights are forbidden: x/evil.pt (pytorch)");
  EXPECT_EQ(r.violations(), 2u);
}

TEST(PolicyEval, Bom) {
  Policy p = policy("rules:\n  bom:\n    required_fields: [name, purl, /serialNumber, /metadata/nothing]\n"
                    "    min_score: 40\n");
  CheckReport r = evaluate_policy(p, evidence(), "2026-01-01");
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].status, RuleStatus::kFail);
  EXPECT_EQ(r.results[0].message, "missing from the AI-BOM: purl (/metadata/component/purl), /metadata/nothing");
  EXPECT_EQ(r.results[1].status, RuleStatus::kPass);
  EXPECT_EQ(r.results[1].message, "AI-BOM score 42.5 >= 40");
  r = evaluate_policy(policy("rules:\n  bom:\n    min_score: 42.6\n"), evidence(), "2026-01-01");
  EXPECT_EQ(only(r).status, RuleStatus::kFail);
  EXPECT_EQ(only(r).message, "AI-BOM score 42.5 < 42.6");
}

TEST(PolicyEval, LineageAndProbesHooks) {
  Policy p = policy("on_not_evaluated: warn\nrules:\n  lineage:\n    max_similarity: 0.8\n"
                    "  probes:\n    on_not_evaluated: fail\n    packs:\n      - {pack: a, min_p_value: 0.05}\n"
                    "      - {pack: b, max_score: 2}\n");
  CheckEvidence ev = evidence();
  CheckReport r = evaluate_policy(p, ev, "2026-01-01");
  ASSERT_EQ(r.results.size(), 3u);
  EXPECT_EQ(r.results[0].status, RuleStatus::kNotEvaluated);
  EXPECT_EQ(r.results[0].level, "warning");
  EXPECT_EQ(r.results[0].message, "lineage registry evidence is not available in this build");
  EXPECT_EQ(r.results[1].subject, "a");
  EXPECT_EQ(r.results[1].level, "error");
  EXPECT_EQ(r.results[1].message, "probe pack evidence is not available in this build");
  EXPECT_EQ(r.violations(), 2u);

  ev.lineage = std::vector<LineageMatch>{{"llama-7b", 0.93, {}}, {"other", 0.2, {}}};
  ev.probes = std::vector<ProbePackResult>{{"a", 0.001, std::nullopt, {}}};
  r = evaluate_policy(p, ev, "2026-01-01");
  EXPECT_EQ(r.results[0].status, RuleStatus::kFail);
  EXPECT_EQ(r.results[0].message, "similarity 0.9300 to protected model llama-7b exceeds 0.8");
  EXPECT_EQ(r.results[1].status, RuleStatus::kFail);
  EXPECT_EQ(r.results[1].message, "a: p-value 0.001 < 0.05");
  EXPECT_EQ(r.results[2].status, RuleStatus::kNotEvaluated);
  EXPECT_EQ(r.results[2].message, "pack b was not run");
  ev.lineage = std::vector<LineageMatch>{{"llama-7b", 0.5, {}}};
  ev.probes = std::vector<ProbePackResult>{{"a", 0.2, std::nullopt, {}}, {"b", std::nullopt, 1.5, {}}};
  r = evaluate_policy(p, ev, "2026-01-01");
  EXPECT_EQ(r.results[0].status, RuleStatus::kPass);
  EXPECT_EQ(r.results[1].status, RuleStatus::kPass);
  EXPECT_EQ(r.results[2].status, RuleStatus::kPass);
  EXPECT_EQ(r.results[2].message, "b: score 1.5 <= 2");
}

TEST(PolicyEval, Exceptions) {
  std::string head = "rules:\n  pickle:\n    forbid_formats: true\nexceptions:\n";
  CheckEvidence ev = evidence();
  ev.files = {{"models/m/w.pt", "w.pt", 10, "pytorch"}};
  Policy p = policy(head + "  - rule: PDG021\n    path: \"models/*\"\n    reason: migrating\n    expires: 2026-06-30\n");
  CheckReport r = evaluate_policy(p, ev, "2026-06-30");  // last day still applies
  EXPECT_EQ(only(r).status, RuleStatus::kExcepted);
  EXPECT_EQ(only(r).exception, "migrating (expires 2026-06-30, policy line 5)");
  EXPECT_TRUE(r.passed());
  EXPECT_TRUE(r.expired_exceptions.empty());

  r = evaluate_policy(p, ev, "2026-07-01");
  EXPECT_EQ(only(r).status, RuleStatus::kFail);
  EXPECT_EQ(only(r).notes, std::vector<std::string>{"exception at policy line 5 expired on 2026-06-30; not applied"});
  EXPECT_EQ(r.expired_exceptions,
            std::vector<std::string>{"policy line 5: PDG021 exception expired on 2026-06-30: migrating"});
  EXPECT_FALSE(r.passed());

  // Glob does not cross '/' with a single star; digest must match the manifest root.
  p = policy(head + "  - rule: PDG021\n    path: \"*\"\n    reason: r\n    expires: 2030-01-01\n");
  EXPECT_EQ(only(evaluate_policy(p, ev, "2026-01-01")).status, RuleStatus::kFail);
  p = policy(head + "  - rule: PDG021\n    digest: sha256:" + std::string(64, 'a') + "\n    reason: r\n"
             "    expires: 2030-01-01\n");
  EXPECT_EQ(only(evaluate_policy(p, ev, "2026-01-01")).status, RuleStatus::kExcepted);
  p = policy(head + "  - rule: PDG021\n    digest: sha256:" + std::string(64, 'b') + "\n    reason: r\n"
             "    expires: 2030-01-01\n");
  EXPECT_EQ(only(evaluate_policy(p, ev, "2026-01-01")).status, RuleStatus::kFail);
  p = policy(head + "  - rule: PDG020\n    path: \"**\"\n    reason: r\n    expires: 2030-01-01\n");
  EXPECT_EQ(only(evaluate_policy(p, ev, "2026-01-01")).status, RuleStatus::kFail);  // other rule
}

TEST(PolicyEval, Glob) {
  EXPECT_TRUE(glob_match("models/*", "models/m"));
  EXPECT_FALSE(glob_match("models/*", "models/a/b"));
  EXPECT_TRUE(glob_match("models/**", "models/a/b"));
  EXPECT_TRUE(glob_match("**/evil.p?", "samples/malicious/evil.pt"));
  EXPECT_FALSE(glob_match("*.pt", "a/b.pt"));
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy"));
  EXPECT_TRUE(glob_match("", ""));
  EXPECT_FALSE(glob_match("", "a"));
}

TEST(PolicyEval, JsonAndText) {
  Policy p = policy("rules:\n  bom:\n    min_score: 50\n  lineage:\n    max_similarity: 0.5\n");
  CheckReport r = evaluate_policy(p, evidence(), "2026-01-01");
  json j = report_json(r);
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["violations"], 2);
  EXPECT_EQ(j["results"][0]["id"], "PDG031");
  EXPECT_EQ(j["results"][0]["status"], "fail");
  EXPECT_EQ(j["results"][0]["evidence"][0]["command"], "pedigree bom models/m -o bom.json && pedigree bom score bom.json");
  EXPECT_EQ(j["results"][0]["evidence"][0]["digest"], "sha256:" + std::string(64, 'a'));
  EXPECT_EQ(j["results"][1]["status"], "not-evaluated");
  EXPECT_EQ(report_text(r),
            "pedigree check models/m (policy p.yaml, date 2026-01-01)\n"
            "  FAIL           PDG031 bom.min_score: AI-BOM score 42.5 < 50\n"
            "  NOT EVALUATED  PDG040 lineage.max_similarity: lineage registry evidence is not available in this build\n"
            "verdict: FAIL (2 violations)\n");
}

TEST(PolicyEval, RuleTable) {
  std::set<std::string> ids, names;
  for (const RuleInfo& r : policy_rules()) {
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
    EXPECT_TRUE(names.insert(r.name).second) << r.name;
    ASSERT_NE(find_rule(r.id), nullptr);
    EXPECT_STREQ(find_rule(r.id)->name, r.name);
    EXPECT_STREQ(find_rule(r.name)->id, r.id);
  }
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_EQ(find_rule("nope"), nullptr);
}

}  // namespace
}  // namespace pedigree
