// This file implements Progress and CountProgress: a background thread that
// redraws one stderr line, only when stderr is a terminal (and, for bytes,
// when the work is large enough to wait for).
#include "cli/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace pedigree::cli {

namespace {
constexpr uint64_t kMinBytesForProgress = uint64_t{256} << 20;
}

Progress::Progress(std::string label, uint64_t total) : label_(std::move(label)), total_(total) {
  active_ = ::isatty(STDERR_FILENO) && total_ >= kMinBytesForProgress;
  if (active_) thread_ = std::thread([this] { loop(); });
}

Progress::~Progress() {
  if (!active_) return;
  stop_ = true;
  thread_.join();
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void Progress::loop() {
  auto start = std::chrono::steady_clock::now();
  while (!stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    uint64_t d = done_.load();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double pct = total_ ? 100.0 * static_cast<double>(d) / static_cast<double>(total_) : 100.0;
    std::fprintf(stderr, "\r\033[K%s %s / %s  %3.0f%%  %s/s", label_.c_str(), human_bytes(d).c_str(),
                 human_bytes(total_).c_str(), pct,
                 human_bytes(static_cast<uint64_t>(secs > 0 ? static_cast<double>(d) / secs : 0)).c_str());
    std::fflush(stderr);
  }
}

CountProgress::CountProgress(std::string label, std::string unit, uint64_t total, uint64_t done)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), done_(done) {
  active_ = ::isatty(STDERR_FILENO) && done < total;
  if (active_) thread_ = std::thread([this] { loop(); });
}

CountProgress::~CountProgress() {
  if (!active_) return;
  stop_ = true;
  thread_.join();
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void CountProgress::advance(bool flagged, bool error) {
  flagged_ += flagged;
  errors_ += error;
  ++done_;
}

void CountProgress::draw() {
  std::string extra;
  if (uint64_t f = flagged_.load()) extra += "  " + std::to_string(f) + " flagged";
  if (uint64_t e = errors_.load()) extra += "  " + std::to_string(e) + (e == 1 ? " error" : " errors");
  std::fprintf(stderr, "\r\033[K%s %llu/%llu %s%s", label_.c_str(), static_cast<unsigned long long>(done_.load()),
               static_cast<unsigned long long>(total_), unit_.c_str(), extra.c_str());
  std::fflush(stderr);
}

void CountProgress::loop() {
  while (!stop_) {
    draw();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace pedigree::cli
