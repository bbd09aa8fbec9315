// Tests the probe statistics against exact references. Binomial tails were
// computed as exact rational sums sum_{i>=k} C(n,i) p^i (1-p)^(n-i) with
// Python's fractions.Fraction and then log10 with decimal.Decimal at 60
// digits; Fisher's references by the closed form e^{-x/2} sum_{j<m} (x/2)^j/j!
// in Decimal; Wilson bounds by the textbook formula in Decimal (z = 1.959963984540054).
#include <gtest/gtest.h>

#include <cmath>

#include "probes/stats.h"

namespace pedigree::probes {
namespace {

// 1e-10 relative error in p is 1e-10 / ln 10 = 4.3e-11 absolute error in log10 p.
constexpr double kLogTol = 4.3e-11;

struct TailCase {
  uint64_t k, n;
  double p;
  double log10;
};

TEST(ProbeStats, BinomialTailMatchesExactSums) {
  const TailCase cases[] = {
      {1, 1, 0.5, -0.3010299956639812},
      {3, 10, 0.5, -0.024424599331418283},
      {5, 20, 0.1, -1.3647727306905253},
      {200, 200, 1.0 / 256, -481.64799306236989},
      {10, 200, 1.0 / 256, -8.0238592671268076},
      {1, 200, 1.0 / 256, -0.26530693711027431},
      {50, 100, 0.5, -0.26777144931512437},
      {90, 100, 0.5, -16.814841857615978},
      {100, 10000, 1.0 / 256, -15.628490726611671},
      {40, 10000, 1.0 / 256, -0.33578779813913262},
      {30, 1000, 0.001, -33.022134357241683},
      {7, 12, 0.75, -0.024293561653496106},
      {999, 1000, 1.0 / 3, -473.82000763102621},
  };
  for (const TailCase& c : cases)
    EXPECT_NEAR(binomial_upper_log10(c.k, c.n, c.p), c.log10, kLogTol) << c.k << " of " << c.n << " p " << c.p;
}

TEST(ProbeStats, BinomialTailEdges) {
  EXPECT_EQ(binomial_upper_log10(0, 5, 1.0 / 3), 0.0);
  EXPECT_EQ(binomial_upper_log10(0, 0, 0.5), 0.0);
  EXPECT_EQ(binomial_upper_log10(3, 3, 1.0), 0.0);
  EXPECT_TRUE(std::isinf(binomial_upper_log10(6, 5, 0.5)));
  EXPECT_TRUE(std::isinf(binomial_upper_log10(1, 5, 0.0)));
}

TEST(ProbeStats, BinomialTailNeverUnderflows) {
  // p^n exactly when k == n: n log10 p.
  EXPECT_NEAR(binomial_upper_log10(5000, 5000, 1e-10), -50000.0, 1e-7);
  EXPECT_NEAR(binomial_upper_log10(1000000, 1000000, 0.5), -1000000 * std::log10(2.0), 1e-5);
  // 300000 of 10^7 at p = 1/256 (mean 39062): tiny but finite.
  double v = binomial_upper_log10(300000, 10000000, 1.0 / 256);
  EXPECT_TRUE(std::isfinite(v));
  EXPECT_LT(v, -300.0);
  // Below the mean the tail is close to 1.
  EXPECT_GT(binomial_upper_log10(3000, 10000000, 1.0 / 256), -1e-12);
}

TEST(ProbeStats, BinomialTailIsMonotoneInK) {
  double prev = 0.0;
  for (uint64_t k = 1; k <= 60; ++k) {
    double v = binomial_upper_log10(k, 60, 0.2);
    EXPECT_LT(v, prev) << k;
    prev = v;
  }
}

TEST(ProbeStats, WilsonInterval) {
  struct {
    uint64_t k, n;
    double lo, hi;
  } cases[] = {{0, 10, 0, 0.2775327998628892},
               {5, 10, 0.236593090512564, 0.76340690948743595},
               {10, 10, 0.72246720013711074, 1},
               {1, 30, 0.0059085903816124474, 0.16670390991409173},
               {27, 30, 0.74378917420815915, 0.96540011125266578},
               {3, 1000, 0.001020783881138619, 0.0087830140535031728}};
  for (const auto& c : cases) {
    Interval i = wilson95(c.k, c.n);
    EXPECT_NEAR(i.lo, c.lo, 1e-14) << c.k << "/" << c.n;
    EXPECT_NEAR(i.hi, c.hi, 1e-14) << c.k << "/" << c.n;
  }
  Interval none = wilson95(0, 0);
  EXPECT_EQ(none.lo, 0.0);
  EXPECT_EQ(none.hi, 1.0);
}

TEST(ProbeStats, FisherMatchesClosedForm) {
  EXPECT_NEAR(fisher_log10({std::log10(0.05), std::log10(0.2)}), -1.2514111966794519, 1e-12);
  EXPECT_NEAR(fisher_log10({-2, -2, -2}), -3.9576226760029223, 1e-12);
  EXPECT_NEAR(fisher_log10({-5, std::log10(0.5), std::log10(0.9), std::log10(0.3)}), -3.1559099206556422, 1e-12);
  EXPECT_EQ(fisher_log10({}), 0.0);
  EXPECT_NEAR(fisher_log10({-1.5}), -1.5, 1e-12);  // one test: chi^2_2 tail is p itself
}

TEST(ProbeStats, FisherInLogSpace) {
  EXPECT_NEAR(fisher_log10({-300, -300, -300}), -893.66769446234696, 1e-9);
  EXPECT_NEAR(fisher_log10({-1000, -1000}), -1996.3366600200256, 1e-9);
  EXPECT_EQ(fisher_log10({0, 0}), 0.0);
}

TEST(ProbeStats, ChiSquareEvenDf) {
  // df = 2: P = e^{-x/2}.
  EXPECT_NEAR(chi2_even_upper_log10(10.0, 2), -5.0 / std::log(10.0), 1e-14);
  // df = 4, x = 2: e^{-1} (1 + 1) = 0.7357588823428847.
  EXPECT_NEAR(chi2_even_upper_log10(2.0, 4), std::log10(0.7357588823428847), 1e-14);
  EXPECT_EQ(chi2_even_upper_log10(0.0, 6), 0.0);
}

TEST(ProbeStats, Bonferroni) {
  EXPECT_DOUBLE_EQ(bonferroni_threshold(1e-6, 4), 2.5e-7);
  EXPECT_DOUBLE_EQ(bonferroni_threshold(1e-6, 0), 1e-6);
  EXPECT_NEAR(bonferroni_log10(-8.0, 100), -6.0, 1e-12);
  EXPECT_EQ(bonferroni_log10(-1.0, 100), 0.0);
  EXPECT_EQ(bonferroni_log10(-3.0, 1), -3.0);
}

TEST(ProbeStats, IncompleteBetaSymmetry) {
  // I_x(a,b) + I_{1-x}(b,a) = 1 on both sides of the switch point.
  for (double x : {0.1, 0.3, 0.5, 0.7, 0.9}) {
    double s = std::exp(log_incomplete_beta(x, 3.5, 7.25)) + std::exp(log_incomplete_beta(1 - x, 7.25, 3.5));
    EXPECT_NEAR(s, 1.0, 1e-14) << x;
  }
  // I_x(1,1) = x.
  EXPECT_NEAR(std::exp(log_incomplete_beta(0.37, 1, 1)), 0.37, 1e-15);
}

}  // namespace
}  // namespace pedigree::probes
