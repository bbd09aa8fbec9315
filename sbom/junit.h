// This file implements the JUnit XML writer for `pedigree check` reports: one
// testsuite, one testcase per rule result, <failure> for violations,
// <skipped> for rules not evaluated; every attribute and text escaped so the
// document is well-formed XML 1.0 whatever the messages contain.
#pragma once

#include <string>
#include <string_view>

#include "sbom/policy.h"

namespace pedigree {

/// The report as a JUnit XML document (UTF-8, trailing newline).
std::string report_junit(const CheckReport& r);

/// Text escaped for XML 1.0 attributes and content: & < > " ' as entities, other
/// control bytes and invalid UTF-8 as the visible text \xNN.
std::string xml_escape(std::string_view s);

}  // namespace pedigree
