// Tests for fingerprint/formats/hf_dir.cpp: the Hugging Face directory reader
// keeps config, tokenizer and README front matter as metadata, picks the
// preferred weight format, still reads the others for findings, and refuses
// directories whose files are separate models.
#include "fingerprint/formats/hf_dir.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "fingerprint/formats/reader.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
namespace fs = std::filesystem;
using test::TempDir;

std::string sample(const std::string& rel) { return test::samples_dir() + "/" + rel; }

struct Dir {
  TempDir t;
  void copy(const std::string& from, const std::string& to) {
    fs::create_directories((t.path() / to).parent_path());
    fs::copy_file(sample(from), t.path() / to);
  }
  bool read(ModelArtifact* art, TensorIndex* idx, Error* err) { return read_model(t.path().string(), art, idx, err); }
};

TEST(HfDir, SampleDirectoryMetadata) {
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  ASSERT_TRUE(read_model(sample("tinyllama-hf"), &art, &idx, &err)) << err.str();
  EXPECT_EQ(art.format, "hf-directory");
  EXPECT_EQ(idx.tensors.size(), 21u);
  const auto& hf = art.metadata["hf"];
  EXPECT_EQ(hf["primary_format"], "safetensors");
  EXPECT_EQ(hf["config"]["model_type"], "llama");
  EXPECT_EQ(hf["generation_config"]["eos_token_id"], 2);
  EXPECT_EQ(hf["readme"]["front_matter"]["license"], "mit");
  EXPECT_EQ(hf["readme"]["front_matter"]["pipeline_tag"], "text-generation");
  EXPECT_EQ(hf["tokenizer"]["vocab_size"], 260);
  std::set<std::string> names;
  for (const ArtifactFile& f : art.files) names.insert(f.name);
  EXPECT_EQ(names, (std::set<std::string>{"README.md", "config.json", "generation_config.json", "model.safetensors",
                                          "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"}));
}

TEST(HfDir, PreferredFormatWinsOthersStillReadForFindings) {
  Dir d;
  d.copy("tinyllama-hf/model.safetensors", "model.safetensors");
  d.copy("malicious/evil.pt", "pytorch_model.bin");
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  ASSERT_TRUE(d.read(&art, &idx, &err)) << err.str();
  EXPECT_EQ(art.metadata["hf"]["primary_format"], "safetensors");
  EXPECT_EQ(idx.tensors.size(), 21u);
  ASSERT_EQ(art.metadata["hf"]["weight_sets"].size(), 2u);
  EXPECT_EQ(art.metadata["hf"]["weight_sets"][1]["format"], "pytorch");
  bool unsafe = false;
  for (const Finding& f : art.findings) unsafe |= f.id == "unsafe-import";
  EXPECT_TRUE(unsafe) << "the non-primary checkpoint's unsafe import must still be reported";
}

TEST(HfDir, ShardedIndexIsReadOnce) {
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  ASSERT_TRUE(read_model(sample("tinyllama-sharded"), &art, &idx, &err)) << err.str();
  EXPECT_EQ(idx.tensors.size(), 21u);
  EXPECT_EQ(art.metadata["hf"]["weight_sets"][0]["files"], nlohmann::json::array({"model.safetensors.index.json"}));
}

TEST(HfDir, SeparateModelsAreRefused) {
  Dir d;
  d.copy("tinyllama-gguf/tinyllama-f32.gguf", "a-f32.gguf");
  d.copy("tinyllama-gguf/tinyllama-f16.gguf", "b-f16.gguf");
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  ASSERT_FALSE(d.read(&art, &idx, &err));
  EXPECT_EQ(err.str(), (d.t.path() / "b-f16.gguf").string() +
                           ": tensor 'token_embd.weight' also appears in a-f32.gguf; these look like separate models: "
                           "point pedigree at one file");
}

TEST(HfDir, BadFrontMatterAndNoWeightsAreWarnings) {
  Dir d;
  d.t.write("README.md", "---\nlicense: [unclosed\n---\nbody\n");
  d.t.write("config.json", "{not json");
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  ASSERT_TRUE(d.read(&art, &idx, &err)) << err.str();
  std::set<std::string> ids;
  for (const Finding& f : art.findings) ids.insert(f.id);
  EXPECT_EQ(ids, (std::set<std::string>{"no-weights", "readme-front-matter-invalid", "config-unreadable"}));
  EXPECT_TRUE(idx.tensors.empty());
}

TEST(HfDir, MalformedWeightFileFailsWithItsPath) {
  Dir d;
  d.t.write("model.safetensors", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{", 9));
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  ASSERT_FALSE(d.read(&art, &idx, &err));
  EXPECT_EQ(err.path, (d.t.path() / "model.safetensors").string());
}

}  // namespace
}  // namespace pedigree
