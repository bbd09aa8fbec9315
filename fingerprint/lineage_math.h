// This file implements the numerical building blocks of lineage comparison:
// a linear assignment solver (shortest augmenting paths with potentials), the
// unbiased linear CKA, the Spearman rank test of a matching and Fisher's
// combination of p-values in log space. Definitions are in docs/lineage.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pedigree {

/// A dense row-major float matrix.
struct Matrix {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<float> v;

  float& at(size_t r, size_t c) { return v[r * cols + c]; }
  float at(size_t r, size_t c) const { return v[r * cols + c]; }
};

/// Minimum-cost assignment of every row of the rows x cols `cost` matrix
/// (row-major, rows <= cols) to a distinct column; returns col_of_row.
/// O(rows^2 * cols). Non-finite costs are treated as 0.
std::vector<size_t> solve_assignment(const std::vector<double>& cost, size_t rows, size_t cols);

/// n x n Gram matrix of `m` with its samples along `samples_are_rows`
/// (true: K = M M^T over rows; false: K = M^T M over columns), in double.
std::vector<double> gram(const Matrix& m, bool samples_are_rows);

/// Unbiased linear CKA of two n x n Gram matrices (Song et al. 2012 unbiased
/// HSIC, as used for CKA by Nguyen et al. 2021). Needs n >= 4; clamped to [-1, 1].
double unbiased_cka(const std::vector<double>& k, const std::vector<double>& l, size_t n);

/// Spearman rank correlation between positions 0..n-1 and `perm`.
double spearman_rho_identity(const std::vector<size_t>& perm);

/// Natural log of the one-sided upper-tail p-value of Spearman's rho under
/// independence, by the asymptotic normal approximation z = rho * sqrt(n - 1).
double spearman_log_p(double rho, size_t n);

/// Natural log of the upper-tail normal probability P(Z > z), accurate far
/// into the tail (no underflow).
double log_normal_upper(double z);

/// Natural log of Fisher's combined p-value of `log_p` (k values): the upper
/// tail of chi-square with 2k degrees of freedom at -2 * sum(log p).
double fisher_log_p(const std::vector<double>& log_p);

/// Cosine of two equally long float vectors (0 when either is all zero).
double raw_cosine(const std::vector<float>& a, const std::vector<float>& b);

/// Unbiased linear CKA of the kernels K = X^T X and L = Y^T Y without forming
/// them: `x` is fx x n and `y` is fy x n (features as rows, the n columns are
/// the samples). Equal to unbiased_cka(gram(x, false), gram(y, false), n) up to
/// rounding, in O(n * fx * fy).
double unbiased_cka_features(const Matrix& x, const Matrix& y);

/// The hidden-unit correspondence of two n x d matrices whose rows are the
/// same tokens' embeddings: columns centred and scaled to unit norm over the
/// rows, Pearson correlation of every pair, assignment maximizing the summed
/// |r|. A's column i is B's column perm[i] with sign[i]; returns the mean |r|
/// of the matched pairs.
double match_columns(const Matrix& a, const Matrix& b, std::vector<size_t>* perm, std::vector<float>* sign);

/// Zhu et al.: matches the rows (neurons) of A's gate/up to B's by the
/// assignment maximizing cos(gate) + |cos(up)| and returns Spearman's rho of
/// that matching against the identity. All four are n x d, B already aligned.
/// For an ungated MLP (GPT-2) the gates are empty (0 rows) and the matching
/// maximizes cos(up) (signed: GELU is not odd).
double neuron_match_rho(const Matrix& gate_a, const Matrix& up_a, const Matrix& gate_b, const Matrix& up_b);

}  // namespace pedigree
