// This file implements the HTTP backend: OpenAI-compatible /v1/chat/completions
// and /v1/completions over libcurl, with connect/total timeouts, retries with
// capped exponential backoff and jitter (honouring Retry-After), a response size
// cap and strict parsing of the JSON answer (llama-server and vLLM shapes).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "probes/backend.h"

namespace pedigree::probes {

/// Default cap on one response body.
inline constexpr size_t kMaxResponseBytes = size_t{16} << 20;
/// Deepest JSON nesting accepted in a response.
inline constexpr int kMaxJsonDepth = 64;

/// How to reach the server and how hard to try.
struct HttpOptions {
  std::string endpoint;              ///< base URL, with or without a trailing /v1
  std::string model;                 ///< sent as "model" when non-empty
  std::string api_key;               ///< sent as "Authorization: Bearer"; never shown
  bool use_env_api_key = true;       ///< empty api_key: take $PEDIGREE_API_KEY
  int connect_timeout_ms = 10000;
  int timeout_ms = 120000;           ///< whole request, including the body
  int retries = 4;                   ///< extra attempts after the first
  int backoff_base_ms = 500;         ///< delay before retry n: base * 2^n, jittered to [d/2, d]
  int backoff_cap_ms = 30000;        ///< cap on one backoff delay
  int retry_after_cap_ms = 60000;    ///< cap on a server's Retry-After
  size_t max_response_bytes = kMaxResponseBytes;
  /// Sleeps between attempts (tests inject a recorder).
  std::function<void(std::chrono::milliseconds)> sleep;
  /// Wall clock for Retry-After dates (tests inject a fixed time).
  std::function<std::chrono::system_clock::time_point()> now;
  /// Asked before each retry; when it fills `why`, retrying stops with that error.
  std::function<bool(std::string* why)> give_up;
};

struct HttpAttempt;

/// Talks to one OpenAI-compatible server. Thread-safe: one curl handle per call.
class HttpBackend : public Backend {
 public:
  /// Checks the endpoint URL and builds the backend; the API key is taken from
  /// `opts.api_key`, else (when use_env_api_key) from $PEDIGREE_API_KEY.
  static bool create(HttpOptions opts, std::unique_ptr<HttpBackend>* out, Error* err);

  bool complete(const ProbeRequest& req, ProbeResponse* out, Error* err) override;
  /// "http://host:port/v1 model=name" (no model part when the model is empty).
  std::string describe() const override;
  /// Base URL ending in /v1.
  const std::string& base_url() const { return base_; }

 private:
  explicit HttpBackend(HttpOptions opts, std::string base);
  void attempt(const std::string& url, const std::string& body, HttpAttempt* a) const;
  std::chrono::milliseconds retry_delay(const HttpAttempt& a, int retry) const;
  std::string redact(std::string s) const;

  HttpOptions opts_;
  std::string base_;
};

/// Normalises an endpoint to a base URL ending in /v1 ("http://h:1" and
/// "http://h:1/v1/" both give "http://h:1/v1"); false with `why` when not http(s).
bool normalize_endpoint(const std::string& endpoint, std::string* base, std::string* why);

/// The JSON request body for `req` (keys sorted; "model" only when non-empty).
std::string request_body(const ProbeRequest& req, const std::string& model);

/// Parses a chat or completion answer; false with a lowercase `why` on any
/// body that is not valid JSON of the expected shape. Never throws.
bool parse_response(const std::string& form, std::string_view body, ProbeResponse* out,
                    std::string* why);

/// Seconds to wait from a Retry-After value (delta-seconds or IMF-fixdate HTTP
/// date); -1 when unparseable. Dates in the past give 0.
long long parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace pedigree::probes
