// This file implements the tests of the lineage numerics: the assignment
// solver against brute force, unbiased CKA identities and invariances, the
// Spearman statistic and the log-space normal and Fisher tails.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "fingerprint/lineage_math.h"

namespace pedigree {
namespace {

double total(const std::vector<double>& c, size_t cols, const std::vector<size_t>& col_of_row) {
  double s = 0;
  for (size_t r = 0; r < col_of_row.size(); ++r) s += c[r * cols + col_of_row[r]];
  return s;
}

// Best cost over every injective row -> column map, by enumerating column permutations.
double brute_force(const std::vector<double>& c, size_t rows, size_t cols) {
  std::vector<size_t> p(cols);
  std::iota(p.begin(), p.end(), 0);
  double best = INFINITY;
  do {
    best = std::min(best, total(c, cols, std::vector<size_t>(p.begin(), p.begin() + rows)));
  } while (std::next_permutation(p.begin(), p.end()));
  return best;
}

TEST(LineageMath, AssignmentMatchesBruteForce) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-5, 5);
  std::uniform_int_distribution<int> small(0, 3);
  for (int trial = 0; trial < 200; ++trial) {
    size_t rows = 1 + trial % 6, cols = rows + trial % 3;
    std::vector<double> c(rows * cols);
    for (double& x : c) x = trial % 2 ? u(rng) : small(rng);  // integer costs make ties
    std::vector<size_t> m = solve_assignment(c, rows, cols);
    std::vector<size_t> sorted = m;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_TRUE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()) << "not injective";
    ASSERT_LT(sorted.back(), cols);
    EXPECT_NEAR(total(c, cols, m), brute_force(c, rows, cols), 1e-9) << "trial " << trial;
  }
}

TEST(LineageMath, AssignmentRecoversHiddenPermutation) {
  size_t n = 300;
  std::vector<size_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(3));
  std::vector<double> c(n * n, 1.0);
  for (size_t i = 0; i < n; ++i) c[i * n + perm[i]] = 0.0;
  EXPECT_EQ(solve_assignment(c, n, n), perm);
}

Matrix random_matrix(size_t r, size_t c, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  Matrix m{r, c, std::vector<float>(r * c)};
  for (float& x : m.v) x = nd(rng);
  return m;
}

TEST(LineageMath, CkaOfItselfIsOne) {
  Matrix x = random_matrix(40, 30, 1);
  auto k = gram(x, true);
  EXPECT_NEAR(unbiased_cka(k, k, 40), 1.0, 1e-12);
}

TEST(LineageMath, CkaInvariantToOrthogonalFeatureTransform) {
  size_t n = 40, f = 6;
  Matrix x = random_matrix(n, f, 2);
  // Rotation in the (0,1) plane, a sign flip of feature 2, a swap of features 3 and 4.
  double t = 0.7, c = std::cos(t), s = std::sin(t);
  Matrix y = x;
  for (size_t i = 0; i < n; ++i) {
    float a = x.at(i, 0), b = x.at(i, 1);
    y.at(i, 0) = static_cast<float>(c * a - s * b);
    y.at(i, 1) = static_cast<float>(s * a + c * b);
    y.at(i, 2) = -x.at(i, 2);
    std::swap(y.at(i, 3), y.at(i, 4));
  }
  EXPECT_NEAR(unbiased_cka(gram(x, true), gram(y, true), n), 1.0, 1e-6);
}

TEST(LineageMath, CkaInvariantToConsistentSamplePermutationOnly) {
  size_t n = 50;
  Matrix x = random_matrix(n, 20, 3), y = random_matrix(n, 20, 4);
  Matrix z = x;  // z = x + noise: related
  for (size_t i = 0; i < z.v.size(); ++i) z.v[i] += 0.5f * y.v[i];
  double base = unbiased_cka(gram(x, true), gram(z, true), n);
  std::vector<size_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), std::mt19937(5));
  Matrix xp = x, zp = z;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < 20; ++j) xp.at(i, j) = x.at(p[i], j), zp.at(i, j) = z.at(p[i], j);
  EXPECT_NEAR(unbiased_cka(gram(xp, true), gram(zp, true), n), base, 1e-9);
  EXPECT_GT(base, 0.6);
  // Permuting only one side's samples destroys the correspondence.
  EXPECT_LT(unbiased_cka(gram(xp, true), gram(z, true), n), 0.3);
  // Independent matrices: near zero.
  EXPECT_LT(std::fabs(unbiased_cka(gram(x, true), gram(y, true), n)), 0.2);
}

