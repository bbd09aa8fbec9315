// This file implements the experiment driver of bench/distill: it runs the C++
// watermark detector (probes/watermark_detect) against a real llama-server
// through a minimal libcurl Backend on its native /completion endpoint, with a
// request memo so that several detector settings reuse one set of answers.
// Usage: wm_bench --url URL --pack pack.json --key key.json [--wrong-keys N]
//        [--wrong-key-seed S] [--out result.json]
#include <curl/curl.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "probes/backend.h"
#include "probes/tokenizer.h"
#include "probes/watermark.h"
#include "probes/watermark_detect.h"

using namespace pedigree;
using namespace pedigree::probes;
using json = nlohmann::json;

namespace {

size_t on_data(char* p, size_t sz, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, sz * n);
  return sz * n;
}

/// llama-server's native /completion endpoint; answers are memoized.
class ServerBackend : public Backend {
 public:
  explicit ServerBackend(std::string url) : url_(std::move(url)) {}
  bool complete(const ProbeRequest& req, ProbeResponse* out, Error* err) override {
    std::string key = req.prompt + "\x1f" + std::to_string(req.seed) + "\x1f" + std::to_string(req.max_tokens) +
                      "\x1f" + std::to_string(req.temperature);
    {
      std::lock_guard<std::mutex> l(mu_);
      if (auto it = memo_.find(key); it != memo_.end()) {
        *out = it->second;
        out->from_cache = true;
        return true;
      }
    }
    json body = {{"prompt", req.prompt}, {"n_predict", req.max_tokens}, {"temperature", req.temperature},
                 {"seed", req.seed}, {"cache_prompt", true}, {"top_k", 0}, {"top_p", 1.0}, {"min_p", 0.0}};
    std::string payload = body.dump(-1, ' ', false, json::error_handler_t::replace), resp;
    CURL* c = curl_easy_init();
    curl_slist* hdr = curl_slist_append(nullptr, "Content-Type: application/json");
    std::string url = url_ + "/completion";
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) return fail(err, url, std::nullopt, std::string("request failed: ") + curl_easy_strerror(rc));
    json j = json::parse(resp, nullptr, false);
    if (status != 200 || j.is_discarded() || !j.contains("content"))
      return fail(err, url, std::nullopt, "http " + std::to_string(status) + ": " + escape_bytes(resp, true, 200));
    out->text = j["content"].get<std::string>();
    out->finish_reason = j.value("stop_type", "");
    std::lock_guard<std::mutex> l(mu_);
    memo_[key] = *out;
    return true;
  }
  std::string describe() const override { return url_; }

 private:
  std::string url_;
  std::mutex mu_;
  std::map<std::string, ProbeResponse> memo_;
};

std::string dir_of(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? "." : p.substr(0, s);
}

json run_one(ServerBackend& be, const wm::DetectInputs& in, Error* err, bool* ok) {
  wm::WatermarkRun run;
  *ok = wm::run_watermark(be, in, &run, err);
  return *ok ? wm::run_json(run) : json();
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, pack_path, key_path, out_path;
  int wrong = 0;
  uint64_t wrong_seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--url") url = v;
    else if (a == "--pack") pack_path = v;
    else if (a == "--key") key_path = v;
    else if (a == "--out") out_path = v;
    else if (a == "--wrong-keys") wrong = std::stoi(v);
    else if (a == "--wrong-key-seed") wrong_seed = std::stoull(v);
    else { std::cerr << "unknown option " << a << "\n"; return 2; }
  }
  Error err;
  std::ifstream pf(pack_path);
  json pack = json::parse(pf, nullptr, false);
  wm::WatermarkConfig cfg;
  if (pack.is_discarded() || !pack.contains("watermark") ||
      !wm::parse_watermark_config(pack["watermark"], pack_path, &cfg, &err)) {
    std::cerr << "wm_bench: error: " << (err.message.empty() ? pack_path + ": bad pack" : err.str()) << "\n";
    return 2;
  }
  std::string base = dir_of(pack_path);
  auto tok = load_tokenizer(cfg.tokenizer == "bytes" ? "bytes" : base + "/" + cfg.tokenizer, &err);
  wm::DetectInputs in;
  in.tokenizer = tok.get();
  if (!tok || !wm::load_reference(base + "/" + cfg.reference, &in.reference, &err) ||
      !wm::load_keys({key_path}, cfg, &in.keys, &err)) {
    std::cerr << "wm_bench: error: " << err.str() << "\n";
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  ServerBackend be(url);
  json result;
  bool ok = true;
  auto variant = [&](const std::string& name, wm::WatermarkConfig c, std::vector<wm::WatermarkKey> keys) {
    if (!ok) return;
    wm::DetectInputs v = in;
    v.config = &c;
    v.keys = std::move(keys);
    for (const std::string& mode : cfg.modes) {
      c.modes = {mode};
      result[name][mode] = run_one(be, v, &err, &ok);
      if (!ok) return;
      std::cerr << name << " " << mode << " log10p " << result[name][mode]["log10_p_min"] << "\n";
    }
  };
  variant("key", cfg, in.keys);
  wm::WatermarkConfig off = cfg;
  off.dedup = wm::Dedup::kOff;
  variant("dedup_off", off, in.keys);
  if (cfg.min_window_count == 0) {
    wm::WatermarkConfig filt = cfg;
    filt.min_window_count = 2;
    variant("min_window_2", filt, in.keys);
  }
  std::mt19937_64 rng(wrong_seed);
  std::vector<wm::WatermarkKey> strangers;
  for (int i = 0; i < wrong; ++i) {
    wm::WatermarkKey k = in.keys[0];
    k.key.assign(32, '\0');
    for (char& ch : k.key) ch = static_cast<char>(rng() & 0xff);
    strangers.push_back(k);
  }
  if (!strangers.empty()) {
    std::vector<wm::WatermarkKey> one = {strangers[0]};
    variant("wrong_key", cfg, one);
    variant("wrong_keys", cfg, strangers);
  }
  curl_global_cleanup();
  if (!ok) {
    std::cerr << "wm_bench: error: " << err.str() << "\n";
    return 2;
  }
  std::string text = result.dump(1) + "\n";
  if (out_path.empty()) {
    std::cout << text;
  } else {
    std::string tmp = out_path + ".tmp";
    std::ofstream(tmp) << text;
    std::rename(tmp.c_str(), out_path.c_str());
  }
  return 0;
}
