// This file implements the bridge from the C++ tests to the independent
// CycloneDX validator (tests/support/cdx_validate.js under node, with the npm
// packages installed by scripts/npm-deps.sh): validate many files in one node
// process and get one result per file.
#pragma once

#include <string>
#include <vector>

namespace pedigree::test {

/// The independent validator's verdict on one file.
struct NodeResult {
  std::string file;
  bool valid = false;
  std::string spec_version;
  std::vector<std::string> error_paths;  ///< ajv instancePath of each error
  std::string error;                     ///< set when the file could not be validated
};

/// node_modules with the pinned packages: $PEDIGREE_NPM_MODULES, else the
/// path CMake was configured with; empty when neither exists.
std::string npm_modules_dir();

/// Validates `files` with @cyclonedx/cyclonedx-library's JsonStrictValidator
/// (one node process, one validator per spec version). Returns false with a
/// reason in `*why` when node or the npm packages are absent or node fails;
/// tests turn that into GTEST_SKIP.
bool node_validate(const std::vector<std::string>& files, std::vector<NodeResult>* out, std::string* why);

}  // namespace pedigree::test
