// This file implements the interface of the backend factory the CLI opens
// models through: an OpenAI-compatible HTTP endpoint, or a local GGUF file
// served by a llama-server child process, wrapped in the response cache.
#pragma once

#include <memory>
#include <string>

#include "fingerprint/error.h"
#include "probes/backend.h"

namespace pedigree::probes {

/// Where the model is and how to talk to it. Exactly one of `endpoint` (with
/// `model`) or `gguf_path` is set. The API key is read from PEDIGREE_API_KEY
/// by the HTTP backend and never appears here or in any output.
struct BackendOptions {
  std::string endpoint;      ///< e.g. "http://127.0.0.1:8080/v1"
  std::string model;         ///< model name sent to the endpoint
  std::string gguf_path;     ///< local model served by llama-server
  std::string llama_server;  ///< llama-server binary; empty: $PEDIGREE_LLAMA_SERVER, else PATH
  std::string cache_dir;     ///< empty: ${XDG_CACHE_HOME:-~/.cache}/pedigree/responses
  bool no_cache = false;
  int concurrency = 4;       ///< requests in flight at most (llama-server: parallel slots)
  int timeout_s = 120;       ///< per request
  int retries = 4;           ///< on connection errors, 429 and 5xx, with backoff
};

/// Opens the backend (HTTP endpoint or local GGUF via llama-server), with the cache unless no_cache.
bool open_backend(const BackendOptions& opts, std::unique_ptr<Backend>* out, Error* err);

}  // namespace pedigree::probes
