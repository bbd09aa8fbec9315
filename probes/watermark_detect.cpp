// This file implements closed-mode and reading-mode radioactivity detection
// over the Backend interface, the pack's watermark section, key loading and
// the JSON report. One pass of backend calls serves every key: each key has
// its own deduplicating Scorer over the same token streams.
#include "probes/watermark_detect.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "probes/batch.h"
#include "probes/stats.h"

namespace pedigree::probes::wm {
namespace {

using json = nlohmann::json;

bool field_err(Error* err, const std::string& path, const std::string& field, const std::string& msg) {
  return fail(err, path, std::nullopt, "watermark." + field + ": " + msg);
}

bool get_number(const json& j, const std::string& path, const char* f, double lo, double hi, double* out,
                Error* err) {
  if (!j.contains(f)) return true;
  if (!j[f].is_number()) return field_err(err, path, f, "not a number");
  double v = j[f].get<double>();
  if (!(v >= lo && v <= hi)) {
    std::ostringstream o;
    o << v << " is not in [" << lo << ", " << hi << "]";
    return field_err(err, path, f, o.str());
  }
  *out = v;
  return true;
}

template <typename T>
bool get_uint(const json& j, const std::string& path, const char* f, uint64_t lo, uint64_t hi, T* out, Error* err) {
  if (!j.contains(f)) return true;
  if (!j[f].is_number_unsigned()) return field_err(err, path, f, "not a non-negative integer");
  uint64_t v = j[f].get<uint64_t>();
  if (v < lo || v > hi)
    return field_err(err, path, f, std::to_string(v) + " is not in " + std::to_string(lo) + ".." + std::to_string(hi));
  *out = static_cast<T>(v);
  return true;
}

bool get_string(const json& j, const std::string& path, const char* f, std::string* out, Error* err) {
  if (!j.contains(f)) return true;
  if (!j[f].is_string()) return field_err(err, path, f, "not a string");
  *out = j[f].get<std::string>();
  return true;
}

bool is_fingerprint(const std::string& s) {
  return s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

/// A reference document as tokens: context then text; `first` = index of the first text token.
struct RefTokens {
  std::vector<uint32_t> ids;
  size_t first = 0;
};

std::vector<Scorer> make_scorers(const DetectInputs& in, const std::vector<RefTokens>& ref) {
  std::vector<Scorer> scorers;
  ScoreOptions opt;
  opt.dedup = in.config->dedup;
  opt.min_window_count = in.config->min_window_count;
  for (const WatermarkKey& k : in.keys) {
    scorers.emplace_back(k, make_scheme(k, nullptr), opt);
    if (opt.min_window_count > 0)
      for (const RefTokens& d : ref) scorers.back().add_reference(d.ids, d.first);
  }
  return scorers;
}

/// Tokens of `head` + `tail` and where `tail` starts: the text is tokenized
/// whole so that tokens run across the seam; the split is the longest common
/// prefix with the tokens of `head` alone.
bool split_tokens(const Tokenizer& tok, const std::string& head, const std::string& tail, RefTokens* out, Error* err) {
  std::vector<uint32_t> h;
  if (!tok.tokenize(head, &h, err) || !tok.tokenize(head + tail, &out->ids, err)) return false;
  out->first = 0;
  while (out->first < h.size() && out->first < out->ids.size() && h[out->first] == out->ids[out->first]) ++out->first;
  return true;
}

bool reference_tokens(const DetectInputs& in, std::vector<RefTokens>* docs, Error* err) {
  for (const ReferenceDoc& d : in.reference) {
    RefTokens t;
    if (!split_tokens(*in.tokenizer, d.context, d.text, &t, err)) return false;
    docs->push_back(std::move(t));
  }
  return true;
}

void finish(const DetectInputs& in, const std::vector<Scorer>& scorers, WatermarkReport* out) {
  out->scheme = in.config->scheme;
  out->keys.clear();
  for (size_t i = 0; i < scorers.size(); ++i)
    out->keys.push_back({in.keys[i].fingerprint(), scorers[i].summary(), scorers[i].skipped()});
}

}  // namespace

bool parse_watermark_config(const json& j, const std::string& path, WatermarkConfig* out, Error* err) {
  if (!j.is_object()) return fail(err, path, std::nullopt, "watermark: not a mapping");
  static const std::set<std::string> kKnown = {
      "scheme", "gamma", "h", "key_fingerprints", "modes", "tokenizer", "reference", "min_window_count",
      "threshold", "dedup", "prompts", "form", "max_tokens", "temperature", "samples_per_prompt", "seed",
      "reading_context", "reading_max_positions", "top_k", "top_p", "min_p"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!kKnown.contains(it.key())) return field_err(err, path, escape_bytes(it.key(), true, 64), "unknown field");
  WatermarkConfig c;
  if (!get_string(j, path, "scheme", &c.scheme, err)) return false;
  if (c.scheme != "kgw" && c.scheme != "gumbel")
    return field_err(err, path, "scheme", "unknown scheme '" + escape_bytes(c.scheme, true, 64) + "' (want kgw or gumbel)");
  if (!get_number(j, path, "gamma", 1e-9, 1 - 1e-9, &c.gamma, err)) return false;
  if (!get_uint(j, path, "h", 1, kMaxH, &c.h, err)) return false;
  if (!j.contains("key_fingerprints") || !j["key_fingerprints"].is_array() || j["key_fingerprints"].empty())
    return field_err(err, path, "key_fingerprints", "missing or not a non-empty list");
  if (j["key_fingerprints"].size() > kMaxKeys)
    return field_err(err, path, "key_fingerprints", std::to_string(j["key_fingerprints"].size()) +
                                                        " entries (limit " + std::to_string(kMaxKeys) + ")");
  for (size_t i = 0; i < j["key_fingerprints"].size(); ++i) {
    const json& f = j["key_fingerprints"][i];
    if (!f.is_string() || !is_fingerprint(f.get<std::string>()))
      return field_err(err, path, "key_fingerprints[" + std::to_string(i) + "]", "not 16 lowercase hex digits");
    c.key_fingerprints.push_back(f.get<std::string>());
  }
  if (j.contains("modes")) {
    if (!j["modes"].is_array() || j["modes"].empty())
      return field_err(err, path, "modes", "not a non-empty list of closed/reading");
    c.modes.clear();
    for (size_t i = 0; i < j["modes"].size(); ++i) {
      const json& m = j["modes"][i];
      if (!m.is_string() || (m != "closed" && m != "reading"))
        return field_err(err, path, "modes[" + std::to_string(i) + "]", "unknown mode (want closed or reading)");
      if (std::find(c.modes.begin(), c.modes.end(), m.get<std::string>()) == c.modes.end())
        c.modes.push_back(m.get<std::string>());
    }
  }
  if (!get_string(j, path, "tokenizer", &c.tokenizer, err) || !get_string(j, path, "reference", &c.reference, err))
    return false;
  if (!get_uint(j, path, "min_window_count", 0, 1u << 30, &c.min_window_count, err)) return false;
  if (!get_number(j, path, "threshold", 1e-300, 1.0, &c.threshold, err)) return false;
  std::string dedup = "tuple";
  if (!get_string(j, path, "dedup", &dedup, err)) return false;
  if (dedup == "tuple") c.dedup = Dedup::kTuple;
  else if (dedup == "window") c.dedup = Dedup::kWindow;
  else if (dedup == "off") c.dedup = Dedup::kOff;
  else return field_err(err, path, "dedup", "unknown value '" + escape_bytes(dedup, true, 64) + "' (want tuple, window or off)");
  if (j.contains("prompts")) {
    if (!j["prompts"].is_array()) return field_err(err, path, "prompts", "not a list");
    if (j["prompts"].size() > kMaxPrompts)
      return field_err(err, path, "prompts", std::to_string(j["prompts"].size()) + " entries (limit " +
                                                 std::to_string(kMaxPrompts) + ")");
    for (size_t i = 0; i < j["prompts"].size(); ++i) {
      if (!j["prompts"][i].is_string())
        return field_err(err, path, "prompts[" + std::to_string(i) + "]", "not a string");
      c.prompts.push_back(j["prompts"][i].get<std::string>());
    }
  }
  if (!get_string(j, path, "form", &c.form, err)) return false;
  if (c.form != "completion" && c.form != "chat")
    return field_err(err, path, "form", "unknown form '" + escape_bytes(c.form, true, 64) + "' (want completion or chat)");
  if (!get_uint(j, path, "max_tokens", 1, 1u << 16, &c.max_tokens, err) ||
      !get_number(j, path, "temperature", 0.0, 10.0, &c.temperature, err) ||
      !get_uint(j, path, "samples_per_prompt", 1, 1024, &c.samples_per_prompt, err) ||
      !get_uint(j, path, "seed", 0, UINT64_MAX, &c.seed, err) ||
      !get_uint(j, path, "reading_context", 1, 1u << 20, &c.reading_context, err) ||
      !get_uint(j, path, "reading_max_positions", 1, 1u << 24, &c.reading_max_positions, err))
    return false;
  if (j.contains("top_k")) {
    int k = 0;
    if (!get_uint(j, path, "top_k", 0, 1u << 20, &k, err)) return false;
    c.top_k = k;
  }
  for (auto [f, dst] : {std::pair{"top_p", &c.top_p}, std::pair{"min_p", &c.min_p}}) {
    if (!j.contains(f)) continue;
    double v = 0;
    if (!get_number(j, path, f, 0.0, 1.0, &v, err)) return false;
    *dst = v;
  }
  bool closed = std::find(c.modes.begin(), c.modes.end(), "closed") != c.modes.end();
  bool reading = std::find(c.modes.begin(), c.modes.end(), "reading") != c.modes.end();
  if (closed && c.prompts.empty()) return field_err(err, path, "prompts", "closed mode needs at least one prompt");
  if ((reading || c.min_window_count > 0) && c.reference.empty())
    return field_err(err, path, "reference", "reading mode and min_window_count need a reference text file");
  *out = std::move(c);
  return true;
}

bool load_reference(const std::string& path, std::vector<ReferenceDoc>* docs, Error* err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail(err, path, std::nullopt, "cannot open reference text");
  std::string line;
  size_t total = 0, lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    total += line.size() + 1;
    if (total > kMaxReferenceBytes)
      return fail(err, path, std::nullopt, "reference text exceeds the " + human_bytes(kMaxReferenceBytes) + " limit");
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    ReferenceDoc d;
    if (j.is_object() && j.contains("context")) {
      if (!j["context"].is_string())
        return fail(err, path, std::nullopt, "line " + std::to_string(lineno) + ": \"context\" is not a string");
      d.context = j["context"].get<std::string>();
    }
    if (j.is_object() && j.contains("text")) j = j["text"];
    if (!j.is_string())
      return fail(err, path, std::nullopt,
                  "line " + std::to_string(lineno) + ": not a json string or an object with a \"text\" string");
    d.text = j.get<std::string>();
    docs->push_back(std::move(d));
  }
  return true;
}

bool detect_closed(Backend& backend, const DetectInputs& in, WatermarkReport* out, Error* err) {
  const WatermarkConfig& c = *in.config;
  std::vector<RefTokens> docs;
  if (c.min_window_count > 0 && !reference_tokens(in, &docs, err)) return false;
  std::vector<Scorer> scorers = make_scorers(in, docs);
  std::vector<ProbeRequest> reqs;
  for (const std::string& prompt : c.prompts)
    for (uint32_t s = 0; s < c.samples_per_prompt; ++s) {
      ProbeRequest req;
      req.form = c.form;
      req.prompt = prompt;
      req.temperature = c.temperature;
      req.seed = c.seed + s;
      req.max_tokens = c.max_tokens;
      req.top_k = c.top_k, req.top_p = c.top_p, req.min_p = c.min_p;
      reqs.push_back(std::move(req));
    }
  std::vector<ProbeResponse> resps;
  if (!complete_all(backend, reqs, in.concurrency, &resps, err)) return false;
  out->mode = "closed";
  out->requests = reqs.size();
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (c.form == "completion") {
      // Tokenize prompt + output together so windows run across the seam.
      RefTokens t;
      if (!split_tokens(*in.tokenizer, reqs[i].prompt, resps[i].text, &t, err)) return false;
      std::span<const uint32_t> ids(t.ids);
      for (Scorer& sc : scorers) sc.score(ids.first(t.first), ids.subspan(t.first));
    } else {
      std::vector<uint32_t> o;
      if (!in.tokenizer->tokenize(resps[i].text, &o, err)) return false;
      for (Scorer& sc : scorers) sc.score({}, o);
    }
  }
  finish(in, scorers, out);
  return true;
}

