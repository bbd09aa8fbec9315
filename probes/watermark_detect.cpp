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

std::vector<Scorer> make_scorers(const DetectInputs& in, const std::vector<uint32_t>& ref_tokens) {
  std::vector<Scorer> scorers;
  ScoreOptions opt;
  opt.dedup = in.config->dedup;
  opt.min_window_count = in.config->min_window_count;
  for (const WatermarkKey& k : in.keys) {
    scorers.emplace_back(k, make_scheme(k, nullptr), opt);
    if (opt.min_window_count > 0) scorers.back().set_reference(ref_tokens);
  }
  return scorers;
}

bool reference_tokens(const DetectInputs& in, std::vector<std::vector<uint32_t>>* docs, std::vector<uint32_t>* all,
                      Error* err) {
  for (const std::string& d : in.reference) {
    std::vector<uint32_t> ids;
    if (!in.tokenizer->tokenize(d, &ids, err)) return false;
    all->insert(all->end(), ids.begin(), ids.end());
    docs->push_back(std::move(ids));
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
      "reading_context", "reading_max_positions"};
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
  bool closed = std::find(c.modes.begin(), c.modes.end(), "closed") != c.modes.end();
  bool reading = std::find(c.modes.begin(), c.modes.end(), "reading") != c.modes.end();
  if (closed && c.prompts.empty()) return field_err(err, path, "prompts", "closed mode needs at least one prompt");
  if ((reading || c.min_window_count > 0) && c.reference.empty())
    return field_err(err, path, "reference", "reading mode and min_window_count need a reference text file");
  *out = std::move(c);
  return true;
}

bool load_reference(const std::string& path, std::vector<std::string>* docs, Error* err) {
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
    if (j.is_object() && j.contains("text")) j = j["text"];
    if (!j.is_string())
      return fail(err, path, std::nullopt,
                  "line " + std::to_string(lineno) + ": not a json string or an object with a \"text\" string");
    docs->push_back(j.get<std::string>());
  }
  return true;
}

bool detect_closed(Backend& backend, const DetectInputs& in, WatermarkReport* out, Error* err) {
  const WatermarkConfig& c = *in.config;
  std::vector<std::vector<uint32_t>> docs;
  std::vector<uint32_t> all;
  if (c.min_window_count > 0 && !reference_tokens(in, &docs, &all, err)) return false;
  std::vector<Scorer> scorers = make_scorers(in, all);
  out->mode = "closed";
  out->requests = 0;
  for (const std::string& prompt : c.prompts) {
    for (uint32_t s = 0; s < c.samples_per_prompt; ++s) {
      ProbeRequest req;
      req.form = c.form;
      req.prompt = prompt;
      req.temperature = c.temperature;
      req.seed = c.seed + s;
      req.max_tokens = c.max_tokens;
      ProbeResponse resp;
      if (!backend.complete(req, &resp, err)) return false;
      ++out->requests;
      std::vector<uint32_t> p, full, o;
      if (!in.tokenizer->tokenize(prompt, &p, err)) return false;
      if (c.form == "completion") {
        // Tokenize prompt + output together so windows run across the seam.
        if (!in.tokenizer->tokenize(prompt + resp.text, &full, err)) return false;
        size_t common = 0;
        while (common < p.size() && common < full.size() && p[common] == full[common]) ++common;
        std::vector<uint32_t> head(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(common));
        o.assign(full.begin() + static_cast<std::ptrdiff_t>(common), full.end());
        for (Scorer& sc : scorers) sc.score(head, o);
      } else {
        if (!in.tokenizer->tokenize(resp.text, &o, err)) return false;
        for (Scorer& sc : scorers) sc.score({}, o);
      }
    }
  }
  finish(in, scorers, out);
  return true;
}

bool detect_reading(Backend& backend, const DetectInputs& in, WatermarkReport* out, Error* err) {
  const WatermarkConfig& c = *in.config;
  std::vector<std::vector<uint32_t>> docs;
  std::vector<uint32_t> all;
  if (!reference_tokens(in, &docs, &all, err)) return false;
  std::vector<Scorer> scorers = make_scorers(in, all);
  out->mode = "reading";
  out->requests = 0;
  const size_t h = c.h;
  for (const auto& doc : docs) {
    std::set<std::vector<uint32_t>> seen_grams;  // (h+1)-grams of the text fed so far
    for (size_t t = h; t < doc.size() && out->requests < c.reading_max_positions; ++t) {
      if (t >= h + 1) seen_grams.emplace(doc.begin() + static_cast<std::ptrdiff_t>(t - h - 1),
                                         doc.begin() + static_cast<std::ptrdiff_t>(t));
      size_t from = t > c.reading_context ? t - c.reading_context : 0;
      ProbeRequest req;
      req.form = "completion";
      req.prompt = in.tokenizer->decode(std::span<const uint32_t>(doc).subspan(from, t - from));
      req.temperature = 0.0;
      req.seed = c.seed;
      req.max_tokens = 1;
      req.top_logprobs = 1;
      ProbeResponse resp;
      if (!backend.complete(req, &resp, err)) return false;
      ++out->requests;
      std::string piece = resp.text;
      if (!resp.logprobs.empty() && !resp.logprobs[0].top.empty()) {
        auto best = std::max_element(resp.logprobs[0].top.begin(), resp.logprobs[0].top.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
        piece = best->first;
      }
      uint32_t pred = 0;
      if (!in.tokenizer->piece_to_id(piece, &pred)) continue;  // empty answer (end of text)
      std::vector<uint32_t> gram(doc.begin() + static_cast<std::ptrdiff_t>(t - h),
                                 doc.begin() + static_cast<std::ptrdiff_t>(t));
      gram.push_back(pred);
      bool in_prompt = seen_grams.contains(gram);
      for (Scorer& sc : scorers) sc.score_tuple(std::span<const uint32_t>(gram.data(), h), pred, in_prompt);
    }
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
