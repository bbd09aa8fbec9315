// This file implements the progress lines shown on stderr when it is a
// terminal: bytes hashed (total, percentage, throughput) during long hashing,
// and items done out of a count ("audit 37/200 models") during an audit.
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

/// Draws "\r<label> 37/200 <unit>  2 flagged  1 error" every 200 ms while alive
/// (only when stderr is a terminal); the caller advances the counters.
class CountProgress {
 public:
  CountProgress(std::string label, std::string unit, uint64_t total, uint64_t done);
  ~CountProgress();
  void advance(bool flagged, bool error);

 private:
  void loop();
  void draw();
  std::string label_, unit_;
  uint64_t total_;
  std::atomic<uint64_t> done_, flagged_{0}, errors_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
  bool active_ = false;
};

}  // namespace pedigree::cli
