// This file implements the numerical building blocks of lineage comparison:
// linear assignment (Kuhn-Munkres with row potentials, shortest augmenting
// paths as in Jonker-Volgenant), unbiased linear CKA, Spearman's test of a
// matching and Fisher's method, all in double precision.
#include "fingerprint/lineage_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <tbb/parallel_for.h>

namespace pedigree {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// One augmenting path for row `i` (1-based) by Dijkstra on reduced costs.
void augment(const std::vector<double>& cost, size_t cols, size_t i, std::vector<double>& u,
             std::vector<double>& v, std::vector<size_t>& row_of_col) {
  std::vector<double> minv(cols + 1, kInf);
  std::vector<size_t> way(cols + 1, 0);
  std::vector<char> used(cols + 1, 0);
  row_of_col[0] = i;
  size_t j0 = 0;
  do {
    used[j0] = 1;
    size_t i0 = row_of_col[j0], j1 = 0;
    double delta = kInf;
    for (size_t j = 1; j <= cols; ++j) {
      if (used[j]) continue;
      double cur = cost[(i0 - 1) * cols + (j - 1)] - u[i0] - v[j];
      if (cur < minv[j]) minv[j] = cur, way[j] = j0;
      if (minv[j] < delta) delta = minv[j], j1 = j;
    }
    for (size_t j = 0; j <= cols; ++j) {
      if (used[j]) u[row_of_col[j]] += delta, v[j] -= delta;
      else minv[j] -= delta;
    }
    j0 = j1;
  } while (row_of_col[j0] != 0);
  do {
    size_t j1 = way[j0];
    row_of_col[j0] = row_of_col[j1];
    j0 = j1;
  } while (j0 != 0);
}

// Unbiased HSIC of two Gram matrices with zeroed diagonals (Song et al. 2012, eq. 5).
double hsic_u(const std::vector<double>& k, const std::vector<double>& l, size_t n) {
  double trace = 0, sum_k = 0, sum_l = 0, cross = 0;
  for (size_t i = 0; i < n; ++i) {
    double rk = 0, rl = 0;
    for (size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      double a = k[i * n + j], b = l[i * n + j];
      trace += a * b;
      rk += a;
      rl += b;
    }
    sum_k += rk;
    sum_l += rl;
    cross += rk * rl;
  }
  double nn = static_cast<double>(n);
  return (trace + sum_k * sum_l / ((nn - 1) * (nn - 2)) - 2.0 / (nn - 2) * cross) / (nn * (nn - 3));
}

}  // namespace

std::vector<size_t> solve_assignment(const std::vector<double>& input, size_t rows, size_t cols) {
  std::vector<double> cost(input);
  for (double& c : cost)
    if (!std::isfinite(c)) c = 0;  // a NaN would stall the augmenting-path search
  std::vector<double> u(rows + 1, 0), v(cols + 1, 0);
  std::vector<size_t> row_of_col(cols + 1, 0);
  for (size_t i = 1; i <= rows; ++i) augment(cost, cols, i, u, v, row_of_col);
  std::vector<size_t> col_of_row(rows, 0);
  for (size_t j = 1; j <= cols; ++j)
    if (row_of_col[j] != 0) col_of_row[row_of_col[j] - 1] = j - 1;
  return col_of_row;
}

std::vector<double> gram(const Matrix& m, bool samples_are_rows) {
  size_t n = samples_are_rows ? m.rows : m.cols;
  size_t f = samples_are_rows ? m.cols : m.rows;
  std::vector<double> k(n * n, 0.0);
  tbb::parallel_for(size_t{0}, n, [&](size_t i) {
    for (size_t j = i; j < n; ++j) {
      double s = 0;
      if (samples_are_rows) {
        const float* a = &m.v[i * m.cols];
        const float* b = &m.v[j * m.cols];
        for (size_t t = 0; t < f; ++t) s += static_cast<double>(a[t]) * b[t];
      } else {
        for (size_t t = 0; t < f; ++t) s += static_cast<double>(m.v[t * m.cols + i]) * m.v[t * m.cols + j];
      }
      k[i * n + j] = s;
    }
  });
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < i; ++j) k[i * n + j] = k[j * n + i];
  return k;
}

double unbiased_cka(const std::vector<double>& k, const std::vector<double>& l, size_t n) {
  if (n < 4) return 0.0;
  double kl = hsic_u(k, l, n), kk = hsic_u(k, k, n), ll = hsic_u(l, l, n);
  if (!(kk > 0) || !(ll > 0)) return 0.0;
  return std::clamp(kl / std::sqrt(kk * ll), -1.0, 1.0);
}

