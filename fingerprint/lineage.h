// This file implements the lineage comparison of two decoder models (llama,
// mistral, qwen2, gemma, gpt2, phi3; lineage_arch.h):
// hidden-unit permutation and sign recovery from the token embeddings, the
// AWM-style primary score (unbiased linear CKA of Q and K, layers matched by
// assignment), the Zhu et al. MLP independence test, HuRef-style
// invariants (secondary) and the verdict.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "fingerprint/artifact.h"
#include "fingerprint/error.h"

namespace pedigree {

/// Verdict thresholds (docs/lineage.md explains the choice).
inline constexpr double kDerivedScore = 0.7;       ///< primary score at or above: derived
inline constexpr double kIndependentScore = 0.3;   ///< primary score below (and no test rejection): independent
inline constexpr double kDerivedLog10P = -8.0;     ///< Fisher-combined p below 1e-8: derived
inline constexpr double kIndependentLog10P = -2.0; ///< Fisher-combined p at or above 0.01 needed for independent

/// Scores of one matched pair of layers.
struct LineageLayer {
  size_t a = 0;                       ///< layer index in A
  size_t b = 0;                       ///< layer index in B
  double cka_q = 0;                   ///< unbiased linear CKA of Q (hidden units as samples)
  double cka_k = 0;
  double cka_mlp = 0;                 ///< mean CKA of gate, up and down (0 when absent)
  bool has_mlp = false;
  double score = 0;                   ///< (cka_q + cka_k) / 2
  std::optional<double> raw_cosine;   ///< cosine of Q flattened as stored (unaligned); comparison only
  std::optional<double> spearman_rho; ///< Zhu et al.: rho of the matched MLP neuron permutation
  std::optional<double> log10_p;      ///< its one-sided p-value, log10
  std::optional<double> huref;        ///< HuRef-style invariant similarity (secondary; not in the verdict)
};

/// The outcome of a comparison.
struct LineageReport {
  std::string arch_a, arch_b;     ///< architectures (arch_label: "gpt2", "llama (from tensor names)")
  uint64_t vocab = 0;
  uint64_t hidden = 0;
  size_t layers_a = 0;
  size_t layers_b = 0;
  size_t vocab_rows_used = 0;     ///< embedding rows used for the hidden-unit matching
  double embed_match = 0;         ///< mean |correlation| of matched embedding columns
  size_t units_moved = 0;         ///< hidden units the recovered permutation moves
  size_t sign_flips = 0;          ///< hidden units with a recovered sign flip
  std::vector<LineageLayer> layers;
  double primary = 0;             ///< mean layer score over matched layers
  std::optional<double> raw_cosine;       ///< mean raw Q cosine (comparison only, never a verdict)
  std::optional<double> huref;            ///< mean HuRef-style invariant similarity (secondary)
  std::optional<double> fisher_log10_p;   ///< Zhu et al. Fisher-combined p-value, log10
  std::string zhu_note;           ///< why the independence test was not run, when it was not
  std::string verdict;            ///< "derived", "independent" or "inconclusive"
  std::string reason;             ///< which thresholds decided
};

/// Sets the verdict and reason of `r` from its primary score and combined
/// p-value (the thresholds above).
void decide_lineage(LineageReport* r);

/// Compares A and B. Returns false with the reason ("cannot compare") when the
/// models are not comparable: unsupported architecture, missing embeddings,
/// different vocabulary or hidden sizes, unreadable tensors.
bool compare_lineage(const ModelArtifact& a, const TensorIndex& ia, const ModelArtifact& b, const TensorIndex& ib,
                     LineageReport* out, Error* err);

}  // namespace pedigree
