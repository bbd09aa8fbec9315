// Cross-format tests on the genuine samples in samples/: every tensor digest
// equals the one computed independently in Python (samples/make/expected.json),
// and the same weights give the same tensor roots in every format.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "fingerprint/formats/reader.h"
#include "fingerprint/tensor_digest.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

nlohmann::json expected() {
  std::ifstream f(test::samples_dir() + "/make/expected.json");
  std::stringstream ss;
  ss << f.rdbuf();
  return nlohmann::json::parse(ss.str());
}

TensorFingerprint fingerprint(const std::string& rel, ModelArtifact* art_out = nullptr) {
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  std::string path = test::samples_dir() + "/" + rel;
  EXPECT_TRUE(read_model(path, &art, &idx, &err)) << rel << ": " << err.str();
  TensorFingerprint fp;
  EXPECT_TRUE(compute_tensor_fingerprint(art, idx, &fp, &err)) << rel << ": " << err.str();
  if (art_out) *art_out = art;
  return fp;
}

std::string hex(const std::array<uint8_t, 32>& a) { return to_hex(a.data(), a.size()); }

TEST(Samples, EveryTensorDigestMatchesPython) {
  nlohmann::json exp = expected();
  int checked = 0;
  for (const auto& [rel, sample] : exp["samples"].items()) {
    if (rel.find("-0000") != std::string::npos) continue;  // shards: checked through the index below
    TensorFingerprint fp = fingerprint(rel);
    std::map<std::string, const TensorDigest*> by_name;
    for (const TensorDigest& d : fp.tensors) by_name[d.name] = &d;
    EXPECT_EQ(fp.tensors.size(), sample["tensors"].size()) << rel;
    for (const auto& t : sample["tensors"]) {
      auto it = by_name.find(t["name"]);
      ASSERT_NE(it, by_name.end()) << rel << ": no tensor " << t["name"];
      EXPECT_EQ(hex(it->second->sha256), t["sha256"]) << rel << " " << t["name"];
      EXPECT_EQ(dtype_name(it->second->dtype), t["dtype"].get<std::string>()) << rel << " " << t["name"];
      EXPECT_EQ(it->second->shape, t["shape"].get<std::vector<uint64_t>>()) << rel << " " << t["name"];
      ++checked;
    }
  }
  EXPECT_EQ(checked, 141);  // every tensor of the 13 non-shard samples
}

TEST(Samples, SameWeightsSameRootsInEveryFormat) {
  TensorFingerprint st = fingerprint("tinyllama-hf/model.safetensors");
  for (const char* rel : {"tinyllama/tinyllama.pt", "tinyllama-hf", "tinyllama-sharded",
                          "tinyllama-sharded/model.safetensors.index.json", "tinyllama-onnx/tinyllama.onnx",
                          "tinyllama-onnx-external/tinyllama.onnx"}) {
    TensorFingerprint fp = fingerprint(rel);
    EXPECT_EQ(hex(fp.content_root), hex(st.content_root)) << rel;
    EXPECT_EQ(hex(fp.named_root), hex(st.named_root)) << rel;
  }
}

TEST(Samples, GgufF32SharesEveryUnpermutedTensor) {
  // llama.cpp permutes attn_q/attn_k rows and renames tensors: names and those
  // four tensors differ, every other tensor has the same digest.
  TensorFingerprint st = fingerprint("tinyllama-hf/model.safetensors");
  TensorFingerprint gg = fingerprint("tinyllama-gguf/tinyllama-f32.gguf");
  std::multiset<std::string> a, b;
  for (const TensorDigest& d : st.tensors) a.insert(hex(d.sha256));
  size_t shared = 0, permuted = 0;
  for (const TensorDigest& d : gg.tensors) {
    bool qk = d.name.find("attn_q") != std::string::npos || d.name.find("attn_k") != std::string::npos;
    (a.count(hex(d.sha256)) ? shared : permuted) += 1;
    EXPECT_EQ(a.count(hex(d.sha256)) == 0, qk) << d.name;
  }
  EXPECT_EQ(shared, 17u);
  EXPECT_EQ(permuted, 4u);
  EXPECT_NE(hex(gg.content_root), hex(st.content_root));
}

TEST(Samples, MaliciousPickleIsFlaggedNotExecuted) {
  for (const char* rel : {"malicious/evil.pkl", "malicious/evil.pt"}) {
    ModelArtifact art;
    TensorIndex idx;
    Error err;
    ASSERT_TRUE(read_model(test::samples_dir() + "/" + rel, &art, &idx, &err)) << err.str();
    bool found = false;
    for (const Finding& f : art.findings)
      found |= f.id == "unsafe-import" && f.severity == "error" && f.message.find("posix.system") != std::string::npos;
    EXPECT_TRUE(found) << rel;
  }
}

}  // namespace
}  // namespace pedigree
