// This file implements sending many requests to one backend on a fixed pool of
// threads: workers pull requests by index and store each response at its
// request's index, so the results are in request order whatever the
// concurrency. The first backend error stops the remaining work.
#pragma once

#include <vector>

#include "fingerprint/error.h"
#include "probes/backend.h"

namespace pedigree::probes {

/// Sends every request in `reqs` with up to `threads` in flight; `out[i]`
/// answers `reqs[i]`. False with the first error (by time, not by index).
bool complete_all(Backend& backend, const std::vector<ProbeRequest>& reqs, int threads,
                  std::vector<ProbeResponse>* out, Error* err);

}  // namespace pedigree::probes