TEST(LineageMath, CkaSamplesAlongColumnsEqualsTransposed) {
  Matrix x = random_matrix(12, 30, 6);
  Matrix t{30, 12, std::vector<float>(360)};
  for (size_t i = 0; i < 12; ++i)
    for (size_t j = 0; j < 30; ++j) t.at(j, i) = x.at(i, j);
  EXPECT_EQ(gram(x, false), gram(t, true));
}

TEST(LineageMath, Spearman) {
  EXPECT_DOUBLE_EQ(spearman_rho_identity({0, 1, 2, 3, 4}), 1.0);
  EXPECT_DOUBLE_EQ(spearman_rho_identity({4, 3, 2, 1, 0}), -1.0);
  // d = (1,-1,0,0): sum d^2 = 2; rho = 1 - 12 / (4 * 15) = 0.8.
  EXPECT_DOUBLE_EQ(spearman_rho_identity({1, 0, 2, 3}), 0.8);
  EXPECT_NEAR(spearman_log_p(0.0, 101), std::log(0.5), 1e-12);
}

TEST(LineageMath, NormalTailInLogSpace) {
  EXPECT_NEAR(log_normal_upper(1.6448536269514722), std::log(0.05), 1e-9);
  // Continuity where the asymptotic series takes over, and no underflow far out.
  EXPECT_NEAR(log_normal_upper(29.999), log_normal_upper(30.0), 0.05);
  double far = log_normal_upper(200.0);
  EXPECT_TRUE(std::isfinite(far));
  EXPECT_NEAR(far, -200.0 * 200.0 / 2 - 0.5 * std::log(2 * M_PI) - std::log(200.0), 1e-3);
}

TEST(LineageMath, FisherCombination) {
  // One p-value: chi-square with 2 dof at -2 log p has upper tail p.
  EXPECT_NEAR(fisher_log_p({std::log(0.03)}), std::log(0.03), 1e-12);
  // Two p-values of 0.05: x = 11.98, P(chi2_4 > x) = e^{-x/2}(1 + x/2) = 0.0175...
  double x2 = -2 * std::log(0.05);
  EXPECT_NEAR(fisher_log_p({std::log(0.05), std::log(0.05)}), -x2 + std::log(1 + x2), 1e-12);
  // Tiny p-values stay finite.
  double lp = fisher_log_p(std::vector<double>(32, -5000.0));
  EXPECT_TRUE(std::isfinite(lp));
  EXPECT_LT(lp, -150000.0);
  EXPECT_DOUBLE_EQ(fisher_log_p({0.0, 0.0}), 0.0);
}

TEST(LineageMath, RawCosine) {
  EXPECT_DOUBLE_EQ(raw_cosine({1, 0}, {0, 1}), 0.0);
  EXPECT_NEAR(raw_cosine({1, 2}, {2, 4}), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(raw_cosine({0, 0}, {1, 1}), 0.0);
}

TEST(LineageMath, CkaFromFeaturesEqualsCkaOfGrams) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  auto random = [&](size_t r, size_t c) {
    Matrix m{r, c, std::vector<float>(r * c)};
    for (float& x : m.v) x = nd(rng);
    return m;
  };
  for (size_t n : {5, 17, 64}) {
    Matrix x = random(7, n), y = random(3, n), z = x;
    for (size_t i = 0; i < z.v.size(); ++i) z.v[i] += 0.5f * nd(rng);
    for (const Matrix* b : {&y, &z, &x}) {
      double expect = unbiased_cka(gram(x, false), gram(*b, false), n);
      EXPECT_NEAR(unbiased_cka_features(x, *b), expect, 1e-9) << n;
    }
  }
  EXPECT_NEAR(unbiased_cka_features(random(4, 50), random(4, 50)), 0.0, 0.3);
}

TEST(LineageMath, MatchColumnsRecoversPermutationAndSigns) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  Matrix a{40, 12, std::vector<float>(40 * 12)};
  for (float& x : a.v) x = nd(rng);
  std::vector<size_t> p = {3, 0, 7, 1, 11, 5, 2, 9, 4, 10, 6, 8};
  Matrix b = a;
  for (size_t r = 0; r < 40; ++r)
    for (size_t i = 0; i < 12; ++i) b.at(r, p[i]) = (i % 2 ? -1.0f : 1.0f) * a.at(r, i);
  std::vector<size_t> perm;
  std::vector<float> sign;
  EXPECT_NEAR(match_columns(a, b, &perm, &sign), 1.0, 1e-6);  // float correlations
  EXPECT_EQ(perm, p);
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(sign[i], i % 2 ? -1.0f : 1.0f);
}

}  // namespace
}  // namespace pedigree
