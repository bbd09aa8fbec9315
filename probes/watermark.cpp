// This file implements the watermark PRF, key files, the kgw and gumbel
// schemes and the deduplicating scorer declared in probes/watermark.h. The
// byte layout of the PRF input is fixed by docs/watermark.md; changing it
// breaks every published test vector.
#include "probes/watermark.h"

#include "fingerprint/digest.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "probes/stats.h"

namespace pedigree::probes::wm {
namespace {

constexpr std::string_view kDomain = "pedigree-wm-v1";

void put_u32le(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

class KgwScheme : public Scheme {
 public:
  explicit KgwScheme(double gamma) : gamma_(gamma) {}
  std::string_view name() const override { return "kgw"; }
  double token_score(double u) const override { return u < gamma_ ? 1.0 : 0.0; }
  bool is_green(double u) const override { return u < gamma_; }
  ScoreSummary summarize(uint64_t n, uint64_t green, double sum) const override {
    ScoreSummary s{n, green, sum, 0.0, 0.0};
    if (n == 0) return s;
    double nd = static_cast<double>(n);
    s.z = (static_cast<double>(green) - gamma_ * nd) / std::sqrt(nd * gamma_ * (1 - gamma_));
    s.log10_p = binomial_upper_log10(green, n, gamma_);
    return s;
  }

 private:
  double gamma_;
};

class GumbelScheme : public Scheme {
 public:
  std::string_view name() const override { return "gumbel"; }
  double token_score(double u) const override { return -std::log1p(-u); }
  bool is_green(double u) const override { return u >= 0.5; }
  ScoreSummary summarize(uint64_t n, uint64_t green, double sum) const override {
    ScoreSummary s{n, green, sum, 0.0, 0.0};
    if (n == 0) return s;
    double nd = static_cast<double>(n);
    s.z = (sum - nd) / std::sqrt(nd);
    // Sum of n Exp(1) scores is Gamma(n, 1); its upper tail at S is the
    // chi-square upper tail with 2n degrees of freedom at 2S.
    s.log10_p = chi2_even_upper_log10(2.0 * sum, 2 * n);
    return s;
  }
};

std::string fmt_double(double v) {
  std::ostringstream o;
  o.precision(17);
  o << v;
  return o.str();
}

}  // namespace

double prf_u(std::string_view key, std::span<const uint32_t> ctx, uint32_t token) {
  std::string msg(kDomain);
  msg.reserve(kDomain.size() + 4 * (ctx.size() + 2));
  put_u32le(&msg, static_cast<uint32_t>(ctx.size()));
  for (uint32_t t : ctx) put_u32le(&msg, t);
  put_u32le(&msg, token);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), mac, &len);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | mac[i];
  return static_cast<double>(v >> 11) * 0x1p-53;
}

std::string to_hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string key_fingerprint(std::string_view key) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), d);
  return to_hex(std::string_view(reinterpret_cast<const char*>(d), 8));
}