double spearman_rho_identity(const std::vector<size_t>& perm) {
  size_t n = perm.size();
  if (n < 2) return 0.0;
  double d2 = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = static_cast<double>(i) - static_cast<double>(perm[i]);
    d2 += d * d;
  }
  double nn = static_cast<double>(n);
  return 1.0 - 6.0 * d2 / (nn * (nn * nn - 1));
}

double log_normal_upper(double z) {
  if (z < 30) return std::log(0.5 * std::erfc(z / std::sqrt(2.0)));
  // Asymptotic series of the Mills ratio: P(Z > z) = phi(z)/z * (1 - 1/z^2 + 3/z^4 - 15/z^6 ...).
  double z2 = z * z;
  double series = 1 - 1 / z2 + 3 / (z2 * z2) - 15 / (z2 * z2 * z2);
  return -z2 / 2 - 0.5 * std::log(2 * M_PI) - std::log(z) + std::log(series);
}

double spearman_log_p(double rho, size_t n) {
  if (n < 2) return 0.0;
  return log_normal_upper(rho * std::sqrt(static_cast<double>(n) - 1));
}

double fisher_log_p(const std::vector<double>& log_p) {
  if (log_p.empty()) return 0.0;
  double half_x = 0;  // x/2 = -sum(log p)
  for (double lp : log_p) half_x -= lp;
  if (half_x <= 0) return 0.0;
  // Upper tail of chi-square with 2k dof: exp(-x/2) * sum_{j<k} (x/2)^j / j!, summed in log space.
  double max_term = -kInf;
  std::vector<double> terms(log_p.size());
  for (size_t j = 0; j < terms.size(); ++j) {
    terms[j] = static_cast<double>(j) * std::log(half_x) - std::lgamma(static_cast<double>(j) + 1);
    max_term = std::max(max_term, terms[j]);
  }
  double s = 0;
  for (double t : terms) s += std::exp(t - max_term);
  return std::min(0.0, -half_x + max_term + std::log(s));
}

double raw_cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  if (aa == 0 || bb == 0) return 0.0;
  return ab / std::sqrt(aa * bb);
}

namespace {

// Row sums s = X 1 (per feature) and squared column norms k_i = sum_f X[f][i]^2.
void feature_stats(const Matrix& x, std::vector<double>* row_sum, std::vector<double>* col_sq) {
  row_sum->assign(x.rows, 0.0);
  col_sq->assign(x.cols, 0.0);
  for (size_t f = 0; f < x.rows; ++f)
    for (size_t i = 0; i < x.cols; ++i) {
      double v = x.at(f, i);
      (*row_sum)[f] += v;
      (*col_sq)[i] += v * v;
    }
}

// Unbiased HSIC of K = X^T X and L = Y^T Y from the features (docs/lineage.md,
// "Stored fingerprints"): tr(K~L~) = ||X Y^T||^2 - sum k_i l_i,
// 1^T K~ 1 = ||X 1||^2 - sum k_i, K~ 1 = X^T (X 1) - k.
double hsic_u_features(const Matrix& x, const Matrix& y) {
  size_t n = x.cols;
  std::vector<double> sx, kx, sy, ky;
  feature_stats(x, &sx, &kx);
  feature_stats(y, &sy, &ky);
  std::vector<double> cross_xy(x.rows * y.rows, 0.0);
  tbb::parallel_for(size_t{0}, x.rows, [&](size_t f) {
    for (size_t g = 0; g < y.rows; ++g) {
      double s = 0;
      for (size_t i = 0; i < n; ++i) s += static_cast<double>(x.at(f, i)) * y.at(g, i);
      cross_xy[f * y.rows + g] = s;
    }
  });
  double trace = 0, kl_diag = 0, sum_k = 0, sum_l = 0, cross = 0;
  for (double c : cross_xy) trace += c * c;
  for (size_t i = 0; i < n; ++i) kl_diag += kx[i] * ky[i];
  for (double v : sx) sum_k += v * v;
  for (double v : sy) sum_l += v * v;
  for (size_t i = 0; i < n; ++i) {
    double a = -kx[i], b = -ky[i];
    for (size_t f = 0; f < x.rows; ++f) a += x.at(f, i) * sx[f];
    for (size_t g = 0; g < y.rows; ++g) b += y.at(g, i) * sy[g];
    cross += a * b;
  }
  for (double v : kx) sum_k -= v;
  for (double v : ky) sum_l -= v;
  trace -= kl_diag;
  double nn = static_cast<double>(n);
  return (trace + sum_k * sum_l / ((nn - 1) * (nn - 2)) - 2.0 / (nn - 2) * cross) / (nn * (nn - 3));
}

// Columns of `e` centred and scaled to unit norm over its rows, as float:
// returns [cols][stride], rows padded with zeros to `stride` (a multiple of 8).
std::vector<float> standardized_columns(const Matrix& e, size_t stride) {
  size_t d = e.cols, n = e.rows;
  std::vector<float> out(d * stride, 0.0f);
  tbb::parallel_for(size_t{0}, d, [&](size_t c) {
    double mean = 0, ss = 0;
    for (size_t r = 0; r < n; ++r) mean += e.at(r, c);
    mean /= static_cast<double>(n);
    for (size_t r = 0; r < n; ++r) {
      double x = e.at(r, c) - mean;
      ss += x * x;
    }
    double inv = ss > 0 ? 1 / std::sqrt(ss) : 0;
    for (size_t r = 0; r < n; ++r) out[c * stride + r] = static_cast<float>((e.at(r, c) - mean) * inv);
  });
  return out;
}

// Dot product of two float vectors of length `n` (a multiple of 8) in eight
// independent lanes, so the compiler can vectorize it without reassociating.
double dot8(const float* a, const float* b, size_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t r = 0; r < n; r += 8)
    for (size_t k = 0; k < 8; ++k) acc[k] += a[r + k] * b[r + k];
  double s = 0;
  for (float x : acc) s += x;
  return s;
}

