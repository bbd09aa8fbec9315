// Tests of the JUnit XML writer (sbom/junit.cpp): counts, failure and skipped
// elements, and escaping of markup, quotes, control bytes and invalid UTF-8.
#include <gtest/gtest.h>

#include "sbom/junit.h"

namespace pedigree {
namespace {

TEST(Junit, Escape) {
  EXPECT_EQ(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(xml_escape(std::string("x\x01y\x7f", 4)), "x\\x01y\x7f");
  EXPECT_EQ(xml_escape("line\nnext\ttab"), "line&#10;next&#9;tab");
  EXPECT_EQ(xml_escape("\xc3\xbc ok"), "\xc3\xbc ok");
  EXPECT_EQ(xml_escape("\xff\xc3"), "\\xff\\xc3");
  EXPECT_EQ(xml_escape("\xef\xbf\xbe"), "\\xef\\xbf\\xbe");  // U+FFFE is not an XML character
  EXPECT_EQ(xml_escape("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
}

RuleResult result(const char* id, const char* name, RuleStatus status, const char* level, const char* message) {
  RuleResult r;
  r.id = id, r.name = name, r.status = status, r.level = level, r.message = message;
  return r;
}

TEST(Junit, Document) {
  CheckReport r;
  r.model_path = "m<1>";
  r.policy_path = "p.yaml";
  r.today = "2026-01-01";
  r.results = {result("PDG001", "signature.required", RuleStatus::kPass, "note", "verified"),
               result("PDG020", "pickle.unsafe_imports", RuleStatus::kFail, "error", "imports \"os.system\""),
               result("PDG012", "licenses.unknown", RuleStatus::kFail, "warning", "no licence"),
               result("PDG050", "probes.thresholds", RuleStatus::kNotEvaluated, "error", "no probes")};
  r.results[3].subject = "p";
  r.expired_exceptions = {"policy line 3: PDG021 exception expired on 2025-01-01: r"};
  std::string x = report_junit(r);
  EXPECT_EQ(x.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"pedigree check m&lt;1&gt;\" tests=\"4\" "
                    "failures=\"1\" errors=\"0\" skipped=\"1\" timestamp=\"2026-01-01T00:00:00\">\n", 0), 0u) << x;
  EXPECT_NE(x.find("<failure message=\"imports &quot;os.system&quot;\" type=\"error\">"), std::string::npos) << x;
  EXPECT_NE(x.find("name=\"PDG050 probes.thresholds[p]\""), std::string::npos);
  EXPECT_NE(x.find("<skipped message=\"not evaluated: no probes (counts as a violation: on_not_evaluated is fail)\"/>"),
            std::string::npos) << x;
  EXPECT_NE(x.find("<property name=\"expired_exception\" value=\"policy line 3: PDG021 exception expired on "
                   "2025-01-01: r\"/>"), std::string::npos);
  EXPECT_EQ(x.substr(x.size() - 13), "</testsuite>\n");
}

}  // namespace
}  // namespace pedigree
