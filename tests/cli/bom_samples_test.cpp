// End-to-end: the AI-BOM that `pedigree bom` writes for every sample, in spec
// 1.6 and 1.7, validates with our validator and with the independent
// @cyclonedx/cyclonedx-library JsonStrictValidator (one node process for all).
#include <gtest/gtest.h>

#include "sbom/validate.h"
#include "tests/support/cdx_node.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

const char* kSamples[] = {
    "tinyllama/tinyllama.pt", "tinyllama-hf", "tinyllama-sharded", "tinyllama-onnx/tinyllama.onnx",
    "tinyllama-onnx-external/tinyllama.onnx", "tinyllama-gguf/tinyllama-f32.gguf",
    "tinyllama-gguf/tinyllama-f16.gguf", "numpy/weights.npy", "numpy/weights-fortran.npy", "numpy/arrays.npz",
    "numpy/arrays-compressed.npz", "pickle/legacy.pt", "malicious/evil.pt", "malicious/evil.pkl",
};

TEST(BomSamples, EveryEmittedBomValidatesWithBothValidators) {
  test::TempDir out;
  std::vector<std::string> files;
  int n = 0;
  for (const char* rel : kSamples) {
    for (const char* spec : {"1.6", "1.7"}) {
      std::string file = (out.path() / ("bom-" + std::to_string(n++) + ".cdx.json")).string();
      auto r = test::run_pedigree({"bom", test::samples_dir() + "/" + rel, "--spec-version", spec, "-o", file});
      ASSERT_EQ(r.exit_code, 0) << rel << ": " << r.err;
      nlohmann::json doc;
      Error err;
      ASSERT_TRUE(read_bom_file(file, &doc, &err)) << err.str();
      BomValidation v;
      ASSERT_TRUE(validate_bom(doc, file, &v, &err)) << err.str();
      EXPECT_TRUE(v.valid()) << rel << " " << spec << ": "
                             << (v.schema_errors.empty() ? (v.errors.empty() ? "" : v.errors[0].path + " " + v.errors[0].message)
                                                         : v.schema_errors[0].path + " " + v.schema_errors[0].message);
      files.push_back(file);
    }
  }
  std::vector<test::NodeResult> results;
  std::string why;
  if (!test::node_validate(files, &results, &why)) GTEST_SKIP() << "independent validator unavailable: " << why;
  ASSERT_EQ(results.size(), files.size());
  for (const auto& r : results) {
    EXPECT_TRUE(r.error.empty()) << r.file << ": " << r.error;
    EXPECT_TRUE(r.valid) << r.file << ": " << (r.error_paths.empty() ? "" : r.error_paths[0]);
  }
}

}  // namespace
}  // namespace pedigree
