// Tests the embedded CycloneDX schemas (sbom/schema_data.h): every file of
// sbom/schemas.sha256 is embedded with the recorded digest, and the copies
// match the specification's own files in ../shared/reference (up to the
// package's documented `.SNAPSHOT` renaming).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "sbom/schema_data.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

std::string_view bytes_of(const EmbeddedSchema& s) { return {reinterpret_cast<const char*>(s.data), s.size}; }

TEST(SchemaData, EveryListedFileEmbeddedWithItsDigest) {
  std::string list = test::read_file(std::string(PEDIGREE_SOURCE_DIR) + "/sbom/schemas.sha256");
  std::regex line("^([0-9a-f]{64})  (\\S+)$", std::regex::multiline);
  size_t listed = 0;
  for (std::sregex_iterator it(list.begin(), list.end(), line), end; it != end; ++it, ++listed) {
    const EmbeddedSchema* found = nullptr;
    for (const EmbeddedSchema& s : embedded_schemas())
      if ((*it)[2] == s.name) found = &s;
    ASSERT_NE(found, nullptr) << (*it)[2];
    EXPECT_EQ(test::sha256_hex(bytes_of(*found)), (*it)[1].str()) << found->name;
    EXPECT_EQ(found->sha256, (*it)[1].str());
  }
  EXPECT_EQ(listed, 7u);
  EXPECT_EQ(embedded_schemas().size(), listed);
}

TEST(SchemaData, SameAsSpecificationReference) {
  std::string shared = test::shared_dir();
  std::string ref = shared + "/reference/cyclonedx-schemas";
  if (shared.empty() || !std::filesystem::exists(ref)) GTEST_SKIP() << "../shared/reference/cyclonedx-schemas absent";
  for (const EmbeddedSchema& s : embedded_schemas()) {
    std::string name = std::regex_replace(std::string(s.name), std::regex("\\.SNAPSHOT"), "");
    if (name == "bom-1.4.schema.json" || name == "bom-1.5.schema.json" || name == "spdx.schema.json") continue;
    std::string ours = std::regex_replace(std::string(bytes_of(s)), std::regex("\\.SNAPSHOT"), "");
    EXPECT_EQ(ours, test::read_file(ref + "/" + name)) << name;  // 1.5 and spdx differ as documented
  }
}

}  // namespace
}  // namespace pedigree
