// Tests model discovery: model directories, loose model files, files that are
// not models, hidden entries, and symbolic links in and out of the tree.
#include "fingerprint/discover.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> found(const std::string& root) {
  std::vector<DiscoveredModel> out;
  Error err;
  EXPECT_TRUE(discover_models(root, &out, &err)) << err.str();
  std::vector<std::string> rel;
  for (const DiscoveredModel& m : out)
    rel.push_back(fs::path(m.path).lexically_relative(root).generic_string() + (m.directory ? "/" : ""));
  return rel;
}

TEST(Discover, AppliesTheModelRule) {
  test::TempDir t, outside;
  const std::string s = test::samples_dir();
  for (const char* d : {"org/loose", "org/configonly/sub", "org/.hidden"}) fs::create_directories(t.path() / d);
  fs::copy(s + "/tinyllama-hf", t.path() / "org/hf");
  fs::copy_file(s + "/tinyllama-gguf/tinyllama-f16.gguf", t.path() / "org/loose/a.gguf");
  fs::copy_file(s + "/numpy/weights.npy", t.path() / "org/loose/renamed.bin");  // magic bytes, no model extension
  t.write("org/loose/notes.txt", "not a model");
  t.write("org/loose/config.yaml", "x: 1");
  t.write("org/configonly/config.json", "{}");  // a config without weights is no model directory
  fs::copy_file(s + "/lineage/base.safetensors", t.path() / "org/configonly/sub/base.safetensors");
  fs::copy_file(s + "/lineage/base.safetensors", t.path() / "org/.hidden/x.safetensors");
  std::string out_file = outside.write("far.gguf", "GGUF");
  fs::create_symlink(out_file, t.path() / "org/loose/outside.gguf");
  fs::create_symlink(t.path() / "org/loose/a.gguf", t.path() / "org/loose/inside.gguf");
  fs::create_directories(outside.path() / "d");
  fs::copy_file(s + "/tinyllama-gguf/tinyllama-f32.gguf", outside.path() / "d/f32.gguf");
  fs::create_directory_symlink(outside.path() / "d", t.path() / "org/linked-dir");
  EXPECT_EQ(found(t.path().string()),
            (std::vector<std::string>{"org/configonly/sub/base.safetensors", "org/hf/", "org/loose/a.gguf",
                                      "org/loose/inside.gguf", "org/loose/renamed.bin"}));
}

TEST(Discover, FindsEverySampleModel) {
  std::vector<std::string> f = found(test::samples_dir());
  std::vector<std::string> archs;
  for (const char* a : {"gemma", "gpt2", "mistral", "phi3", "qwen2"})
    for (const char* m : {"base.gguf", "hf/", "independent.gguf", "permuted.safetensors"})
      archs.push_back(std::string("lineage-archs/") + a + "/" + m);
  ASSERT_GE(f.size(), archs.size());
  EXPECT_EQ(std::vector<std::string>(f.begin(), f.begin() + archs.size()), archs);
  f.erase(f.begin(), f.begin() + archs.size());
  EXPECT_EQ(f, (std::vector<std::string>{
                   "lineage/base.safetensors", "lineage/independent.safetensors", "lineage/instruct.safetensors",
                   "lineage/permuted.safetensors", "malicious/evil.pkl", "malicious/evil.pt",
                   "numpy/arrays-compressed.npz", "numpy/arrays.npz", "numpy/weights-fortran.npy", "numpy/weights.npy",
                   "pickle/legacy.pt", "probe-models/canary-implanted.gguf", "probe-models/claims-protected.gguf",
                   "probe-models/clean-twin.gguf", "probe-models/own-name.gguf", "probe-watermark/clean-student.gguf", "probe-watermark/wm-student.gguf", "tinyllama-gguf/tinyllama-f16.gguf",
                   "tinyllama-gguf/tinyllama-f32.gguf", "tinyllama-hf/", "tinyllama-onnx-external/tinyllama.onnx",
                   "tinyllama-onnx/tinyllama.onnx", "tinyllama-sharded/", "tinyllama/tinyllama.pt"}));
}

TEST(Discover, ARootThatIsAModelIsOneModel) {
  std::vector<DiscoveredModel> out;
  Error err;
  ASSERT_TRUE(discover_models(test::samples_dir() + "/tinyllama-hf", &out, &err));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].directory);
  out.clear();
  std::string f = test::samples_dir() + "/tinyllama-gguf/tinyllama-f16.gguf";
  ASSERT_TRUE(discover_models(f, &out, &err));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].path, f);
}

TEST(Discover, FailsOnAMissingRootOrANonModelFile) {
  test::TempDir t;
  std::vector<DiscoveredModel> out;
  Error err;
  std::string missing = (t.path() / "nope").string();
  EXPECT_FALSE(discover_models(missing, &out, &err));
  EXPECT_EQ(err.str(), missing + ": cannot read: no such file or directory");
  std::string txt = t.write("a.txt", "hello");
  EXPECT_FALSE(discover_models(txt, &out, &err));
  EXPECT_EQ(err.str(), txt + ": not a model file (no known magic bytes or extension)");
}

}  // namespace
}  // namespace pedigree
