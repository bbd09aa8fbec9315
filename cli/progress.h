// This file implements the progress line shown on stderr during long hashing
// when stderr is a terminal: bytes done, total, percentage and throughput.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "fingerprint/digest.h"

namespace pedigree::cli {

/// Draws "\r<label> 1.2 GiB / 4.0 GiB  30%  1.9 GiB/s" every 200 ms while alive.
class Progress {
 public:
  Progress(std::string label, uint64_t total);
  ~Progress();
  ProgressCounter* counter() { return &done_; }

 private:
  void loop();
  std::string label_;
  uint64_t total_;
  ProgressCounter done_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
  bool active_ = false;
};

}  // namespace pedigree::cli
