// This file implements the response cache declared in cache.h: canonical key
// JSON, entry encoding, lookups that treat anything unreadable as a miss, and
// atomic stores (temp file in the same directory, fsync, rename, fsync dir).
#include "probes/cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "fingerprint/digest.h"

namespace pedigree::probes {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kFormat = "pedigree-response-cache/1";
/// Largest entry file read back; anything bigger is treated as corrupt.
constexpr size_t kMaxEntryBytes = size_t{64} << 20;

json encode_response(const ProbeResponse& r) {
  json lps = json::array();
  for (const TokenLogprob& t : r.logprobs) {
    json top = json::array();
    for (const auto& [tok, lp] : t.top) top.push_back(json::array({tok, lp}));
    lps.push_back({{"token", t.token}, {"logprob", t.logprob}, {"top", std::move(top)}});
  }
  return {{"text", r.text}, {"finish_reason", r.finish_reason}, {"logprobs", std::move(lps)}};
}

bool get_string(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

bool decode_token(const json& t, TokenLogprob* out) {
  if (!t.is_object() || !get_string(t, "token", &out->token)) return false;
  auto lp = t.find("logprob");
  auto top = t.find("top");
  if (lp == t.end() || !lp->is_number() || top == t.end() || !top->is_array()) return false;
  out->logprob = lp->get<double>();
  for (const json& alt : *top) {
    if (!alt.is_array() || alt.size() != 2 || !alt[0].is_string() || !alt[1].is_number()) return false;
    out->top.emplace_back(alt[0].get<std::string>(), alt[1].get<double>());
  }
  return true;
}

bool decode_response(const json& j, ProbeResponse* out) {
  if (!j.is_object() || !get_string(j, "text", &out->text) ||
      !get_string(j, "finish_reason", &out->finish_reason))
    return false;
  auto lps = j.find("logprobs");
  if (lps == j.end() || !lps->is_array()) return false;
  for (const json& t : *lps) {
    TokenLogprob tl;
    if (!decode_token(t, &tl)) return false;
    out->logprobs.push_back(std::move(tl));
  }
  return true;
}

bool read_file_capped(const std::string& path, std::string* out, bool* exists) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  *exists = fd >= 0 || errno != ENOENT;
  if (fd < 0) return false;
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) <= kMaxEntryBytes;
  if (ok) {
    out->resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < out->size()) {
      ssize_t n = ::read(fd, out->data() + got, out->size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    ok = got == out->size();
  }
  ::close(fd);
  return ok;
}

bool write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string temp_name(const std::string& key) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return ".tmp-" + key.substr(0, 16) + "-" + std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000000);
}

}  // namespace

std::string cache_canonical(const std::string& identity, const ProbeRequest& req) {
  json j = {{"v", 1},
            {"identity", identity},
            {"form", req.form},
            {"system", req.system},
            {"prompt", req.prompt},
            {"temperature", req.temperature},
            {"seed", req.seed},
            {"max_tokens", req.max_tokens},
            {"top_logprobs", req.top_logprobs}};
  // Sampler fields only when set, so that entries written before they existed still match.
  if (req.top_k) j["top_k"] = *req.top_k;
  if (req.top_p) j["top_p"] = *req.top_p;
  if (req.min_p) j["min_p"] = *req.min_p;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string cache_key(const std::string& identity, const ProbeRequest& req) {
  std::vector<uint8_t> d = digest_bytes(HashAlgorithm::kSha256, cache_canonical(identity, req));
  return to_hex(d);
}

std::string encode_cache_entry(const std::string& key, const std::string& canonical,
                               const ProbeResponse& resp) {
  json j = {{"format", kFormat}, {"key", key}, {"request", canonical}, {"response", encode_response(resp)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

bool decode_cache_entry(std::string_view bytes, const std::string& canonical, ProbeResponse* out) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  std::string format, request;
  if (!get_string(j, "format", &format) || format != kFormat) return false;
  if (!get_string(j, "request", &request) || request != canonical) return false;
  auto resp = j.find("response");
  if (resp == j.end()) return false;
  ProbeResponse r;
  if (!decode_response(*resp, &r)) return false;
  *out = std::move(r);
  return true;
}

std::string CachingBackend::default_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  std::string base;
  if (xdg && *xdg == '/') {
    base = xdg;
  } else {
    const char* home = std::getenv("HOME");
    base = std::string(home && *home ? home : ".") + "/.cache";
  }
  return base + "/pedigree/responses";
}

CachingBackend::CachingBackend(std::unique_ptr<Backend> inner, std::string dir)
    : inner_(std::move(inner)), dir_(dir.empty() ? default_dir() : std::move(dir)) {}

std::string CachingBackend::entry_path(const ProbeRequest& req) const {
  std::string key = cache_key(inner_->describe(), req);
  return dir_ + "/" + key.substr(0, 2) + "/" + key + ".json";
}

CacheStats CachingBackend::stats() const {
  CacheStats s;
  s.hits = hits_.load();
  s.misses = misses_.load();
  s.sent = sent_.load();
  s.corrupt = corrupt_.load();
  s.write_errors = write_errors_.load();
  return s;
}

bool CachingBackend::load(const std::string& path, const std::string& canonical, ProbeResponse* out) const {
  std::string bytes;
  bool exists = false;
  bool ok = read_file_capped(path, &bytes, &exists) && decode_cache_entry(bytes, canonical, out);
  if (!ok && exists) ++corrupt_;
  return ok;
}

bool CachingBackend::store(const std::string& path, const std::string& key, const std::string& canonical,
                           const ProbeResponse& resp) const {
  std::string dir = fs::path(path).parent_path().string();
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string tmp = dir + "/" + temp_name(key);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = write_all(fd, encode_cache_entry(key, canonical, resp)) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (ok) ok = ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    ::unlink(tmp.c_str());
    return false;
  }
  fsync_dir(dir);
  return true;
}

bool CachingBackend::complete(const ProbeRequest& req, ProbeResponse* out, Error* err) {
  std::string canonical = cache_canonical(inner_->describe(), req);
  std::string key = to_hex(digest_bytes(HashAlgorithm::kSha256, canonical));
  std::string path = dir_ + "/" + key.substr(0, 2) + "/" + key + ".json";
  ProbeResponse cached;
  if (load(path, canonical, &cached)) {
    ++hits_;
    cached.from_cache = true;
    *out = std::move(cached);
    return true;
  }
  ++misses_;
  ++sent_;
  if (!inner_->complete(req, out, err)) return false;
  out->from_cache = false;
  if (!store(path, key, canonical, *out)) ++write_errors_;
  return true;
}

}  // namespace pedigree::probes
