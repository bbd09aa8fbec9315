// This file implements complete_all (batch.h): a pool of std::threads sharing
// an atomic next-index counter; the calling thread is one of the workers.
#include "probes/batch.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

namespace pedigree::probes {

bool complete_all(Backend& backend, const std::vector<ProbeRequest>& reqs, int threads,
                  std::vector<ProbeResponse>* out, Error* err) {
  out->assign(reqs.size(), ProbeResponse());
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::optional<Error> first;
  auto work = [&] {
    for (size_t i; !stop && (i = next++) < reqs.size();) {
      Error e;
      if (!backend.complete(reqs[i], &(*out)[i], &e)) {
        std::lock_guard<std::mutex> lock(mu);
        if (!first) first = e;
        stop = true;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  size_t n = std::min<size_t>(std::max(threads, 1), std::max<size_t>(reqs.size(), 1));
  for (size_t t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (first) return *err = *first, false;
  return true;
}

}  // namespace pedigree::probes