namespace {

/// One reading-mode prediction: document `doc`, position `t` (the token predicted).
struct ReadingPos {
  size_t doc, t;
};

/// The reading-mode positions and their requests: every text token of every
/// document from position h on (at most reading_max_positions), each fed with
/// up to reading_context previous tokens, greedy, one token, top-1 logprob.
void reading_requests(const DetectInputs& in, const std::vector<RefTokens>& docs, std::vector<ReadingPos>* pos,
                      std::vector<ProbeRequest>* reqs) {
  const WatermarkConfig& c = *in.config;
  for (size_t d = 0; d < docs.size(); ++d) {
    const std::vector<uint32_t>& ids = docs[d].ids;
    for (size_t t = std::max<size_t>(c.h, docs[d].first); t < ids.size() && reqs->size() < c.reading_max_positions;
         ++t) {
      size_t from = t > c.reading_context ? t - c.reading_context : 0;
      ProbeRequest req;
      req.form = "completion";
      req.prompt = in.tokenizer->decode(std::span<const uint32_t>(ids).subspan(from, t - from));
      req.temperature = 0.0;
      req.seed = c.seed;
      req.max_tokens = 1;
      req.top_logprobs = 1;
      pos->push_back({d, t});
      reqs->push_back(std::move(req));
    }
  }
}

/// The suspect's top-1 token: the best top logprob when given, else the text.
std::string top_piece(const ProbeResponse& resp) {
  if (resp.logprobs.empty() || resp.logprobs[0].top.empty()) return resp.text;
  auto best = std::max_element(resp.logprobs[0].top.begin(), resp.logprobs[0].top.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  return best->first;
}

}  // namespace

bool detect_reading(Backend& backend, const DetectInputs& in, WatermarkReport* out, Error* err) {
  const size_t h = in.config->h;
  std::vector<RefTokens> docs;
  if (!reference_tokens(in, &docs, err)) return false;
  std::vector<Scorer> scorers = make_scorers(in, docs);
  std::vector<ReadingPos> pos;
  std::vector<ProbeRequest> reqs;
  reading_requests(in, docs, &pos, &reqs);
  std::vector<ProbeResponse> resps;
  if (!complete_all(backend, reqs, in.concurrency, &resps, err)) return false;
  out->mode = "reading";
  out->requests = reqs.size();
  std::set<std::vector<uint32_t>> seen_grams;  // (h+1)-grams of the text fed so far in the current document
  for (size_t i = 0; i < pos.size(); ++i) {
    const std::vector<uint32_t>& doc = docs[pos[i].doc].ids;
    size_t t = pos[i].t;
    if (i == 0 || pos[i].doc != pos[i - 1].doc) {
      seen_grams.clear();
      for (size_t k = h + 1; k < t; ++k)
        seen_grams.emplace(doc.begin() + static_cast<std::ptrdiff_t>(k - h - 1), doc.begin() + static_cast<std::ptrdiff_t>(k));
    }
    if (t >= h + 1) seen_grams.emplace(doc.begin() + static_cast<std::ptrdiff_t>(t - h - 1),
                                       doc.begin() + static_cast<std::ptrdiff_t>(t));
    uint32_t pred = 0;
    if (!in.tokenizer->piece_to_id(top_piece(resps[i]), &pred)) continue;  // empty answer (end of text)
    std::vector<uint32_t> gram(doc.begin() + static_cast<std::ptrdiff_t>(t - h), doc.begin() + static_cast<std::ptrdiff_t>(t));
    gram.push_back(pred);
    bool in_prompt = seen_grams.contains(gram);
    for (Scorer& sc : scorers) sc.score_tuple(std::span<const uint32_t>(gram.data(), h), pred, in_prompt);
  }
  finish(in, scorers, out);
  return true;
}

bool run_watermark(Backend& backend, const DetectInputs& in, WatermarkRun* out, Error* err) {
  const WatermarkConfig& c = *in.config;
  if (in.keys.empty()) return fail(err, "", std::nullopt, "no watermark key given (want --watermark-key FILE)");
  WatermarkRun run;
  run.threshold = c.threshold;
  for (const std::string& mode : c.modes) {
    WatermarkReport r;
    if (!(mode == "closed" ? detect_closed(backend, in, &r, err) : detect_reading(backend, in, &r, err)))
      return false;
    run.reports.push_back(std::move(r));
  }
  run.tests = 0;
  run.log10_p_min = 0;
  for (const auto& r : run.reports)
    for (const auto& k : r.keys) {
      ++run.tests;
      run.log10_p_min = std::min(run.log10_p_min, k.summary.log10_p);
    }
  run.log10_p_adjusted = bonferroni_log10(run.log10_p_min, run.tests);
  run.detected = run.log10_p_adjusted < std::log10(c.threshold);
  *out = std::move(run);
  return true;
}

bool load_keys(const std::vector<std::string>& key_paths, const WatermarkConfig& cfg, std::vector<WatermarkKey>* out,
               Error* err) {
  out->clear();
  for (const std::string& p : key_paths) {
    WatermarkKey k;
    if (!load_key_file(p, &k, err)) return false;
    std::string fp = k.fingerprint();
    if (std::find(cfg.key_fingerprints.begin(), cfg.key_fingerprints.end(), fp) == cfg.key_fingerprints.end())
      return fail(err, p, std::nullopt, "key fingerprint " + fp + " does not match any of the pack's key_fingerprints");
    if (!check_key(k, p, fp, cfg.scheme, cfg.gamma, cfg.h, err)) return false;
    for (const auto& prev : *out)
      if (prev.fingerprint() == fp) return fail(err, p, std::nullopt, "key fingerprint " + fp + " given twice");
    out->push_back(std::move(k));
  }
  return true;
}

json run_json(const WatermarkRun& run) {
  json reports = json::array();
  for (const auto& r : run.reports) {
    json keys = json::array();
    for (const auto& k : r.keys) {
      const ScoreSummary& s = k.summary;
      keys.push_back({{"key_fingerprint", k.key_fingerprint},
                      {"scored_tuples", s.n},
                      {"green", s.green},
                      {"green_fraction", s.n ? static_cast<double>(s.green) / static_cast<double>(s.n) : 0.0},
                      {"score_sum", s.score_sum},
                      {"z", s.z},
                      {"log10_p", s.log10_p},
                      {"skipped", k.skipped}});
    }
    reports.push_back({{"mode", r.mode}, {"scheme", r.scheme}, {"requests", r.requests}, {"keys", keys}});
  }
  return {{"reports", reports},
          {"threshold", run.threshold},
          {"tests", run.tests},
          {"log10_p_min", run.log10_p_min},
          {"log10_p_adjusted", run.log10_p_adjusted},
          {"detected", run.detected}};
}

}  // namespace pedigree::probes::wm
