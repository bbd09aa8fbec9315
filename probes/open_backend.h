// This file implements the one place the CLI opens an inference backend: an
// HTTP endpoint or a local GGUF served by a llama-server child, wrapped in the
// response cache unless told not to. Also gives the cache counters for summaries.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "probes/backend.h"
#include "probes/cache.h"

namespace pedigree::probes {

/// What the CLI asked for. Exactly one of `endpoint` and `gguf_path` is set.
struct BackendOptions {
  std::string endpoint;        ///< OpenAI-compatible base URL, with or without /v1
  std::string model;           ///< "model" sent to the endpoint (ignored for a GGUF)
  std::string gguf_path;       ///< local GGUF served by llama-server
  std::string llama_server;    ///< llama-server binary; empty: $PEDIGREE_LLAMA_SERVER, else PATH
  std::string cache_dir;       ///< empty: ${XDG_CACHE_HOME:-~/.cache}/pedigree/responses
  bool no_cache = false;
  int concurrency = 4;         ///< llama-server slots (the runner's thread count)
  int timeout_s = 120;         ///< per request; also how long a GGUF may take to load
  int retries = 4;             ///< extra attempts on 429, 5xx and connection failures
  int ctx_size = 2048;         ///< llama-server -c
  int threads = 0;             ///< llama-server --threads; 0: auto (llama_server_threads)
};

/// llama-server threads for a model of `model_bytes`: 1 below 256 MiB (a tiny
/// model gains nothing from a second thread), else 2.
int llama_server_threads(uint64_t model_bytes);

/// Opens the backend (HTTP endpoint or local GGUF via llama-server), with the cache unless no_cache.
bool open_backend(const BackendOptions&, std::unique_ptr<Backend>* out, Error* err);

/// The cache counters of a backend opened by open_backend (all zero without a cache).
CacheStats cache_stats(const Backend& backend);

}  // namespace pedigree::probes