bool parse_key_file(std::string_view bytes, const std::string& path, WatermarkKey* out, Error* err) {
  if (bytes.size() > kMaxKeyFileBytes)
    return fail(err, path, std::nullopt,
                "key file is " + human_bytes(bytes.size()) + ", over the " + human_bytes(kMaxKeyFileBytes) + " limit");
  nlohmann::json j = nlohmann::json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(err, path, std::nullopt, "key file is not a json object");
  WatermarkKey k;
  static const std::set<std::string> kKnown = {"scheme", "gamma", "h", "delta", "key_hex"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!kKnown.contains(it.key()))
      return fail(err, path, std::nullopt,
                  "unknown field '" + escape_bytes(it.key(), true, 64) + "' (want scheme, gamma, h, delta, key_hex)");
  if (!j.contains("scheme") || !j["scheme"].is_string())
    return fail(err, path, std::nullopt, "scheme: missing or not a string (want kgw or gumbel)");
  k.scheme = j["scheme"].get<std::string>();
  if (k.scheme != "kgw" && k.scheme != "gumbel")
    return fail(err, path, std::nullopt, "scheme: unknown scheme '" + escape_bytes(k.scheme, true, 64) +
                                             "' (want kgw or gumbel)");
  if (j.contains("gamma")) {
    if (!j["gamma"].is_number()) return fail(err, path, std::nullopt, "gamma: not a number");
    k.gamma = j["gamma"].get<double>();
  } else if (k.scheme == "kgw") {
    return fail(err, path, std::nullopt, "gamma: missing (kgw needs a green fraction in (0, 1))");
  }
  if (!(k.gamma > 0 && k.gamma < 1))
    return fail(err, path, std::nullopt, "gamma: " + fmt_double(k.gamma) + " is not in (0, 1)");
  if (!j.contains("h") || !j["h"].is_number_integer())
    return fail(err, path, std::nullopt, "h: missing or not an integer");
  int64_t h = j["h"].get<int64_t>();
  if (h < 1 || h > static_cast<int64_t>(kMaxH))
    return fail(err, path, std::nullopt, "h: " + std::to_string(h) + " is not in 1.." + std::to_string(kMaxH));
  k.h = static_cast<uint32_t>(h);
  if (j.contains("delta")) {
    if (!j["delta"].is_number()) return fail(err, path, std::nullopt, "delta: not a number");
    k.delta = j["delta"].get<double>();
  }
  if (!j.contains("key_hex") || !j["key_hex"].is_string())
    return fail(err, path, std::nullopt, "key_hex: missing or not a string");
  const std::string& hex = j["key_hex"].get_ref<const std::string&>();
  if (hex.size() > 2 * kMaxKeyBytes)
    return fail(err, path, std::nullopt,
                "key_hex: " + std::to_string(hex.size()) + " hex digits, over the " + std::to_string(2 * kMaxKeyBytes) +
                    " limit");
  std::vector<uint8_t> raw;
  if (!from_hex(hex, &raw)) return fail(err, path, std::nullopt, "key_hex: not an even number of hex digits");
  k.key.assign(raw.begin(), raw.end());
  if (k.key.size() < 16)
    return fail(err, path, std::nullopt,
                "key_hex: key is " + std::to_string(k.key.size()) + " bytes (want at least 16)");
  *out = std::move(k);
  return true;
}

bool load_key_file(const std::string& path, WatermarkKey* out, Error* err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail(err, path, std::nullopt, "cannot open key file");
  std::string data(kMaxKeyFileBytes + 1, '\0');
  f.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(f.gcount()));
  return parse_key_file(data, path, out, err);
}

bool check_key(const WatermarkKey& key, const std::string& key_path, const std::string& want_fingerprint,
               const std::string& scheme, double gamma, uint32_t h, Error* err) {
  std::string got = key.fingerprint();
  if (got != want_fingerprint)
    return fail(err, key_path, std::nullopt,
                "key fingerprint " + got + " does not match the pack's key_fingerprint " +
                    escape_bytes(want_fingerprint, true, 64));
  if (key.scheme != scheme)
    return fail(err, key_path, std::nullopt, "scheme '" + key.scheme + "' differs from the pack's '" +
                                                 escape_bytes(scheme, true, 64) + "'");
  if (key.h != h)
    return fail(err, key_path, std::nullopt,
                "h " + std::to_string(key.h) + " differs from the pack's " + std::to_string(h));
  if (key.scheme == "kgw" && key.gamma != gamma)
    return fail(err, key_path, std::nullopt,
                "gamma " + fmt_double(key.gamma) + " differs from the pack's " + fmt_double(gamma));
  return true;
}

std::unique_ptr<Scheme> make_scheme(const WatermarkKey& key, Error* err) {
  if (key.scheme == "kgw") return std::make_unique<KgwScheme>(key.gamma);
  if (key.scheme == "gumbel") return std::make_unique<GumbelScheme>();
  fail(err, "", std::nullopt, "unknown watermark scheme '" + escape_bytes(key.scheme, true, 64) + "' (want kgw or gumbel)");
  return nullptr;
}

