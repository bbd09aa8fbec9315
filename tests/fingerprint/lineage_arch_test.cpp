// This file implements the tests of the lineage architecture mapping: the
// roles of every supported architecture's Hugging Face and GGUF samples
// (samples/lineage-archs/, made by samples/make/make_lineage_archs.py), fused
// QKV / gate_up splits and Conv1D transposes checked against the unfused
// Hugging Face matrices, which architectures compare, and the exact errors.
#include <gtest/gtest.h>

#include "fingerprint/formats/reader.h"
#include "fingerprint/lineage_arch.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

std::string arch_dir(const std::string& arch) { return test::samples_dir() + "/lineage-archs/" + arch; }

struct Mapped {
  ModelArtifact art;
  TensorIndex idx;
  DecoderModel m;
};

// Heap-allocated: the model's roles point into idx.
std::unique_ptr<Mapped> mapped(const std::string& path) {
  auto out = std::make_unique<Mapped>();
  Error err;
  EXPECT_TRUE(read_model(path, &out->art, &out->idx, &err) && map_decoder(out->art, out->idx, &out->m, &err))
      << path << ": " << err.str();
  return out;
}

Matrix qk(const Mapped& m, size_t layer, bool k) {
  const DecoderLayer& l = m.m.layers[layer];
  Matrix out;
  Error err;
  EXPECT_TRUE(load_qk(m.art, k ? l.k : l.q, m.m.interleaved_qk, k ? m.m.n_head_kv : m.m.n_head, &out, &err))
      << err.str();
  return out;
}

Matrix role(const Mapped& m, const RoleMatrix& r) {
  Matrix out;
  Error err;
  EXPECT_TRUE(load_role(m.art, r, &out, &err)) << err.str();
  return out;
}

TEST(LineageArch, EveryArchitectureMapsTheSameMatricesInHfAndGguf) {
  struct Want {
    const char* arch;
    const char* gguf_arch;
    uint64_t k_rows;
    bool gated;
  };
  for (const Want& w : {Want{"mistral", "llama", 16, true}, Want{"qwen2", "qwen2", 16, true},
                        Want{"gemma", "gemma", 8, true}, Want{"gpt2", "gpt2", 32, false},
                        Want{"phi3", "phi3", 32, true}}) {
    SCOPED_TRACE(w.arch);
    auto hf = mapped(arch_dir(w.arch) + "/hf");
    auto gg = mapped(arch_dir(w.arch) + "/base.gguf");
    EXPECT_EQ(hf->m.arch, w.arch);
    EXPECT_TRUE(hf->m.arch_declared);
    EXPECT_EQ(gg->m.arch, w.gguf_arch);
    EXPECT_EQ(gg->m.interleaved_qk, std::string(w.gguf_arch) == "llama");
    ASSERT_EQ(hf->m.layers.size(), 2u);
    ASSERT_EQ(gg->m.layers.size(), 2u);
    EXPECT_EQ(hf->m.vocab, 128u);
    EXPECT_EQ(hf->m.hidden, 32u);
    for (size_t l = 0; l < 2; ++l) {
      const DecoderLayer &a = hf->m.layers[l], &b = gg->m.layers[l];
      EXPECT_EQ(a.k.rows, w.k_rows);
      EXPECT_EQ(static_cast<bool>(a.gate), w.gated);
      EXPECT_EQ(static_cast<bool>(b.gate), w.gated);
      // GGUF Q/K in Hugging Face row order (GQA K unpermuted with the kv heads), fused parts split alike.
      EXPECT_EQ(qk(*hf, l, false).v, qk(*gg, l, false).v);
      EXPECT_EQ(qk(*hf, l, true).v, qk(*gg, l, true).v);
      EXPECT_EQ(role(*hf, a.v).v, role(*gg, b.v).v);
      EXPECT_EQ(role(*hf, a.o).v, role(*gg, b.o).v);
      EXPECT_EQ(role(*hf, a.up).v, role(*gg, b.up).v);
      EXPECT_EQ(role(*hf, a.down).v, role(*gg, b.down).v);
      if (w.gated) {
        EXPECT_EQ(role(*hf, a.gate).v, role(*gg, b.gate).v);
      }
    }
  }
}

