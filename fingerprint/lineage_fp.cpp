// This file implements the stored lineage fingerprint: building it from a
// model (sampled rows only), the binary format and its checked parser, and the
// comparison of two fingerprints (alignment, CKA from features, Zhu et al. on
// sampled neurons, layer matching, verdict). See docs/lineage.md.
#include "fingerprint/lineage_fp.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "fingerprint/lineage_arch.h"
#include "fingerprint/lineage_load.h"
#include "fingerprint/mapped_file.h"

namespace pedigree {
namespace {

constexpr char kMagic[8] = {'P', 'D', 'G', 'L', 'N', 'F', 'P', '\0'};
constexpr uint64_t kMaxFpHidden = 8192;
constexpr uint64_t kMaxFpLayers = 4096;
constexpr uint64_t kMaxFpRows = 8192;            // rows of any one block
constexpr uint64_t kMaxFpOut = uint64_t{1} << 24;  // q_out, k_out, ffn, vocab
constexpr uint32_t kMaxFpArch = 32;              // architecture name bytes
constexpr uint64_t kEmbedBudget = uint64_t{1} << 20;
constexpr uint64_t kRoleBudget = uint64_t{48} << 10;
constexpr double kLn10 = 2.302585092994046;

// n ids spread evenly over [0, total): i * total / n (all ids when n >= total).
std::vector<uint64_t> spread(uint64_t total, uint64_t n) {
  n = std::min(n, total);
  std::vector<uint64_t> ids(n);
  for (uint64_t i = 0; i < n; ++i) ids[i] = i * total / n;
  return ids;
}

// GGUF row holding Hugging Face row x of a Q/K matrix with `heads` heads.
uint64_t gguf_row_of(uint64_t x, uint64_t rows, uint64_t heads) {
  uint64_t hd = rows / heads, half = hd / 2, h = x / hd, w = x % hd;
  return h * hd + 2 * (w % half) + w / half;
}

bool sample_qk(const ModelArtifact& art, const DecoderModel& m, const RoleMatrix& t, uint64_t heads, uint64_t r,
               Int8Rows* out, uint64_t* out_rows, Error* err) {
  uint64_t rows = t.rows;
  std::vector<uint64_t> ids = spread(rows, r);
  if (m.interleaved_qk) {
    if (heads == 0 || rows % (2 * heads) != 0)
      return fail(err, art.root, std::nullopt,
                  "tensor '" + role_name(t) + "' has " + std::to_string(rows) + " rows, not a multiple of 2 x " +
                      std::to_string(heads) + " heads");
    for (uint64_t& id : ids) id = gguf_row_of(id, rows, heads);
  }
  Matrix mat;
  if (!load_role_rows(art, t, ids, &mat, err)) return false;
  *out = quantize_rows(mat);
  *out_rows = rows;
  return true;
}

bool check_cols(const ModelArtifact& art, const RoleMatrix& t, uint64_t hidden, Error* err) {
  if (t.cols == hidden) return true;
  return fail(err, art.root, std::nullopt,
              "tensor '" + role_name(t) + "' shape [" + std::to_string(t.rows) + ", " + std::to_string(t.cols) +
                  "] does not match hidden size " + std::to_string(hidden));
}

bool build_layer(const ModelArtifact& art, const DecoderModel& m, const DecoderLayer& L, const FpPlan& plan,
                 FpLayer* out, Error* err) {
  if (!check_cols(art, L.q, m.hidden, err) || !check_cols(art, L.k, m.hidden, err) ||
      !sample_qk(art, m, L.q, m.n_head, plan.qk_rows, &out->q, &out->q_out, err) ||
      !sample_qk(art, m, L.k, m.n_head_kv, plan.qk_rows, &out->k, &out->k_out, err))
    return false;
  bool gated = static_cast<bool>(L.gate);
  if (!L.up || (gated && L.up.rows != L.gate.rows)) return true;
  if (!check_cols(art, L.up, m.hidden, err) || (gated && !check_cols(art, L.gate, m.hidden, err))) return false;
  std::vector<uint64_t> ids = spread(L.up.rows, plan.neurons);
  Matrix g, u;
  if (!load_role_rows(art, L.up, ids, &u, err) || (gated && !load_role_rows(art, L.gate, ids, &g, err)))
    return false;
  out->ffn = L.up.rows;
  out->gated = gated;
  if (gated) out->gate = quantize_rows(g);
  out->up = quantize_rows(u);
  return true;
}

// ---- binary format ----

void put_u32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}

void put_u64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}

