// This file implements open_backend(): checks the options, builds the HTTP or
// llama-server backend with the requested timeouts and retries, and wraps it in
// the response cache.
#include "probes/open_backend.h"

#include <filesystem>

#include "probes/http_backend.h"
#include "probes/llama_server.h"

namespace pedigree::probes {

int llama_server_threads(uint64_t model_bytes) { return model_bytes < (uint64_t{256} << 20) ? 1 : 2; }

bool open_backend(const BackendOptions& o, std::unique_ptr<Backend>* out, Error* err) {
  if (o.endpoint.empty() == o.gguf_path.empty())
    return fail(err, "", std::nullopt, "give exactly one of --endpoint and --gguf");
  if (o.timeout_s < 1 || o.timeout_s > 86400)
    return fail(err, "", std::nullopt, "timeout " + std::to_string(o.timeout_s) + " s out of range (want 1..86400)");
  if (o.retries < 0 || o.retries > 20)
    return fail(err, "", std::nullopt, "retries " + std::to_string(o.retries) + " out of range (want 0..20)");
  if (o.concurrency < 1 || o.concurrency > 256)
    return fail(err, "", std::nullopt,
                "concurrency " + std::to_string(o.concurrency) + " out of range (want 1..256)");
  HttpOptions http;
  http.endpoint = o.endpoint;
  http.model = o.model;
  http.timeout_ms = o.timeout_s * 1000;
  http.retries = o.retries;
  std::unique_ptr<Backend> inner;
  if (!o.endpoint.empty()) {
    std::unique_ptr<HttpBackend> b;
    if (!HttpBackend::create(std::move(http), &b, err)) return false;
    inner = std::move(b);
  } else {
    LlamaServerOptions ls;
    ls.binary = o.llama_server;
    ls.model_path = o.gguf_path;
    ls.parallel = o.concurrency;
    ls.ctx_size = o.ctx_size;
    std::error_code ec;
    uintmax_t size = std::filesystem::file_size(o.gguf_path, ec);
    ls.threads = o.threads > 0 ? o.threads : llama_server_threads(ec ? 0 : size);
    ls.ready_timeout_ms = o.timeout_s * 1000;
    std::unique_ptr<LlamaServerBackend> b;
    if (!LlamaServerBackend::create(ls, std::move(http), &b, err)) return false;
    inner = std::move(b);
  }
  if (o.no_cache) {
    *out = std::move(inner);
  } else {
    *out = std::make_unique<CachingBackend>(std::move(inner), o.cache_dir);
  }
  return true;
}

CacheStats cache_stats(const Backend& backend) {
  if (const auto* c = dynamic_cast<const CachingBackend*>(&backend)) return c->stats();
  return {};
}

}  // namespace pedigree::probes