TEST(LineageArch, FusedAndTransposedRoles) {
  auto phi = mapped(arch_dir("phi3") + "/hf");
  const DecoderLayer& p = phi->m.layers[1];
  EXPECT_EQ(role_name(p.k), "model.layers.1.self_attn.qkv_proj.weight rows 32..63");
  EXPECT_EQ(role_name(p.up), "model.layers.1.mlp.gate_up_proj.weight rows 64..127");
  auto gpt = mapped(arch_dir("gpt2") + "/hf");
  const DecoderLayer& g = gpt->m.layers[0];
  EXPECT_EQ(role_name(g.v), "transformer.h.0.attn.c_attn.weight rows 64..95 (transposed)");
  EXPECT_EQ(role_name(g.down), "transformer.h.0.mlp.c_proj.weight (transposed)");
  EXPECT_EQ(g.down.rows, 32u);
  EXPECT_EQ(g.down.cols, 64u);
  // Rows read one by one agree with the whole role, transposed or not.
  for (const RoleMatrix* r : {&p.k, &g.v}) {
    const Mapped& m = r == &p.k ? *phi : *gpt;
    Matrix whole = role(m, *r), some;
    Error err;
    ASSERT_TRUE(load_role_rows(m.art, *r, {0, 5, 31}, &some, &err)) << err.str();
    ASSERT_EQ(some.rows, 3u);
    for (size_t c = 0; c < 32; ++c) EXPECT_EQ(some.at(1, c), whole.at(5, c));
  }
}

TEST(LineageArch, ArchitectureFromTensorNames) {
  for (auto [arch, want] : {std::pair{"mistral", "llama"}, std::pair{"qwen2", "qwen2"}, std::pair{"gemma", "llama"},
                            std::pair{"gpt2", "gpt2"}, std::pair{"phi3", "phi3"}}) {
    auto m = mapped(arch_dir(arch) + "/permuted.safetensors");
    EXPECT_EQ(m->m.arch, want) << arch;
    EXPECT_FALSE(m->m.arch_declared) << arch;
  }
  EXPECT_EQ(arch_label("gpt2", true), "gpt2");
  EXPECT_EQ(arch_label("llama", false), "llama (from tensor names)");
}

TEST(LineageArch, WhichArchitecturesCompare) {
  EXPECT_TRUE(archs_comparable("mistral", true, "llama", true));  // llama.cpp writes Mistral as llama
  EXPECT_FALSE(archs_comparable("gemma", true, "llama", true));
  EXPECT_FALSE(archs_comparable("qwen2", true, "llama", true));
  EXPECT_TRUE(archs_comparable("gemma", true, "llama", false));   // same names: the layout decides
  EXPECT_FALSE(archs_comparable("gpt2", false, "llama", false));
  EXPECT_FALSE(archs_comparable("phi3", true, "llama", false));
  EXPECT_TRUE(archs_comparable("phi3", true, "phi3", false));
}

TensorInfo named(const std::string& name, std::vector<uint64_t> shape) {
  TensorInfo t;
  t.name = name;
  t.shape = std::move(shape);
  return t;
}

std::string map_error(const ModelArtifact& art, const TensorIndex& idx) {
  DecoderModel m;
  Error err;
  EXPECT_FALSE(map_decoder(art, idx, &m, &err));
  return err.str();
}

TEST(LineageArch, MapsHfAndGgufNames) {
  ModelArtifact hf;
  hf.root = "hf";
  TensorIndex ih;
  ih.tensors = {named("model.embed_tokens.weight", {10, 8}), named("model.layers.0.self_attn.q_proj.weight", {8, 8}),
                named("model.layers.0.self_attn.k_proj.weight", {8, 8}), named("model.layers.0.mlp.up_proj.weight", {4, 8})};
  DecoderModel m;
  Error err;
  ASSERT_TRUE(map_decoder(hf, ih, &m, &err)) << err.str();
  EXPECT_EQ(m.scheme, "hf");
  EXPECT_EQ(m.arch, "llama");
  EXPECT_EQ(m.vocab, 10u);
  EXPECT_EQ(m.hidden, 8u);
  ASSERT_EQ(m.layers.size(), 1u);
  EXPECT_EQ(m.layers[0].up.t, &ih.tensors[3]);
  EXPECT_FALSE(m.layers[0].gate);

  ModelArtifact gg;
  gg.root = "m.gguf";
  gg.metadata["gguf"]["kv"] = {{"general.architecture", "llama"}, {"llama.attention.head_count", 4},
                               {"llama.attention.head_count_kv", 2}};
  TensorIndex ig;
  ig.tensors = {named("token_embd.weight", {10, 8}), named("blk.0.attn_q.weight", {8, 8}),
                named("blk.0.attn_k.weight", {4, 8}), named("blk.1.attn_q.weight", {8, 8}),
                named("blk.1.attn_k.weight", {4, 8})};
  DecoderModel g;
  ASSERT_TRUE(map_decoder(gg, ig, &g, &err)) << err.str();
  EXPECT_EQ(g.scheme, "gguf");
  EXPECT_TRUE(g.interleaved_qk);
  EXPECT_EQ(g.n_head, 4u);
  EXPECT_EQ(g.n_head_kv, 2u);
  EXPECT_EQ(g.layers.size(), 2u);
}

