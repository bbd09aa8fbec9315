// This file implements the architecture mapping of lineage comparison: which
// tensors of a Hugging Face or GGUF decoder (llama, mistral, qwen2, gemma,
// gpt2, phi3) play which role, with fused QKV and gate_up tensors split, and
// which architectures can be compared with which.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/artifact.h"
#include "fingerprint/error.h"
#include "fingerprint/lineage_load.h"

namespace pedigree {

/// The matrices of one decoder layer (empty when absent). `gate` is empty for
/// GPT-2's ungated MLP (`up` = c_fc, `down` = c_proj).
struct DecoderLayer {
  RoleMatrix q, k, v, o, gate, up, down;
};

/// The architectures lineage reads, by their canonical names.
inline constexpr const char* kLineageArchs = "llama, mistral, qwen2, gemma, gpt2, phi3";

/// A decoder model's tensors by role.
struct DecoderModel {
  std::string scheme;          ///< "hf" or "gguf"
  std::string arch;            ///< "llama", "mistral", "qwen2", "gemma", "gpt2" or "phi3"
  bool arch_declared = false;  ///< from GGUF general.architecture or config.json; else from tensor names
  bool interleaved_qk = false; ///< llama.cpp's llama row order for Q/K (GGUF llama only)
  RoleMatrix embed;            ///< [vocab, hidden]
  std::vector<DecoderLayer> layers;
  uint64_t vocab = 0;
  uint64_t hidden = 0;
  uint64_t n_head = 0;     ///< attention heads (0: unknown, not needed)
  uint64_t n_head_kv = 0;  ///< key/value heads (0: unknown)
};

/// Maps `idx` to roles, splitting fused tensors. Fails with the reason (the
/// model's path in err.path) for unsupported architectures, missing or
/// malformed embeddings and layers without Q/K.
bool map_decoder(const ModelArtifact& art, const TensorIndex& idx, DecoderModel* out, Error* err);

/// "gpt2", or "gpt2 (from tensor names)" when not declared.
std::string arch_label(const std::string& arch, bool declared);

/// Whether lineage can compare the two architectures: equal when both are
/// declared (mistral is llama: llama.cpp writes Mistral models as llama),
/// else equal tensor layouts (llama, mistral and gemma share one).
bool archs_comparable(const std::string& a, bool declared_a, const std::string& b, bool declared_b);

}  // namespace pedigree
