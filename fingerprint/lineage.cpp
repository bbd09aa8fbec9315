// This file implements the lineage comparison: hidden-unit alignment by
// assignment on embedding-column correlations, per-layer unbiased CKA of Q, K
// and the MLP, layer matching by assignment, the Zhu et al. neuron-matching
// test with Fisher's method, raw cosine as a comparison column, the verdict.
#include "fingerprint/lineage.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <cstdio>
#include <tbb/parallel_for.h>

#include "fingerprint/lineage_arch.h"
#include "fingerprint/lineage_load.h"
#include "fingerprint/lineage_math.h"

namespace pedigree {
namespace {

constexpr size_t kMaxVocabRows = 8192;  // embedding rows used for the hidden-unit matching
constexpr size_t kHurefTokens = 256;    // fixed token ids seen through the HuRef invariants
constexpr uint64_t kMaxHidden = 8192;   // hidden x hidden assignment and Gram matrices (512 MiB each)
constexpr size_t kMaxNeurons = 16384;   // Zhu et al. test: neurons x neurons costs (2 GiB), O(n^3) time
constexpr uint64_t kMaxLayerMatchBytes = uint64_t{4} << 30;  // cached Q/K Grams of B when depths differ
constexpr double kLn10 = 2.302585092994046;

/// A's hidden unit i corresponds to B's unit perm[i] with sign sign[i].
struct Alignment {
  std::vector<size_t> perm;
  std::vector<float> sign;
  Matrix xa, xb;  ///< embedding rows of the HuRef token set, B's columns aligned
};

// Rows `ids` of `e`.
Matrix take_rows(const Matrix& e, const std::vector<size_t>& ids) {
  Matrix out{ids.size(), e.cols, std::vector<float>(ids.size() * e.cols)};
  for (size_t r = 0; r < ids.size(); ++r)
    std::copy_n(&e.v[ids[r] * e.cols], e.cols, &out.v[r * e.cols]);
  return out;
}

struct Side {
  const ModelArtifact* art;
  DecoderModel m;
};

bool align_hidden(const Side& a, const Side& b, Alignment* al, LineageReport* rep, Error* err) {
  Matrix ea, eb;
  if (!load_role(*a.art, a.m.embed, &ea, err) || !load_role(*b.art, b.m.embed, &eb, err)) return false;
  size_t v = ea.rows, d = ea.cols, n = std::min(v, kMaxVocabRows);
  std::vector<size_t> rows(n);
  for (size_t i = 0; i < n; ++i) rows[i] = i * v / n;
  rep->vocab_rows_used = n;
  rep->embed_match = match_columns(take_rows(ea, rows), take_rows(eb, rows), &al->perm, &al->sign);
  for (size_t i = 0; i < d; ++i) {
    rep->units_moved += al->perm[i] != i;
    rep->sign_flips += al->sign[i] < 0;
  }
  size_t t = std::min(v, kHurefTokens);
  std::vector<size_t> ids(t);
  for (size_t i = 0; i < t; ++i) ids[i] = i * v / t;
  al->xa = take_rows(ea, ids);
  al->xb = take_rows(eb, ids);
  return true;
}

// B's matrix with its hidden dimension expressed in A's units.
Matrix align_cols(const Matrix& m, const Alignment& al) {
  Matrix out{m.rows, m.cols, std::vector<float>(m.v.size())};
  for (size_t r = 0; r < m.rows; ++r)
    for (size_t i = 0; i < m.cols; ++i) out.at(r, i) = al.sign[i] * m.at(r, al.perm[i]);
  return out;
}

Matrix align_rows(const Matrix& m, const Alignment& al) {
  Matrix out{m.rows, m.cols, std::vector<float>(m.v.size())};
  for (size_t i = 0; i < m.rows; ++i)
    for (size_t c = 0; c < m.cols; ++c) out.at(i, c) = al.sign[i] * m.at(al.perm[i], c);
  return out;
}

/// The matrices of one layer: Q, K (HF row order), gate, up, down.
struct LayerMats {
  Matrix q, k, v, o, gate, up, down;
  bool has_mlp = false;  ///< up and down (GPT-2's c_fc and c_proj)
  bool gated = false;    ///< and a gate
  bool has_vo = false;
};

bool check_hidden(const Side& s, const Matrix& m, const std::string& name, bool hidden_is_cols, Error* err) {
  if ((hidden_is_cols ? m.cols : m.rows) == s.m.hidden) return true;
  return fail(err, s.art->root, std::nullopt,
              "tensor '" + name + "' shape [" + std::to_string(m.rows) + ", " + std::to_string(m.cols) +
                  "] does not match hidden size " + std::to_string(s.m.hidden));
}

bool load_layer(const Side& s, size_t l, const Alignment* al, LayerMats* out, Error* err) {
  const DecoderLayer& L = s.m.layers[l];
  const DecoderModel& m = s.m;
  if (!load_qk(*s.art, L.q, m.interleaved_qk, m.n_head, &out->q, err) ||
      !load_qk(*s.art, L.k, m.interleaved_qk, m.n_head_kv, &out->k, err) ||
      !check_hidden(s, out->q, role_name(L.q), true, err) || !check_hidden(s, out->k, role_name(L.k), true, err))
    return false;
  out->has_vo = L.v && L.o;
  if (out->has_vo && (!load_role(*s.art, L.v, &out->v, err) || !load_role(*s.art, L.o, &out->o, err) ||
                      !check_hidden(s, out->v, role_name(L.v), true, err) ||
                      !check_hidden(s, out->o, role_name(L.o), false, err)))
    return false;
  out->has_mlp = L.up && L.down;
  out->gated = out->has_mlp && L.gate;
  if (out->gated && (!load_role(*s.art, L.gate, &out->gate, err) || !check_hidden(s, out->gate, role_name(L.gate), true, err)))
    return false;
  if (out->has_mlp && (!load_role(*s.art, L.up, &out->up, err) || !load_role(*s.art, L.down, &out->down, err) ||
                       !check_hidden(s, out->up, role_name(L.up), true, err) ||
                       !check_hidden(s, out->down, role_name(L.down), false, err)))
    return false;
  if (!al) return true;
  out->q = align_cols(out->q, *al);
  out->k = align_cols(out->k, *al);
  if (out->has_vo) {
    out->v = align_cols(out->v, *al);
    out->o = align_rows(out->o, *al);
  }
  if (out->gated) out->gate = align_cols(out->gate, *al);
  if (out->has_mlp) {
    out->up = align_cols(out->up, *al);
    out->down = align_rows(out->down, *al);
  }
  return true;
}

/// Gram matrices over hidden units of one layer's matrices.
struct LayerGrams {
  std::vector<double> q, k, gate, up, down;
  bool has_mlp = false;
  bool gated = false;
};

LayerGrams grams_of(const LayerMats& m) {
  LayerGrams g;
  g.q = gram(m.q, false);
  g.k = gram(m.k, false);
  g.has_mlp = m.has_mlp;
  g.gated = m.gated;
  if (m.gated) g.gate = gram(m.gate, false);
  if (m.has_mlp) {
    g.up = gram(m.up, false);
    g.down = gram(m.down, true);
  }
  return g;
}

LineageLayer score_pair(const LayerGrams& a, const LayerGrams& b, size_t d) {
  LineageLayer r;
  r.cka_q = unbiased_cka(a.q, b.q, d);
  r.cka_k = unbiased_cka(a.k, b.k, d);
  r.score = (r.cka_q + r.cka_k) / 2;
  r.has_mlp = a.has_mlp && b.has_mlp && a.gated == b.gated;
  if (!r.has_mlp) return r;
  double sum = unbiased_cka(a.up, b.up, d) + unbiased_cka(a.down, b.down, d);
  r.cka_mlp = a.gated ? (sum + unbiased_cka(a.gate, b.gate, d)) / 3 : sum / 2;
  return r;
}

// Zhu et al.: Spearman's rho of the MLP neuron matching and its p-value.
void neuron_test(const LayerMats& a, const LayerMats& b, LineageLayer* r) {
  r->spearman_rho = neuron_match_rho(a.gate, a.up, b.gate, b.up);
  r->log10_p = spearman_log_p(*r->spearman_rho, a.up.rows) / kLn10;
}

// Whether the neuron test applies: MLPs of the same kind and width.
bool neurons_match(const LayerMats& a, const LayerMats& b) {
  if (!a.has_mlp || !b.has_mlp || a.gated != b.gated || a.up.rows != b.up.rows || a.up.rows > kMaxNeurons) return false;
  return !a.gated || (a.gate.rows == a.up.rows && b.gate.rows == b.up.rows);
}

// X W^T for W [out, hidden] (`w_reads`), else X W for W [hidden, in]: a t x out matrix.
std::vector<double> project(const Matrix& x, const Matrix& w, bool w_reads) {
  size_t t = x.rows, d = x.cols, o = w_reads ? w.rows : w.cols;
  std::vector<double> p(t * o, 0.0);
  tbb::parallel_for(size_t{0}, t, [&](size_t r) {
    for (size_t c = 0; c < o; ++c) {
      double s = 0;
      for (size_t k = 0; k < d; ++k) s += static_cast<double>(x.at(r, k)) * (w_reads ? w.at(c, k) : w.at(k, c));
      p[r * o + c] = s;
    }
  });
  return p;
}

// HuRef invariant P1 P2^T (t x t), standardized to mean 0 and unit norm.
std::vector<double> invariant(const std::vector<double>& p1, const std::vector<double>& p2, size_t t) {
  size_t o = p1.size() / t;
  std::vector<double> m(t * t);
  for (size_t i = 0; i < t; ++i)
    for (size_t j = 0; j < t; ++j) {
      double s = 0;
      for (size_t k = 0; k < o; ++k) s += p1[i * o + k] * p2[j * o + k];
      m[i * t + j] = s;
    }
  double mean = std::accumulate(m.begin(), m.end(), 0.0) / static_cast<double>(m.size()), ss = 0;
  for (double& x : m) x -= mean, ss += x * x;
  double inv = ss > 0 ? 1 / std::sqrt(ss) : 0;
  for (double& x : m) x *= inv;
  return m;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}

// HuRef-style: X Wq^T Wk X^T, X Wv^T Wo^T X^T and X Wup^T Wdown^T X^T of each
// model through its own embeddings of a fixed token set; mean standardized cosine.
std::optional<double> huref(const LayerMats& a, const LayerMats& b, const Alignment& al) {
  size_t t = al.xa.rows;
  std::vector<double> sims;
  auto add = [&](const Matrix& a1, bool r1, const Matrix& a2, bool r2, const Matrix& b1, const Matrix& b2) {
    std::vector<double> pa1 = project(al.xa, a1, r1), pa2 = project(al.xa, a2, r2);
    std::vector<double> pb1 = project(al.xb, b1, r1), pb2 = project(al.xb, b2, r2);
    if (pa1.size() != pa2.size() || pb1.size() != pb2.size()) return;  // e.g. grouped-query K
    sims.push_back(dot(invariant(pa1, pa2, t), invariant(pb1, pb2, t)));
  };
  add(a.q, true, a.k, true, b.q, b.k);
  if (a.has_vo && b.has_vo) add(a.v, true, a.o, false, b.v, b.o);
  if (a.has_mlp && b.has_mlp) add(a.up, true, a.down, false, b.up, b.down);
  if (sims.empty()) return std::nullopt;
  return std::accumulate(sims.begin(), sims.end(), 0.0) / static_cast<double>(sims.size());
}

// Pairs of layers to compare: the diagonal when depths agree, else an assignment
// maximizing the summed layer score (computed for every pair).
bool match_layers(const Side& a, const Side& b, const Alignment& al, std::vector<std::pair<size_t, size_t>>* pairs,
                  Error* err) {
  size_t la = a.m.layers.size(), lb = b.m.layers.size();
  if (la == lb) {
    for (size_t i = 0; i < la; ++i) pairs->emplace_back(i, i);
    return true;
  }
  size_t d = a.m.hidden;
  uint64_t need = static_cast<uint64_t>(lb) * 2 * d * d * sizeof(double);
  if (need > kMaxLayerMatchBytes)
    return fail(err, "", std::nullopt,
                "matching " + std::to_string(la) + " layers to " + std::to_string(lb) + " needs " + human_bytes(need) +
                    ", more than " + human_bytes(kMaxLayerMatchBytes));
  std::vector<LayerGrams> gb(lb);
  for (size_t j = 0; j < lb; ++j) {
    LayerMats m;
    if (!load_layer(b, j, &al, &m, err)) return false;
    m.has_mlp = m.gated = false;  // Q and K decide the matching
    gb[j] = grams_of(m);
  }
  size_t rows = std::min(la, lb), cols = std::max(la, lb);
  std::vector<double> cost(rows * cols);
  for (size_t i = 0; i < la; ++i) {
    LayerMats m;
    if (!load_layer(a, i, nullptr, &m, err)) return false;
    m.has_mlp = m.gated = false;
    LayerGrams g = grams_of(m);
    for (size_t j = 0; j < lb; ++j) {
      double s = score_pair(g, gb[j], d).score;
      (la <= lb ? cost[i * cols + j] : cost[j * cols + i]) = -s;
    }
  }
  std::vector<size_t> match = solve_assignment(cost, rows, cols);
  for (size_t r = 0; r < rows; ++r) pairs->push_back(la <= lb ? std::make_pair(r, match[r]) : std::make_pair(match[r], r));
  std::sort(pairs->begin(), pairs->end());
  return true;
}

// All scores of layer i of A against layer j of B.
bool score_pair_of_layers(const Side& a, const Side& b, const Alignment& al, size_t i, size_t j, LineageLayer* r,
                          Error* err) {
  LayerMats ma, mb;
  Matrix raw_q;
  if (!load_layer(a, i, nullptr, &ma, err) || !load_layer(b, j, &al, &mb, err) ||
      !load_qk(*b.art, b.m.layers[j].q, b.m.interleaved_qk, b.m.n_head, &raw_q, err))
    return false;
  *r = score_pair(grams_of(ma), grams_of(mb), a.m.hidden);
  r->a = i, r->b = j;
  if (ma.q.rows == raw_q.rows && ma.q.cols == raw_q.cols) r->raw_cosine = raw_cosine(ma.q.v, raw_q.v);
  if (neurons_match(ma, mb)) neuron_test(ma, mb, r);
  r->huref = huref(ma, mb, al);
  return true;
}

// Mean of the values present; nullopt when none is.
std::optional<double> mean_of(const std::vector<LineageLayer>& layers, std::optional<double> LineageLayer::*field) {
  double sum = 0;
  size_t n = 0;
  for (const LineageLayer& l : layers)
    if (l.*field) sum += *(l.*field), ++n;
  if (n == 0) return std::nullopt;
  return sum / static_cast<double>(n);
}

bool score_layers(const Side& a, const Side& b, const Alignment& al, LineageReport* rep, Error* err) {
  std::vector<std::pair<size_t, size_t>> pairs;
  if (!match_layers(a, b, al, &pairs, err)) return false;
  std::vector<double> log_p;
  for (auto [i, j] : pairs) {
    LineageLayer r;
    if (!score_pair_of_layers(a, b, al, i, j, &r, err)) return false;
    if (r.log10_p) log_p.push_back(*r.log10_p * kLn10);
    rep->primary += r.score;
    rep->layers.push_back(r);
  }
  rep->primary /= static_cast<double>(pairs.size());
  rep->raw_cosine = mean_of(rep->layers, &LineageLayer::raw_cosine);
  rep->huref = mean_of(rep->layers, &LineageLayer::huref);
  if (log_p.empty())
    rep->zhu_note = "not run: no matched layer pair has MLPs of equal shape with at most " +
                    std::to_string(kMaxNeurons) + " neurons";
  else rep->fisher_log10_p = fisher_log_p(log_p) / kLn10;
  return true;
}

std::string num(double v, int prec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::string p_text(double log10_p) { return "1e" + num(log10_p, 1); }

}  // namespace

void decide_lineage(LineageReport* r) {
  std::string p = r->fisher_log10_p ? "Fisher-combined p = " + p_text(*r->fisher_log10_p) : "independence test not run";
  std::string score = "primary score " + num(r->primary, 3);
  bool test_rejects = r->fisher_log10_p && *r->fisher_log10_p < kDerivedLog10P;
  bool test_quiet = !r->fisher_log10_p || *r->fisher_log10_p >= kIndependentLog10P;
  if (r->primary >= kDerivedScore) {
    r->verdict = "derived";
    r->reason = score + " >= " + num(kDerivedScore, 1) + " (" + p + ")";
  } else if (test_rejects) {
    r->verdict = "derived";
    r->reason = p + " < " + p_text(kDerivedLog10P) + " (" + score + ")";
  } else if (r->primary < kIndependentScore && test_quiet) {
    r->verdict = "independent";
    r->reason = score + " < " + num(kIndependentScore, 1) + " and " + p +
                (r->fisher_log10_p ? " >= " + p_text(kIndependentLog10P) : "");
  } else {
    r->verdict = "inconclusive";
    r->reason = score + " is not below " + num(kIndependentScore, 1) + " nor at least " + num(kDerivedScore, 1) +
                ", or " + p + " is between " + p_text(kDerivedLog10P) + " and " + p_text(kIndependentLog10P);
  }
}

bool compare_lineage(const ModelArtifact& a, const TensorIndex& ia, const ModelArtifact& b, const TensorIndex& ib,
                     LineageReport* out, Error* err) {
  Side sa{&a, {}}, sb{&b, {}};
  if (!map_decoder(a, ia, &sa.m, err) || !map_decoder(b, ib, &sb.m, err)) return false;
  if (!archs_comparable(sa.m.arch, sa.m.arch_declared, sb.m.arch, sb.m.arch_declared))
    return fail(err, "", std::nullopt,
                "architectures differ: " + a.root + " is " + arch_label(sa.m.arch, sa.m.arch_declared) + ", " +
                    b.root + " is " + arch_label(sb.m.arch, sb.m.arch_declared));
  if (sa.m.vocab != sb.m.vocab)
    return fail(err, "", std::nullopt,
                "vocabulary sizes differ: " + a.root + " has " + std::to_string(sa.m.vocab) + " tokens, " + b.root +
                    " has " + std::to_string(sb.m.vocab) + " tokens");
  if (sa.m.hidden != sb.m.hidden)
    return fail(err, "", std::nullopt,
                "hidden sizes differ: " + a.root + " has " + std::to_string(sa.m.hidden) + ", " + b.root + " has " +
                    std::to_string(sb.m.hidden));
  if (sa.m.hidden > kMaxHidden)
    return fail(err, "", std::nullopt,
                "hidden size " + std::to_string(sa.m.hidden) + " exceeds " + std::to_string(kMaxHidden));
  *out = LineageReport{};
  out->arch_a = arch_label(sa.m.arch, sa.m.arch_declared);
  out->arch_b = arch_label(sb.m.arch, sb.m.arch_declared);
  out->vocab = sa.m.vocab;
  out->hidden = sa.m.hidden;
  out->layers_a = sa.m.layers.size();
  out->layers_b = sb.m.layers.size();
  Alignment al;
  if (!align_hidden(sa, sb, &al, out, err)) return false;
  al.xb = align_cols(al.xb, al);
  if (!score_layers(sa, sb, al, out, err)) return false;
  decide_lineage(out);
  return true;
}

}  // namespace pedigree