TEST(LineageArch, MappingErrors) {
  ModelArtifact a;
  a.root = "m";
  TensorIndex idx;
  idx.tensors = {named("weight", {4, 4})};
  EXPECT_EQ(map_error(a, idx), "m: unsupported architecture: no decoder tensor names (model.layers.N.*, h.N.* or blk.N.*)");
  idx.tensors = {named("model.embed_tokens.weight", {10, 8}), named("blk.0.attn_q.weight", {8, 8})};
  EXPECT_EQ(map_error(a, idx), "m: unsupported architecture: tensor names mix the model.layers.N.*, h.N.* and blk.N.* schemes");
  idx.tensors = {named("model.layers.0.self_attn.q_proj.weight", {8, 8})};
  EXPECT_EQ(map_error(a, idx), "m: missing token embedding 'model.embed_tokens.weight'");
  idx.tensors = {named("model.embed_tokens.weight", {10, 8}), named("model.layers.0.self_attn.q_proj.weight", {8, 8})};
  EXPECT_EQ(map_error(a, idx), "m: layer 0 has no attention q/k projection");
  idx.tensors = {named("model.embed_tokens.weight", {10})};
  EXPECT_EQ(map_error(a, idx), "m: token embedding 'model.embed_tokens.weight' is not a [vocab, hidden] matrix");
  idx.tensors = {named("model.embed_tokens.weight", {10, 8}), named("model.layers.5000.self_attn.q_proj.weight", {8, 8})};
  EXPECT_EQ(map_error(a, idx), "m: layer index 5000 exceeds 4096");
  idx.tensors = {named("model.embed_tokens.weight", {10, 8})};
  EXPECT_EQ(map_error(a, idx), "m: no decoder layers (model.layers.N.*)");
  idx.tensors = {named("model.embed_tokens.weight", {10, 8}), named("model.layers.0.self_attn.qkv_proj.weight", {25, 8})};
  EXPECT_EQ(map_error(a, idx), "m: fused tensor 'model.layers.0.self_attn.qkv_proj.weight' has 25 rows, not q (8) + k + v (equal)");
  idx.tensors = {named("model.embed_tokens.weight", {10, 8}), named("model.layers.0.self_attn.qkv_proj.weight", {24, 8}),
                 named("model.layers.0.mlp.gate_up_proj.weight", {7, 8})};
  EXPECT_EQ(map_error(a, idx), "m: fused tensor 'model.layers.0.mlp.gate_up_proj.weight' has 7 rows, not two equal gate and up blocks");

  a.metadata["hf"]["config"] = {{"architectures", {"FalconForCausalLM"}}};
  EXPECT_EQ(map_error(a, idx), "m: unsupported architecture 'FalconForCausalLM' in config.json (lineage reads "
                               "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, GemmaForCausalLM, "
                               "GPT2LMHeadModel and Phi3ForCausalLM)");
  a.metadata["hf"]["config"] = {{"architectures", {"GPT2LMHeadModel"}}};
  EXPECT_EQ(map_error(a, idx), "m: config.json declares gpt2 but the tensors are named model.layers.N.* (gpt2 uses h.N.*)");
  a.metadata["hf"]["config"] = {{"architectures", {"Phi3ForCausalLM"}}, {"num_attention_heads", 2},
                                {"num_key_value_heads", 1}, {"head_dim", 4}};
  EXPECT_EQ(map_error(a, idx), "m: fused tensor 'model.layers.0.self_attn.qkv_proj.weight' has 24 rows, not q (8) + k + v (4 each)");
  a.metadata.erase("hf");

  idx.tensors = {named("token_embd.weight", {10, 8}), named("blk.0.attn_q.weight", {8, 8})};
  EXPECT_EQ(map_error(a, idx), "m: missing metadata general.architecture (needed to read blk.N.* tensors)");
  a.metadata["gguf"]["kv"] = {{"general.architecture", "falcon"}};
  EXPECT_EQ(map_error(a, idx), "m: unsupported architecture 'falcon' (lineage reads GGUF llama, qwen2, gemma, gpt2 and phi3)");
  a.metadata["gguf"]["kv"] = {{"general.architecture", "llama"}};
  EXPECT_EQ(map_error(a, idx),
            "m: missing or invalid metadata llama.attention.head_count (needed to undo llama.cpp's q/k row order)");
}

}  // namespace
}  // namespace pedigree
