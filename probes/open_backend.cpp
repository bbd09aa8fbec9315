// This file implements a placeholder for the backend factory: it always fails
// with "backends not built yet". The HTTP backend, the llama-server launcher
// and the response cache replace it (probes/http_backend.*, llama_server.*, cache.*).
#include "probes/open_backend.h"

namespace pedigree::probes {

bool open_backend(const BackendOptions& opts, std::unique_ptr<Backend>* out, Error* err) {
  out->reset();
  return fail(err, opts.endpoint.empty() ? opts.gguf_path : opts.endpoint, std::nullopt, "backends not built yet");
}

}  // namespace pedigree::probes
