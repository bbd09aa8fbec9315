// This file implements the statistics the probe runner decides with: the
// binomial upper tail in log space (regularized incomplete beta), the Wilson
// score interval, Fisher's method for combining p-values and the Bonferroni
// correction. Every p-value is carried as log10 p so tiny values never underflow.
#pragma once

#include <cstdint>
#include <vector>

namespace pedigree::probes {

/// log10 P(X >= k) for X ~ Binomial(n, p), 0 <= p <= 1. Finite for every
/// 0 < p < 1 and k <= n (e.g. k = n = 200, p = 1/256 gives -481.648);
/// 0 when k == 0; -infinity when the event is impossible (k > n, or p == 0 and k > 0).
double binomial_upper_log10(uint64_t k, uint64_t n, double p);

/// log of the regularized incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1.
double log_incomplete_beta(double x, double a, double b);

/// A two-sided confidence interval for a proportion.
struct Interval {
  double lo = 0.0;
  double hi = 1.0;
};

/// Wilson score 95% interval (z = 1.959963984540054) for k successes in n
/// trials; [0, 1] when n == 0.
Interval wilson95(uint64_t k, uint64_t n);

/// log10 P(chi^2_df > x) for an even number of degrees of freedom df >= 2
/// (closed form e^{-x/2} sum_{j<df/2} (x/2)^j / j!), x >= 0.
double chi2_even_upper_log10(double x, uint64_t df);

/// Fisher's method: from log10 p_i of m independent tests, log10 of the
/// combined p = P(chi^2_{2m} > -2 sum ln p_i). 0 for an empty list.
double fisher_log10(const std::vector<double>& log10_ps);

/// Bonferroni: the per-test threshold alpha / m for m tests (alpha when m == 0).
double bonferroni_threshold(double alpha, uint64_t m);

/// Bonferroni-adjusted log10 p: log10 min(1, m p).
double bonferroni_log10(double log10_p, uint64_t m);

}  // namespace pedigree::probes