void kgw_bias(const WatermarkKey& key, std::span<const uint32_t> ctx, std::span<double> logits) {
  for (size_t v = 0; v < logits.size(); ++v)
    if (prf_u(key.key, ctx, static_cast<uint32_t>(v)) < key.gamma) logits[v] += key.delta;
}

uint32_t gumbel_pick(const WatermarkKey& key, std::span<const uint32_t> ctx, std::span<const double> probs) {
  uint32_t best = 0;
  double best_score = -std::numeric_limits<double>::infinity();
  for (size_t v = 0; v < probs.size(); ++v) {
    if (!(probs[v] > 0)) continue;
    // argmax u^(1/p) == argmax ln(u)/p; u == 0 gives -inf.
    double s = std::log(prf_u(key.key, ctx, static_cast<uint32_t>(v))) / probs[v];
    if (s > best_score) {
      best_score = s;
      best = static_cast<uint32_t>(v);
    }
  }
  return best;
}

Scorer::Scorer(const WatermarkKey& key, std::unique_ptr<Scheme> scheme, ScoreOptions opt)
    : key_(key), opt_(opt), scheme_(std::move(scheme)) {}

void Scorer::set_reference(std::span<const uint32_t> ref) {
  ref_windows_.clear();
  add_reference(ref);
}

void Scorer::add_reference(std::span<const uint32_t> doc, size_t first) {
  for (size_t i = std::max<size_t>(key_.h, first); i <= doc.size(); ++i)
    ++ref_windows_[std::vector<uint32_t>(doc.begin() + static_cast<std::ptrdiff_t>(i - key_.h),
                                         doc.begin() + static_cast<std::ptrdiff_t>(i))];
}

void Scorer::score(std::span<const uint32_t> prompt, std::span<const uint32_t> output) {
  const size_t h = key_.h;
  std::set<std::vector<uint32_t>> prompt_grams;
  if (opt_.skip_prompt_ngrams)
    for (size_t i = 0; i + h + 1 <= prompt.size(); ++i)
      prompt_grams.emplace(prompt.begin() + static_cast<std::ptrdiff_t>(i),
                           prompt.begin() + static_cast<std::ptrdiff_t>(i + h + 1));
  std::vector<uint32_t> seq(prompt.begin(), prompt.end());
  seq.insert(seq.end(), output.begin(), output.end());
  std::vector<uint32_t> gram(h + 1);
  for (size_t i = std::max(prompt.size(), h); i < seq.size(); ++i) {
    std::copy(seq.begin() + static_cast<std::ptrdiff_t>(i - h), seq.begin() + static_cast<std::ptrdiff_t>(i + 1),
              gram.begin());
    std::span<const uint32_t> window(gram.data(), h);
    score_tuple(window, gram[h], prompt_grams.contains(gram));
  }
}

void Scorer::score_tuple(std::span<const uint32_t> window, uint32_t token, bool prompt_has) {
  if (window.size() != key_.h) {
    ++skipped_["short-window"];
    return;
  }
  std::vector<uint32_t> w(window.begin(), window.end());
  if (opt_.min_window_count > 0) {
    auto it = ref_windows_.find(w);
    if (it == ref_windows_.end() || it->second < opt_.min_window_count) {
      ++skipped_["rare-window"];
      return;
    }
  }
  if (prompt_has && opt_.skip_prompt_ngrams) {
    ++skipped_["prompt"];
    return;
  }
  if (opt_.dedup != Dedup::kOff) {
    std::vector<uint32_t> k = w;
    if (opt_.dedup == Dedup::kTuple) k.push_back(token);
    if (!seen_.insert(std::move(k)).second) {
      ++skipped_["duplicate"];
      return;
    }
  }
  double u = prf_u(key_.key, window, token);
  ++n_;
  if (scheme_->is_green(u)) ++green_;
  sum_ += scheme_->token_score(u);
}

ScoreSummary Scorer::summary() const { return scheme_->summarize(n_, green_, sum_); }

}  // namespace pedigree::probes::wm