std::vector<float> row_normalized(const Matrix& m) {
  std::vector<float> out(m.v);
  for (size_t r = 0; r < m.rows; ++r) {
    double ss = 0;
    for (size_t c = 0; c < m.cols; ++c) ss += static_cast<double>(m.at(r, c)) * m.at(r, c);
    float inv = ss > 0 ? static_cast<float>(1 / std::sqrt(ss)) : 0.0f;
    for (size_t c = 0; c < m.cols; ++c) out[r * m.cols + c] *= inv;
  }
  return out;
}

}  // namespace

double unbiased_cka_features(const Matrix& x, const Matrix& y) {
  size_t n = x.cols;
  if (n < 4 || y.cols != n || x.rows == 0 || y.rows == 0) return 0.0;
  double kl = hsic_u_features(x, y), kk = hsic_u_features(x, x), ll = hsic_u_features(y, y);
  if (!(kk > 0) || !(ll > 0)) return 0.0;
  return std::clamp(kl / std::sqrt(kk * ll), -1.0, 1.0);
}

double match_columns(const Matrix& a, const Matrix& b, std::vector<size_t>* perm, std::vector<float>* sign) {
  size_t d = a.cols, stride = (a.rows + 7) / 8 * 8;
  std::vector<float> ca = standardized_columns(a, stride), cb = standardized_columns(b, stride);
  std::vector<double> corr(d * d), cost(d * d);
  tbb::parallel_for(size_t{0}, d, [&](size_t i) {
    for (size_t j = 0; j < d; ++j) {
      double s = dot8(&ca[i * stride], &cb[j * stride], stride);
      corr[i * d + j] = s;
      cost[i * d + j] = -std::fabs(s);
    }
  });
  *perm = solve_assignment(cost, d, d);
  sign->resize(d);
  double sum = 0;
  for (size_t i = 0; i < d; ++i) {
    double c = corr[i * d + (*perm)[i]];
    (*sign)[i] = c < 0 ? -1.0f : 1.0f;
    sum += std::fabs(c);
  }
  return d ? sum / static_cast<double>(d) : 0.0;
}

double neuron_match_rho(const Matrix& gate_a, const Matrix& up_a, const Matrix& gate_b, const Matrix& up_b) {
  size_t n = up_a.rows, d = up_a.cols;
  bool gated = gate_a.rows > 0;
  std::vector<float> ga = row_normalized(gate_a), gb = row_normalized(gate_b);
  std::vector<float> ua = row_normalized(up_a), ub = row_normalized(up_b);
  std::vector<double> cost(n * n);
  tbb::parallel_for(size_t{0}, n, [&](size_t i) {
    for (size_t j = 0; j < n; ++j) {
      double g = 0, u = 0;
      for (size_t c = 0; gated && c < d; ++c) g += static_cast<double>(ga[i * d + c]) * gb[j * d + c];
      for (size_t c = 0; c < d; ++c) u += static_cast<double>(ua[i * d + c]) * ub[j * d + c];
      cost[i * n + j] = gated ? -(g + std::fabs(u)) : -u;
    }
  });
  return spearman_rho_identity(solve_assignment(cost, n, n));
}

}  // namespace pedigree
