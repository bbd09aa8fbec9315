// This file implements the JUnit XML writer: <testsuite> with tests, failures,
// errors and skipped counts; a <testcase> per rule result named "ID name";
// <failure> when the result is a violation, <skipped> when the rule was not
// evaluated, <system-out> for evidence, notes, warnings and exceptions.
#include "sbom/junit.h"

#include <fmt/format.h>

namespace pedigree {
namespace {

// Length of the valid UTF-8 sequence at s[i] (XML 1.0 characters only), or 0.
size_t utf8_char(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
  for (size_t k = 1; k < n; ++k) {
    unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d >> 6) != 2) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff) return 0;
  return n;
}

std::string system_out(const RuleResult& x) {
  std::string out = x.message + "\n";
  if (!x.exception.empty()) out += "exception: " + x.exception + "\n";
  for (const std::string& n : x.notes) out += "note: " + n + "\n";
  for (const EvidenceSource& e : x.evidence) {
    out += "evidence: " + e.what;
    if (!e.path.empty()) out += "; path " + e.path;
    if (!e.digest.empty()) out += "; digest " + e.digest;
    if (!e.command.empty()) out += "; command: " + e.command;
    out += "\n";
  }
  return out;
}

std::string testcase(const RuleResult& x) {
  std::string name = x.id + " " + x.name + (x.subject.empty() ? "" : "[" + x.subject + "]");
  std::string out = fmt::format("  <testcase classname=\"pedigree.check.{}\" name=\"{}\">\n", xml_escape(x.name),
                                xml_escape(name));
  if (x.violation() && x.status == RuleStatus::kFail) {
    out += fmt::format("    <failure message=\"{}\" type=\"{}\">{}</failure>\n", xml_escape(x.message),
                       xml_escape(x.level), xml_escape(system_out(x)));
  } else if (x.status == RuleStatus::kNotEvaluated) {
    std::string counts = x.violation() ? " (counts as a violation: on_not_evaluated is fail)" : "";
    out += fmt::format("    <skipped message=\"{}\"/>\n", xml_escape("not evaluated: " + x.message + counts));
  }
  out += fmt::format("    <system-out>{}</system-out>\n", xml_escape(system_out(x)));
  return out + "  </testcase>\n";
}

}  // namespace

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = utf8_char(s, i);
    bool control = c < 0x20 && c != '\t' && c != '\n' && c != '\r';
    if (n == 0 || control) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\r': out += "&#13;"; break;
      case '\n': out += "&#10;"; break;
      case '\t': out += "&#9;"; break;
      default: out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string report_junit(const CheckReport& r) {
  size_t failures = 0, skipped = 0;
  for (const RuleResult& x : r.results) {
    failures += x.violation() && x.status == RuleStatus::kFail;
    skipped += x.status == RuleStatus::kNotEvaluated;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" timestamp=\"{}\">\n",
                     xml_escape("pedigree check " + r.model_path), r.results.size(), failures, skipped,
                     xml_escape(r.today + "T00:00:00"));
  out += "  <properties>\n";
  out += fmt::format("    <property name=\"policy\" value=\"{}\"/>\n", xml_escape(r.policy_path));
  out += fmt::format("    <property name=\"violations\" value=\"{}\"/>\n", r.violations());
  for (const std::string& e : r.expired_exceptions)
    out += fmt::format("    <property name=\"expired_exception\" value=\"{}\"/>\n", xml_escape(e));
  out += "  </properties>\n";
  for (const RuleResult& x : r.results) out += testcase(x);
  return out + "</testsuite>\n";
}

}  // namespace pedigree