void put_rows(std::string* s, const Int8Rows& r) {
  put_u64(s, r.rows);
  put_u64(s, r.cols);
  for (float f : r.scale) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    put_u32(s, b);
  }
  s->append(reinterpret_cast<const char*>(r.q.data()), r.q.size());
}

/// A bounds-checked little-endian reader over untrusted bytes.
struct Reader {
  std::string_view b;
  uint64_t pos = 0;
  const std::string& where;
  Error* err;

  uint64_t left() const { return b.size() - pos; }
  bool need(uint64_t n, const std::string& what) {
    if (n <= left()) return true;
    return fail(err, where, pos, what + " needs " + std::to_string(n) + " bytes, " + std::to_string(left()) + " left");
  }
  bool u32(uint32_t* v, const std::string& what) {
    if (!need(4, what)) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= static_cast<uint32_t>(static_cast<uint8_t>(b[pos + i])) << (8 * i);
    pos += 4;
    return true;
  }
  bool u64(uint64_t* v, const std::string& what) {
    if (!need(8, what)) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= static_cast<uint64_t>(static_cast<uint8_t>(b[pos + i])) << (8 * i);
    pos += 8;
    return true;
  }
  bool bad(const std::string& msg) { return fail(err, where, pos, msg); }
};

bool get_count(Reader& r, const std::string& what, uint64_t lo, uint64_t hi, uint64_t* v) {
  uint64_t at = r.pos;
  if (!r.u64(v, what)) return false;
  if (*v < lo || *v > hi)
    return fail(r.err, r.where, at,
                what + " " + count_str(*v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  return true;
}

bool get_rows(Reader& r, const std::string& what, uint64_t max_rows, uint64_t cols, Int8Rows* out) {
  if (!get_count(r, what + " rows", 1, std::min(max_rows, kMaxFpRows), &out->rows)) return false;
  if (!get_count(r, what + " columns", cols, cols, &out->cols)) return false;
  uint64_t bytes = out->rows * (4 + cols);  // both capped: no overflow
  if (!r.need(bytes, what + " data (" + std::to_string(out->rows) + " rows)")) return false;
  out->scale.resize(out->rows);
  for (float& f : out->scale) {
    uint32_t bits = 0;  // need() above guarantees the read
    r.u32(&bits, what);
    std::memcpy(&f, &bits, 4);
    if (!std::isfinite(f) || f < 0) return r.bad(what + " has a negative or non-finite row scale");
  }
  out->q.resize(out->rows * cols);
  std::memcpy(out->q.data(), r.b.data() + r.pos, out->q.size());
  r.pos += out->q.size();
  return true;
}

bool get_layer(Reader& r, uint32_t version, size_t i, uint64_t hidden, FpLayer* l) {
  std::string w = "layer " + std::to_string(i);
  uint64_t gated = 1;
  if (!get_count(r, w + " q_out", 1, kMaxFpOut, &l->q_out) || !get_count(r, w + " k_out", 1, kMaxFpOut, &l->k_out) ||
      !get_count(r, w + " ffn", 0, kMaxFpOut, &l->ffn) ||
      (version >= 2 && !get_count(r, w + " gated", 0, l->ffn ? 1 : 0, &gated)) ||
      !get_rows(r, w + " q", l->q_out, hidden, &l->q) || !get_rows(r, w + " k", l->k_out, hidden, &l->k))
    return false;
  l->gated = l->ffn && gated;
  if (l->ffn == 0) return true;
  if (l->gated && !get_rows(r, w + " gate", l->ffn, hidden, &l->gate)) return false;
  return get_rows(r, w + " up", l->ffn, hidden, &l->up) &&
         (!l->gated || l->up.rows == l->gate.rows || r.bad(w + " gate and up keep different neuron counts"));
}

// v2: the architecture name (1..32 bytes of [a-z0-9._-]) and whether the model declared it.
bool get_arch(Reader& r, LineageFp* fp) {
  uint64_t at = r.pos;
  uint32_t len = 0, declared = 0;
  if (!r.u32(&len, "architecture length")) return false;
  if (len < 1 || len > kMaxFpArch)
    return fail(r.err, r.where, at, "architecture length " + std::to_string(len) + " is outside 1.." +
                                        std::to_string(kMaxFpArch));
  if (!r.need(len, "architecture")) return false;
  fp->arch.assign(r.b.substr(r.pos, len));
  for (char c : fp->arch)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return r.bad("architecture '" + escape_bytes(fp->arch, true, 32) + "' has a byte outside [a-z0-9._-]");
  r.pos += len;
  at = r.pos;
  if (!r.u32(&declared, "architecture flags")) return false;
  if (declared > 1)
    return fail(r.err, r.where, at, "architecture flags " + std::to_string(declared) + " is not 0 or 1");
  fp->arch_declared = declared == 1;
  return true;
}

// ---- comparison ----

Matrix align_cols(const Matrix& m, const std::vector<size_t>& perm, const std::vector<float>& sign) {
  Matrix out{m.rows, m.cols, std::vector<float>(m.v.size())};
  for (size_t r = 0; r < m.rows; ++r)
    for (size_t i = 0; i < m.cols; ++i) out.at(r, i) = sign[i] * m.at(r, perm[i]);
  return out;
}

/// One layer's dequantized sample matrices.
struct LayerF {
  Matrix q, k, gate, up;
  Matrix raw_q;  ///< B only: Q rows before alignment
  bool mlp = false;
  bool gated = false;
};

LayerF layer_floats(const FpLayer& l, const std::vector<size_t>* perm, const std::vector<float>* sign) {
  LayerF f;
  f.q = dequantize_rows(l.q);
  f.k = dequantize_rows(l.k);
  f.mlp = l.ffn > 0;
  f.gated = f.mlp && l.gated;
  if (f.gated) f.gate = dequantize_rows(l.gate);
  if (f.mlp) f.up = dequantize_rows(l.up);
  if (!perm) return f;
  f.raw_q = f.q;
  f.q = align_cols(f.q, *perm, *sign);
  f.k = align_cols(f.k, *perm, *sign);
  if (f.gated) f.gate = align_cols(f.gate, *perm, *sign);
  if (f.mlp) f.up = align_cols(f.up, *perm, *sign);
  return f;
}

LineageLayer score_layers(const FpLayer& la, const LayerF& a, const FpLayer& lb, const LayerF& b, bool full) {
  LineageLayer r;
  r.cka_q = unbiased_cka_features(a.q, b.q);
  r.cka_k = unbiased_cka_features(a.k, b.k);
  r.score = (r.cka_q + r.cka_k) / 2;
  if (!full) return r;
  r.has_mlp = a.mlp && b.mlp && a.gated == b.gated;
  if (r.has_mlp)
    r.cka_mlp = a.gated ? (unbiased_cka_features(a.gate, b.gate) + unbiased_cka_features(a.up, b.up)) / 2
                        : unbiased_cka_features(a.up, b.up);
  if (la.q_out == lb.q_out && a.q.rows == b.raw_q.rows) r.raw_cosine = raw_cosine(a.q.v, b.raw_q.v);
  if (r.has_mlp && la.ffn == lb.ffn && a.up.rows == b.up.rows) {
    r.spearman_rho = neuron_match_rho(a.gate, a.up, b.gate, b.up);
    r.log10_p = spearman_log_p(*r.spearman_rho, a.up.rows) / kLn10;
  }
  return r;
}

std::vector<std::pair<size_t, size_t>> match_layers(const std::vector<LayerF>& fa, const std::vector<LayerF>& fb,
                                                    const LineageFp& a, const LineageFp& b) {
  std::vector<std::pair<size_t, size_t>> pairs;
  size_t la = fa.size(), lb = fb.size();
  if (la == lb) {
    for (size_t i = 0; i < la; ++i) pairs.emplace_back(i, i);
    return pairs;
  }
  size_t rows = std::min(la, lb), cols = std::max(la, lb);
  std::vector<double> cost(rows * cols);
  for (size_t i = 0; i < la; ++i)
    for (size_t j = 0; j < lb; ++j) {
      double s = score_layers(a.layers[i], fa[i], b.layers[j], fb[j], false).score;
      (la <= lb ? cost[i * cols + j] : cost[j * cols + i]) = -s;
    }
  std::vector<size_t> match = solve_assignment(cost, rows, cols);
  for (size_t r = 0; r < rows; ++r) pairs.push_back(la <= lb ? std::make_pair(r, match[r]) : std::make_pair(match[r], r));
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

std::optional<double> mean_raw_cosine(const std::vector<LineageLayer>& layers) {
  double sum = 0;
  size_t n = 0;
  for (const LineageLayer& l : layers)
    if (l.raw_cosine) sum += *l.raw_cosine, ++n;
  if (n == 0) return std::nullopt;
  return sum / static_cast<double>(n);
}

}  // namespace

FpPlan default_fp_plan(uint64_t hidden) {
  uint64_t vec = hidden + 4;
  FpPlan p;
  p.embed_rows = std::clamp<uint64_t>(kEmbedBudget / vec, 64, kMaxFpRows);
  p.qk_rows = std::clamp<uint64_t>(kRoleBudget / vec, 8, kMaxFpRows);
  p.neurons = p.qk_rows;
  return p;
}

Int8Rows quantize_rows(const Matrix& m) {
  Int8Rows r{m.rows, m.cols, std::vector<float>(m.rows), std::vector<int8_t>(m.rows * m.cols)};
  for (size_t i = 0; i < m.rows; ++i) {
    float mx = 0;
    for (size_t c = 0; c < m.cols; ++c) mx = std::max(mx, std::fabs(m.at(i, c)));
    float s = mx / 127.0f, inv = mx > 0 ? 127.0f / mx : 0.0f;
    r.scale[i] = s;
    for (size_t c = 0; c < m.cols; ++c)
      r.q[i * m.cols + c] = static_cast<int8_t>(std::clamp(std::lround(m.at(i, c) * inv), -127L, 127L));
  }
  return r;
}

Matrix dequantize_rows(const Int8Rows& r) {
  Matrix m{r.rows, r.cols, std::vector<float>(r.rows * r.cols)};
  for (size_t i = 0; i < r.rows; ++i)
    for (size_t c = 0; c < r.cols; ++c) m.v[i * r.cols + c] = r.scale[i] * static_cast<float>(r.q[i * r.cols + c]);
  return m;
}

bool build_lineage_fp(const ModelArtifact& art, const TensorIndex& idx, const FpPlan& wanted, LineageFp* out,
                      Error* err) {
  DecoderModel m;
  if (!map_decoder(art, idx, &m, err)) return false;
  FpPlan plan = wanted.embed_rows ? wanted : default_fp_plan(m.hidden);
  if (m.hidden > kMaxFpHidden)
    return fail(err, art.root, std::nullopt,
                "hidden size " + std::to_string(m.hidden) + " exceeds " + std::to_string(kMaxFpHidden));
  *out = LineageFp{};
  out->arch = m.arch;
  out->arch_declared = m.arch_declared;
  out->vocab = m.vocab;
  out->hidden = m.hidden;
  Matrix e;
  if (!load_role_rows(art, m.embed, spread(m.vocab, plan.embed_rows), &e, err)) return false;
  out->embed = quantize_rows(e);
  out->layers.resize(m.layers.size());
  for (size_t l = 0; l < m.layers.size(); ++l)
    if (!build_layer(art, m, m.layers[l], plan, &out->layers[l], err)) return false;
  return true;
}

std::string serialize_lineage_fp(const LineageFp& fp) {
  std::string s(kMagic, sizeof kMagic);
  put_u32(&s, fp.version);
  put_u32(&s, static_cast<uint32_t>(fp.layers.size()));
  put_u64(&s, fp.vocab);
  put_u64(&s, fp.hidden);
  if (fp.version >= 2) {
    put_u32(&s, static_cast<uint32_t>(fp.arch.size()));
    s += fp.arch;
    put_u32(&s, fp.arch_declared ? 1 : 0);
  }
  put_rows(&s, fp.embed);
  for (const FpLayer& l : fp.layers) {
    put_u64(&s, l.q_out);
    put_u64(&s, l.k_out);
    put_u64(&s, l.ffn);
    if (fp.version >= 2) put_u64(&s, l.gated ? 1 : 0);
    put_rows(&s, l.q);
    put_rows(&s, l.k);
    if (l.ffn && l.gated) put_rows(&s, l.gate);
    if (l.ffn) put_rows(&s, l.up);
  }
  return s;
}

bool parse_lineage_fp(std::string_view bytes, const std::string& where, LineageFp* out, Error* err) {
  if (bytes.size() > kMaxLineageFpBytes)
    return fail(err, where, std::nullopt,
                "fingerprint size " + human_bytes(bytes.size()) + " exceeds " + human_bytes(kMaxLineageFpBytes));
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return fail(err, where, 0, "not a lineage fingerprint (bad magic)");
  Reader r{bytes, sizeof kMagic, where, err};
  uint32_t version = 0, layers = 0;
  if (!r.u32(&version, "version")) return false;
  if (version < 1 || version > kLineageFpVersion)
    return fail(err, where, 8, "fingerprint version " + std::to_string(version) + " is not supported (want 1.." +
                                   std::to_string(kLineageFpVersion) + ")");
  if (!r.u32(&layers, "layer count")) return false;
  if (layers < 1 || layers > kMaxFpLayers)
    return fail(err, where, 12, "layer count " + std::to_string(layers) + " is outside 1.." + std::to_string(kMaxFpLayers));
  LineageFp fp;
  fp.version = version;  // v1: llama-style names, every MLP gated
  if (!get_count(r, "vocab", 4, kMaxFpOut, &fp.vocab) || !get_count(r, "hidden", 4, kMaxFpHidden, &fp.hidden) ||
      (version >= 2 && !get_arch(r, &fp)) || !get_rows(r, "embedding", fp.vocab, fp.hidden, &fp.embed))
    return false;
  fp.layers.resize(layers);
  for (size_t i = 0; i < layers; ++i)
    if (!get_layer(r, version, i, fp.hidden, &fp.layers[i])) return false;
  if (r.left() != 0) return r.bad(std::to_string(r.left()) + " trailing bytes after the last layer");
  *out = std::move(fp);
  return true;
}

bool is_lineage_fp_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char head[sizeof kMagic];
  bool yes = std::fread(head, 1, sizeof head, f) == sizeof head && std::memcmp(head, kMagic, sizeof kMagic) == 0;
  std::fclose(f);
  return yes;
}

bool read_lineage_fp_file(const std::string& path, LineageFp* out, Error* err) {
  auto f = MappedFile::open(path, err);
  if (!f) return false;
  std::string_view bytes(reinterpret_cast<const char*>(f->data()), f->size());
  return parse_lineage_fp(bytes, path, out, err);
}

std::string fp_incompatibility(const LineageFp& a, const LineageFp& b) {
  if (!archs_comparable(a.arch, a.arch_declared, b.arch, b.arch_declared))
    return "architectures differ: " + arch_label(a.arch, a.arch_declared) + " vs " +
           arch_label(b.arch, b.arch_declared);
  if (a.vocab != b.vocab)
    return "vocabulary sizes differ: " + std::to_string(a.vocab) + " vs " + std::to_string(b.vocab) + " tokens";
  if (a.hidden != b.hidden)
    return "hidden sizes differ: " + std::to_string(a.hidden) + " vs " + std::to_string(b.hidden);
  if (a.embed.rows != b.embed.rows)
    return "embedding samples differ: " + std::to_string(a.embed.rows) + " vs " + std::to_string(b.embed.rows) +
           " rows";
  return "";
}

bool compare_fingerprints(const LineageFp& a, const LineageFp& b, const std::string& name_a,
                          const std::string& name_b, LineageReport* out, Error* err) {
  if (!archs_comparable(a.arch, a.arch_declared, b.arch, b.arch_declared))
    return fail(err, "", std::nullopt,
                "architectures differ: " + name_a + " is " + arch_label(a.arch, a.arch_declared) + ", " + name_b +
                    " is " + arch_label(b.arch, b.arch_declared));
  if (a.vocab != b.vocab)
    return fail(err, "", std::nullopt,
                "vocabulary sizes differ: " + name_a + " has " + std::to_string(a.vocab) + " tokens, " + name_b +
                    " has " + std::to_string(b.vocab) + " tokens");
  if (a.hidden != b.hidden)
    return fail(err, "", std::nullopt,
                "hidden sizes differ: " + name_a + " has " + std::to_string(a.hidden) + ", " + name_b + " has " +
                    std::to_string(b.hidden));
  if (std::string why = fp_incompatibility(a, b); !why.empty()) return fail(err, "", std::nullopt, why);
  *out = LineageReport{};
  out->arch_a = arch_label(a.arch, a.arch_declared);
  out->arch_b = arch_label(b.arch, b.arch_declared);
  out->vocab = a.vocab;
  out->hidden = a.hidden;
  out->layers_a = a.layers.size();
  out->layers_b = b.layers.size();
  out->vocab_rows_used = a.embed.rows;
  std::vector<size_t> perm;
  std::vector<float> sign;
  out->embed_match = match_columns(dequantize_rows(a.embed), dequantize_rows(b.embed), &perm, &sign);
  for (size_t i = 0; i < perm.size(); ++i) out->units_moved += perm[i] != i, out->sign_flips += sign[i] < 0;
  std::vector<LayerF> fa, fb;
  for (const FpLayer& l : a.layers) fa.push_back(layer_floats(l, nullptr, nullptr));
  for (const FpLayer& l : b.layers) fb.push_back(layer_floats(l, &perm, &sign));
  std::vector<double> log_p;
  for (auto [i, j] : match_layers(fa, fb, a, b)) {
    LineageLayer r = score_layers(a.layers[i], fa[i], b.layers[j], fb[j], true);
    r.a = i, r.b = j;
    if (r.log10_p) log_p.push_back(*r.log10_p * kLn10);
    out->primary += r.score;
    out->layers.push_back(r);
  }
  out->primary /= static_cast<double>(out->layers.size());
  out->raw_cosine = mean_raw_cosine(out->layers);
  if (log_p.empty()) out->zhu_note = "not run: no matched layer pair has MLPs of equal width in both fingerprints";
  else out->fisher_log10_p = fisher_log_p(log_p) / kLn10;
  decide_lineage(out);
  return true;
}

}  // namespace pedigree
