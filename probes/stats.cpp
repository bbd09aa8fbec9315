// This file implements the probe statistics in long double and log space:
// the binomial upper tail as I_p(k, n-k+1) by the modified Lentz continued
// fraction, Wilson's interval, Fisher's chi-square tail for even degrees of
// freedom by log-sum-exp, and Bonferroni.
#include "probes/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pedigree::probes {
namespace {

using ld = long double;
constexpr ld kLn10 = 2.302585092994045684017991454684364208L;
constexpr ld kTiny = 1e-4000L;
constexpr ld kEps = 1e-17L;
constexpr int kMaxIterations = 1000000;

ld log_beta(ld a, ld b) { return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b); }

ld guard(ld v) { return std::fabs(v) < kTiny ? kTiny : v; }

// The continued fraction of I_x(a, b) (converges fast for x < (a+1)/(a+b+2)),
// evaluated by the modified Lentz method.
ld beta_fraction(ld x, ld a, ld b) {
  ld c = 1.0L, d = 1.0L / guard(1.0L - (a + b) * x / (a + 1.0L));
  ld h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    ld m2 = 2.0L * m;
    ld even = m * (b - m) * x / ((a + m2 - 1.0L) * (a + m2));
    d = 1.0L / guard(1.0L + even * d);
    c = guard(1.0L + even / c);
    h *= d * c;
    ld odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0L));
    d = 1.0L / guard(1.0L + odd * d);
    c = guard(1.0L + odd / c);
    ld delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0L) < kEps) break;
  }
  return h;
}

// log I_x(a, b) by the direct fraction, valid (fast) below the mean.
ld log_ibeta_direct(ld x, ld a, ld b) {
  ld front = a * std::log(x) + b * std::log1p(-x) - log_beta(a, b) - std::log(a);
  return front + std::log(beta_fraction(x, a, b));
}

ld log_ibeta(ld x, ld a, ld b) {
  if (x <= 0.0L) return -std::numeric_limits<ld>::infinity();
  if (x >= 1.0L) return 0.0L;
  if (x < (a + 1.0L) / (a + b + 2.0L)) return log_ibeta_direct(x, a, b);
  ld other = log_ibeta_direct(1.0L - x, b, a);  // I_x(a,b) = 1 - I_{1-x}(b,a)
  return std::log1p(-std::exp(other));
}

}  // namespace

double log_incomplete_beta(double x, double a, double b) {
  return static_cast<double>(log_ibeta(x, a, b));
}

double binomial_upper_log10(uint64_t k, uint64_t n, double p) {
  if (k == 0) return 0.0;
  if (k > n || p <= 0.0) return -std::numeric_limits<double>::infinity();
  if (p >= 1.0) return 0.0;
  // P(X >= k) = I_p(k, n - k + 1).
  ld lnp = log_ibeta(static_cast<ld>(p), static_cast<ld>(k), static_cast<ld>(n - k + 1));
  return static_cast<double>(std::min(lnp / kLn10, 0.0L));
}

Interval wilson95(uint64_t k, uint64_t n) {
  if (n == 0) return {};
  const ld z = 1.959963984540054L, z2 = z * z, nn = static_cast<ld>(n);
  ld ph = static_cast<ld>(k) / nn;
  ld denom = 1.0L + z2 / nn;
  ld center = (ph + z2 / (2.0L * nn)) / denom;
  ld half = z / denom * std::sqrt(ph * (1.0L - ph) / nn + z2 / (4.0L * nn * nn));
  Interval out;
  out.lo = static_cast<double>(std::max(0.0L, center - half));
  out.hi = static_cast<double>(std::min(1.0L, center + half));
  if (k == 0) out.lo = 0.0;
  if (k == n) out.hi = 1.0;
  return out;
}

double chi2_even_upper_log10(double x, uint64_t df) {
  if (x <= 0.0 || df < 2) return 0.0;
  ld half = static_cast<ld>(x) / 2.0L, lnhalf = std::log(half);
  uint64_t terms = df / 2;
  // log sum_{j<terms} half^j / j!, by log-sum-exp around the largest term.
  ld best = -std::numeric_limits<ld>::infinity();
  for (uint64_t j = 0; j < terms; ++j) best = std::max(best, j * lnhalf - std::lgamma(j + 1.0L));
  ld sum = 0.0L;
  for (uint64_t j = 0; j < terms; ++j) sum += std::exp(j * lnhalf - std::lgamma(j + 1.0L) - best);
  ld ln_tail = -half + best + std::log(sum);
  return static_cast<double>(std::min(ln_tail / kLn10, 0.0L));
}

double fisher_log10(const std::vector<double>& log10_ps) {
  if (log10_ps.empty()) return 0.0;
  ld x = 0.0L;  // -2 sum ln p_i
  for (double l : log10_ps) x += -2.0L * static_cast<ld>(l) * kLn10;
  return chi2_even_upper_log10(static_cast<double>(x), 2 * log10_ps.size());
}

double bonferroni_threshold(double alpha, uint64_t m) { return m == 0 ? alpha : alpha / static_cast<double>(m); }

double bonferroni_log10(double log10_p, uint64_t m) {
  if (m <= 1) return log10_p;
  return std::min(0.0, log10_p + std::log10(static_cast<double>(m)));
}

}  // namespace pedigree::probes
