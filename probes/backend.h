// This file implements the interface every inference backend sits behind: one
// blocking, thread-safe call that sends a prompt (chat or completion form) and
// returns the response text and, where the server gives them, token logprobs.
// HTTP endpoints, a local llama-server and the response cache all implement it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fingerprint/error.h"

namespace pedigree::probes {

/// One request to a model. `form` is "chat" (system + user message) or
/// "completion" (raw prompt text).
struct ProbeRequest {
  std::string form = "chat";
  std::string system;          ///< chat only; empty: no system message
  std::string prompt;
  double temperature = 0.0;
  uint64_t seed = 42;
  int max_tokens = 64;
  int top_logprobs = 0;        ///< 0: no logprobs wanted; else alternatives per token
  std::optional<int> top_k;    ///< sampler truncation; unset: the server's default (0 disables in llama.cpp)
  std::optional<double> top_p; ///< nucleus sampling; unset: the server's default
  std::optional<double> min_p; ///< llama.cpp / vLLM min-p; unset: the server's default
};

/// One generated token with its logprob and the top alternatives.
struct TokenLogprob {
  std::string token;
  double logprob = 0.0;
  std::vector<std::pair<std::string, double>> top;
};

/// The model's answer.
struct ProbeResponse {
  std::string text;
  std::string finish_reason;   ///< "stop", "length", ... as the server says
  std::vector<TokenLogprob> logprobs;  ///< empty when not asked for or not given
  bool from_cache = false;
};

/// An inference backend. `complete` must be safe to call from several threads.
class Backend {
 public:
  virtual ~Backend() = default;
  /// Sends `req`; on failure fills `err` (path = endpoint or model file) and returns false.
  virtual bool complete(const ProbeRequest& req, ProbeResponse* out, Error* err) = 0;
  /// Identifies the model for caching and reports: e.g. "http://127.0.0.1:8080/v1 model=tiny".
  virtual std::string describe() const = 0;
};

}  // namespace pedigree::probes
