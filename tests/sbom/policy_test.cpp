// Tests of the `pedigree check` policy parser (sbom/policy.cpp): a full policy
// with every section, defaults, path resolution against the policy's
// directory, and the exact error (file, line, field) for each kind of mistake.
#include <gtest/gtest.h>

#include "sbom/policy.h"

namespace pedigree {
namespace {

const char* kFull = R"(version: 1
on_not_evaluated: warn
rules:
  signature:
    required: true
    key: keys/release.pub
    certificate:
      root: [ca/root.pem]
      chain: ca/int.pem
    keyless:
      identity: release@example.com
      issuer: https://accounts.example.com
      trust_root: trusted_root.json
    on_not_evaluated: fail
  licenses:
    allow: [MIT, Apache-2.0]
    deny: [CC-BY-NC-4.0]
    unknown: warn
  pickle:
    forbid_unsafe_imports: true
    forbid_formats: false
  bom:
    required_fields: [name, purl, /metadata/component/modelCard/modelParameters/task]
    min_score: 55.5
  lineage:
    registry: registry.db
    max_similarity: 0.9
  probes:
    packs:
      - pack: distill-basic
        min_p_value: 0.01
      - pack: refusals
        max_score: 3
exceptions:
  - rule: PDG021
    path: "samples/pickle/*"
    reason: legacy model kept for the migration
    expires: 2026-12-31
  - rule: pickle.unsafe_imports
    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000
    reason: quarantined copy
    expires: 2027-02-28
)";

std::string parse_error(const std::string& text) {
  Policy p;
  Error err;
  EXPECT_FALSE(parse_policy(text, "policy.yaml", &p, &err)) << text;
  return err.str();
}

TEST(Policy, ParsesEverySection) {
  Policy p;
  Error err;
  ASSERT_TRUE(parse_policy(kFull, "conf/policy.yaml", &p, &err)) << err.str();
  EXPECT_EQ(p.on_not_evaluated, NotEvaluatedMode::kWarn);
  ASSERT_TRUE(p.signature);
  EXPECT_TRUE(p.signature->required);
  ASSERT_EQ(p.signature->trusts.size(), 3u);
  EXPECT_EQ(p.signature->trusts[0].label(), "key conf/keys/release.pub");
  EXPECT_EQ(p.signature->trusts[1].label(), "certificate root conf/ca/root.pem chain conf/ca/int.pem");
  EXPECT_EQ(p.signature->trusts[2].label(), "keyless release@example.com from https://accounts.example.com");
  EXPECT_EQ(p.signature->trusts[2].trust_root, "conf/trusted_root.json");
  EXPECT_EQ(p.signature->on_not_evaluated, NotEvaluatedMode::kFail);
  ASSERT_TRUE(p.licenses && p.licenses->allow && p.licenses->deny);
  EXPECT_EQ(*p.licenses->allow, (std::vector<std::string>{"MIT", "Apache-2.0"}));
  EXPECT_EQ(p.licenses->unknown, NotEvaluatedMode::kWarn);
  ASSERT_TRUE(p.pickle);
  EXPECT_TRUE(p.pickle->forbid_unsafe_imports);
  EXPECT_FALSE(p.pickle->forbid_formats);
  ASSERT_TRUE(p.bom);
  EXPECT_EQ(p.bom->required_fields.size(), 3u);
  EXPECT_DOUBLE_EQ(*p.bom->min_score, 55.5);
  ASSERT_TRUE(p.lineage);
  EXPECT_DOUBLE_EQ(p.lineage->max_similarity, 0.9);
  EXPECT_EQ(p.lineage->registry, "conf/registry.db");
  ASSERT_TRUE(p.probes);
  ASSERT_EQ(p.probes->packs.size(), 2u);
  EXPECT_DOUBLE_EQ(*p.probes->packs[0].min_p_value, 0.01);
  EXPECT_FALSE(p.probes->packs[0].max_score);
  EXPECT_DOUBLE_EQ(*p.probes->packs[1].max_score, 3);
  ASSERT_EQ(p.exceptions.size(), 2u);
  EXPECT_EQ(p.exceptions[0].rule, "PDG021");
  EXPECT_EQ(p.exceptions[0].line, 35);
  EXPECT_EQ(p.exceptions[1].rule, "PDG020");  // by name
  EXPECT_EQ(p.exceptions[1].expires, "2027-02-28");
}

TEST(Policy, Defaults) {
  Policy p;
  Error err;
  ASSERT_TRUE(parse_policy("rules:\n  signature:\n    key: /k.pub\n", "p.yaml", &p, &err)) << err.str();
  EXPECT_EQ(p.on_not_evaluated, NotEvaluatedMode::kFail);
  EXPECT_TRUE(p.signature->required);
  EXPECT_EQ(p.signature->trusts.at(0).key, "/k.pub");  // absolute paths stay
  EXPECT_FALSE(p.licenses);
  ASSERT_TRUE(parse_policy("rules:\n  licenses:\n    deny: [GPL-3.0-only]\n", "p.yaml", &p, &err));
  EXPECT_FALSE(p.licenses->allow);
  EXPECT_EQ(p.licenses->unknown, NotEvaluatedMode::kFail);
}

TEST(Policy, ErrorsNameFileLineAndField) {
  EXPECT_EQ(parse_error("rules:\n  pickle:\n    forbid_unsafe_imports: true\n  licenses:\n    deny: [MIT]\n\n"
                        "    allow: MIT\n"),
            "policy.yaml: line 7: rules.licenses.allow: expected a list of SPDX ids");
  EXPECT_EQ(parse_error("rules:\n  licenses:\n    allow: [MIT, mit-0]\n"),
            "policy.yaml: line 3: rules.licenses.allow[1]: 'mit-0' is not an SPDX licence id (did you mean 'MIT-0'?)");
  EXPECT_EQ(parse_error("rules:\n  licences: {}\n"),
            "policy.yaml: line 2: rules.licences: unknown key (want signature, licenses, pickle, bom, lineage, probes)");
  EXPECT_EQ(parse_error("rules:\n  pickle:\n    forbid_formats: yes\n"),
            "policy.yaml: line 3: rules.pickle.forbid_formats: expected true or false");
  EXPECT_EQ(parse_error("rules:\n  bom:\n    min_score: 120\n"),
            "policy.yaml: line 3: rules.bom.min_score: expected a number from 0 to 100");
  EXPECT_EQ(parse_error("rules:\n  bom:\n    required_fields: [name, colour]\n"),
            "policy.yaml: line 3: rules.bom.required_fields[1]: unknown field 'colour' (want a JSON pointer such as "
            "/metadata/component/purl, or one of ancestors, architecture, architecture_family, datasets, description, "
            "external_references, hashes, licenses, model_card, name, purl, serial_number, supplier, task, timestamp, "
            "version)");
  EXPECT_EQ(parse_error("rules:\n  bom:\n    required_fields: [\"/a/~2\"]\n"),
            "policy.yaml: line 3: rules.bom.required_fields[0]: '/a/~2' is not a valid JSON pointer");
  EXPECT_EQ(parse_error("rules:\n  signature:\n    required: true\n"),
            "policy.yaml: line 3: rules.signature: give key, certificate or keyless to verify against");
  EXPECT_EQ(parse_error("rules:\n  signature:\n    certificate:\n      chain: [a.pem]\n"),
            "policy.yaml: line 4: rules.signature.certificate.root: missing (the trusted root certificate)");
  EXPECT_EQ(parse_error("rules:\n  signature:\n    keyless:\n      identity: a@b\n"),
            "policy.yaml: line 4: rules.signature.keyless.issuer: missing (the OIDC issuer URL)");
  EXPECT_EQ(parse_error("rules:\n  lineage:\n    registry: r.db\n"),
            "policy.yaml: line 3: rules.lineage.max_similarity: missing (a number from 0 to 1)");
  EXPECT_EQ(parse_error("rules:\n  probes:\n    packs:\n      - pack: x\n"),
            "policy.yaml: line 4: rules.probes.packs[0]: give min_p_value or max_score");
  EXPECT_EQ(parse_error("on_not_evaluated: maybe\nrules: {pickle: {forbid_formats: true}}\n"),
            "policy.yaml: line 1: on_not_evaluated: expected fail, warn or pass");
  EXPECT_EQ(parse_error("version: 2\nrules: {}\n"), "policy.yaml: line 1: version: expected 1");
  EXPECT_EQ(parse_error("exceptions: []\n"), "policy.yaml: line 1: rules: missing (a policy needs at least one rule)");
  EXPECT_EQ(parse_error("rules: {}\n"),
            "policy.yaml: line 1: rules: expected at least one of signature, licenses, pickle, bom, lineage, probes");
  EXPECT_EQ(parse_error("rules:\n  bom: {}\n"), "policy.yaml: line 2: rules.bom: give required_fields or min_score");
  EXPECT_EQ(parse_error("rules:\n  bom:\n    min_score: 0x10\n"),
            "policy.yaml: line 3: rules.bom.min_score: expected a number from 0 to 100");
  EXPECT_EQ(parse_error("- a\n- b\n"), "policy.yaml: line 1: policy: expected a mapping with rules");
  EXPECT_EQ(parse_error("rules:\n  pickle: {forbid_formats: true}\n  pickle: {forbid_formats: false}\n"),
            "policy.yaml: line 3: rules.pickle: duplicate key");
  EXPECT_EQ(parse_error("rules: {pickle: {forbid_formats: [true}\n"),
            "policy.yaml: line 1: invalid yaml: illegal flow end");
}

TEST(Policy, ExceptionErrors) {
  std::string head = "rules:\n  pickle:\n    forbid_formats: true\nexceptions:\n";
  EXPECT_EQ(parse_error(head + "  - rule: PDG999\n    path: x\n    reason: r\n    expires: 2026-01-01\n"),
            "policy.yaml: line 5: exceptions[0].rule: unknown rule 'PDG999' (see docs/policy.md for the ids)");
  EXPECT_EQ(parse_error(head + "  - rule: PDG021\n    reason: r\n    expires: 2026-01-01\n"),
            "policy.yaml: line 5: exceptions[0]: give path or digest (or both)");
  EXPECT_EQ(parse_error(head + "  - rule: PDG021\n    path: x\n    expires: 2026-01-01\n"),
            "policy.yaml: line 5: exceptions[0].reason: missing (why the exception is granted)");
  EXPECT_EQ(parse_error(head + "  - rule: PDG021\n    path: x\n    reason: r\n"),
            "policy.yaml: line 5: exceptions[0].expires: missing (a date YYYY-MM-DD)");
  EXPECT_EQ(parse_error(head + "  - rule: PDG021\n    path: x\n    reason: r\n    expires: 2026-02-30\n"),
            "policy.yaml: line 8: exceptions[0].expires: expected a date YYYY-MM-DD");
  EXPECT_EQ(parse_error(head + "  - rule: PDG021\n    digest: sha256:abc\n    reason: r\n    expires: 2026-01-01\n"),
            "policy.yaml: line 6: exceptions[0].digest: expected sha256:<64 lowercase hex digits> (the model's "
            "manifest root)");
  EXPECT_EQ(parse_error(head + "  rule: PDG021\n"), "policy.yaml: line 5: exceptions: expected a list of exceptions");
}

TEST(Policy, Dates) {
  EXPECT_TRUE(valid_date("2024-02-29"));
  EXPECT_FALSE(valid_date("2023-02-29"));
  EXPECT_FALSE(valid_date("2100-02-29"));
  EXPECT_TRUE(valid_date("2000-02-29"));
  EXPECT_FALSE(valid_date("2026-13-01"));
  EXPECT_FALSE(valid_date("2026-1-01"));
  std::string today;
  Error err;
  ASSERT_TRUE(today_utc("2026-05-01", &today, &err));
  EXPECT_EQ(today, "2026-05-01");
  EXPECT_FALSE(today_utc("tomorrow", &today, &err));
  EXPECT_EQ(err.str(), "PEDIGREE_NOW 'tomorrow' is not a date YYYY-MM-DD");
  ASSERT_TRUE(today_utc("", &today, &err));
  EXPECT_TRUE(valid_date(today));
}

TEST(Policy, RejectsHugeAndNulInput) {
  Policy p;
  Error err;
  EXPECT_FALSE(parse_policy(std::string(2 << 20, ' '), "big.yaml", &p, &err));
  EXPECT_EQ(err.str(), "big.yaml: policy is 2.0 MiB, more than the 1 MiB limit");
  EXPECT_FALSE(parse_policy(std::string("rules:\0", 7), "nul.yaml", &p, &err));
  EXPECT_EQ(err.str(), "nul.yaml: policy contains a NUL byte");
}

}  // namespace
}  // namespace pedigree
