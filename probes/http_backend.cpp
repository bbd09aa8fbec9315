// This file implements the HTTP backend declared in http_backend.h: request
// bodies, one libcurl easy handle per attempt, the retry loop (429, 5xx and
// connection failures; Retry-After honoured, capped) and strict response parsing.
#include "probes/http_backend.h"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

namespace pedigree::probes {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower(std::string(s.substr(0, prefix.size()))) == prefix;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return std::string(s.substr(b, e - b));
}

std::string duration_str(int ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

/// The URL's host is 127.x.x.x, localhost or [::1] (never sent through a proxy).
bool is_loopback_url(const std::string& url) {
  size_t b = url.find("://");
  if (b == std::string::npos) return false;
  b += 3;
  size_t e = url.find_first_of("/", b);
  std::string host = lower(url.substr(b, e == std::string::npos ? std::string::npos : e - b));
  if (host.rfind("[::1]", 0) == 0) return host.size() == 5 || host[5] == ':';
  host = host.substr(0, host.find(':'));
  bool dotted = !host.empty() && host.find_first_not_of("0123456789.") == std::string::npos;
  return host == "localhost" || (dotted && host.rfind("127.", 0) == 0);
}

/// Deepest nesting of [ and { outside strings stays within the cap.
bool depth_ok(std::string_view body) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

bool fail_why(std::string* why, std::string msg) {
  if (why) *why = std::move(msg);
  return false;
}

/// {"token": "...", "logprob": -1.2} (also the elements of top_logprobs).
bool parse_token_pair(const json& j, const std::string& where, std::string* token, double* lp,
                      std::string* why) {
  const json* t = member(j, "token");
  const json* l = member(j, "logprob");
  if (!t || !t->is_string()) return fail_why(why, "response " + where + ".token is not a string");
  if (!l || !l->is_number()) return fail_why(why, "response " + where + ".logprob is not a number");
  *token = t->get<std::string>();
  *lp = l->get<double>();
  return true;
}

/// llama-server and OpenAI chat shape: {"content": [{token, logprob, top_logprobs: [...]}]}.
bool parse_content_logprobs(const json& content, std::vector<TokenLogprob>* out, std::string* why) {
  if (content.is_null()) return true;
  if (!content.is_array()) return fail_why(why, "response logprobs.content is not an array");
  for (size_t i = 0; i < content.size(); ++i) {
    std::string where = "logprobs.content[" + std::to_string(i) + "]";
    TokenLogprob tl;
    if (!parse_token_pair(content[i], where, &tl.token, &tl.logprob, why)) return false;
    const json* top = member(content[i], "top_logprobs");
    if (top && !top->is_null()) {
      if (!top->is_array()) return fail_why(why, "response " + where + ".top_logprobs is not an array");
      for (size_t k = 0; k < top->size(); ++k) {
        std::pair<std::string, double> alt;
        std::string w = where + ".top_logprobs[" + std::to_string(k) + "]";
        if (!parse_token_pair((*top)[k], w, &alt.first, &alt.second, why)) return false;
        tl.top.push_back(std::move(alt));
      }
    }
    out->push_back(std::move(tl));
  }
  return true;
}

/// Legacy completions shape (OpenAI, vLLM): parallel arrays tokens, token_logprobs,
/// top_logprobs (one {token: logprob} object per position, sorted here by logprob).
bool parse_legacy_logprobs(const json& lp, std::vector<TokenLogprob>* out, std::string* why) {
  const json* tokens = member(lp, "tokens");
  const json* lps = member(lp, "token_logprobs");
  const json* tops = member(lp, "top_logprobs");
  if (!tokens->is_array()) return fail_why(why, "response logprobs.tokens is not an array");
  if (!lps || !lps->is_array() || lps->size() != tokens->size())
    return fail_why(why, "response logprobs.token_logprobs does not match logprobs.tokens");
  bool has_top = tops && !tops->is_null();
  if (has_top && (!tops->is_array() || tops->size() != tokens->size()))
    return fail_why(why, "response logprobs.top_logprobs does not match logprobs.tokens");
  for (size_t i = 0; i < tokens->size(); ++i) {
    std::string where = "logprobs.tokens[" + std::to_string(i) + "]";
    TokenLogprob tl;
    if (!(*tokens)[i].is_string()) return fail_why(why, "response " + where + " is not a string");
    tl.token = (*tokens)[i].get<std::string>();
    const json& l = (*lps)[i];
    if (!l.is_number()) return fail_why(why, "response logprobs.token_logprobs[" + std::to_string(i) + "] is not a number");
    tl.logprob = l.get<double>();
    if (has_top && !(*tops)[i].is_null()) {
      const json& alts = (*tops)[i];
      if (!alts.is_object())
        return fail_why(why, "response logprobs.top_logprobs[" + std::to_string(i) + "] is not an object");
      for (auto it = alts.begin(); it != alts.end(); ++it) {
        if (!it->is_number())
          return fail_why(why, "response logprobs.top_logprobs[" + std::to_string(i) + "] has a non-number logprob");
        tl.top.emplace_back(it.key(), it->get<double>());
      }
      std::stable_sort(tl.top.begin(), tl.top.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
    }
    out->push_back(std::move(tl));
  }
  return true;
}

bool parse_logprobs(const json& lp, std::vector<TokenLogprob>* out, std::string* why) {
  if (lp.is_null()) return true;
  if (!lp.is_object()) return fail_why(why, "response logprobs is not an object");
  if (const json* content = member(lp, "content")) return parse_content_logprobs(*content, out, why);
  if (member(lp, "tokens")) return parse_legacy_logprobs(lp, out, why);
  return fail_why(why, "response logprobs has neither content nor tokens");
}

/// The server's own error message, from {"error": {"message": ...}} or {"error": "..."}.
std::string server_error_text(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_discarded()) {
    if (const json* e = member(j, "error")) {
      if (e->is_string()) return escape_bytes(e->get<std::string>(), false, 200);
      if (const json* m = member(*e, "message"); m && m->is_string())
        return escape_bytes(m->get<std::string>(), false, 200);
    }
  }
  return escape_bytes(trim(body), false, 200);
}

size_t on_body(char* data, size_t size, size_t n, void* user);
size_t on_header(char* data, size_t size, size_t n, void* user);

std::once_flag g_curl_once;

}  // namespace

/// What one HTTP attempt produced.
struct HttpAttempt {
  CURLcode code = CURLE_OK;
  long status = 0;
  long os_errno = 0;
  double connect_time = 0;
  std::string body;
  std::string retry_after;
  size_t cap = kMaxResponseBytes;
  bool oversize = false;
  // Outcome, filled by classify().
  bool retryable = false;
  std::string what, detail;
};

namespace {

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<HttpAttempt*>(user);
  size_t len = size * n;
  if (len > a->cap - std::min(a->cap, a->body.size())) {
    a->oversize = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  a->body.append(data, len);
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<HttpAttempt*>(user);
  std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") a->retry_after.clear();  // a new response (after 100 Continue)
  if (starts_with_ci(line, "retry-after:")) a->retry_after = trim(line.substr(12));
  return size * n;
}

/// Sets `retryable`, `what` and `detail` from the transport and HTTP outcome.
void classify(HttpAttempt* a, const HttpOptions& o) {
  if (a->oversize || a->code == CURLE_FILESIZE_EXCEEDED) {
    a->what = "response body exceeds the " + human_bytes(a->cap) + " cap";
    return;
  }
  switch (a->code) {
    case CURLE_OK:
      if (a->status >= 200 && a->status < 300) return;
      a->retryable = a->status == 429 || a->status >= 500;
      a->what = "http " + std::to_string(a->status);
      a->detail = server_error_text(a->body);
      return;
    case CURLE_COULDNT_CONNECT:
      a->retryable = true;
      a->what = a->os_errno == ECONNREFUSED ? "connection refused"
                                             : "could not connect: " + lower(std::strerror(static_cast<int>(a->os_errno)));
      return;
    case CURLE_COULDNT_RESOLVE_HOST:
      a->what = "could not resolve host";
      return;
    case CURLE_OPERATION_TIMEDOUT:
      a->retryable = a->connect_time == 0;
      a->what = a->connect_time == 0 ? "could not connect within " + duration_str(o.connect_timeout_ms)
                                     : "no complete response within " + duration_str(o.timeout_ms);
      return;
    case CURLE_GOT_NOTHING:
      a->retryable = true;
      a->what = "server closed the connection without answering";
      return;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
      a->retryable = true;
      a->what = a->os_errno == ECONNRESET ? "connection reset by peer"
                                          : "connection lost: " + lower(curl_easy_strerror(a->code));
      return;
    default:
      a->what = lower(curl_easy_strerror(a->code));
  }
}

}  // namespace

bool normalize_endpoint(const std::string& endpoint, std::string* base, std::string* why) {
  std::string e = endpoint;
  if (!starts_with_ci(e, "http://") && !starts_with_ci(e, "https://"))
    return fail_why(why, "endpoint must start with http:// or https://");
  size_t host = e.find("://") + 3;
  if (host >= e.size() || e[host] == '/') return fail_why(why, "endpoint has no host");
  for (unsigned char c : e) {
    if (c <= 0x20 || c == 0x7f || c == '?' || c == '#')
      return fail_why(why, "endpoint must be a plain base url (no spaces, query or fragment)");
  }
  while (e.back() == '/') e.pop_back();
  if (e.size() < 3 || e.compare(e.size() - 3, 3, "/v1") != 0) e += "/v1";
  *base = e;
  return true;
}

std::string request_body(const ProbeRequest& req, const std::string& model) {
  json j = json::object();
  j["max_tokens"] = req.max_tokens;
  j["seed"] = req.seed;
  j["temperature"] = req.temperature;
  if (req.top_k) j["top_k"] = *req.top_k;
  if (req.top_p) j["top_p"] = *req.top_p;
  if (req.min_p) j["min_p"] = *req.min_p;
  if (!model.empty()) j["model"] = model;
  if (req.form == "chat") {
    json msgs = json::array();
    if (!req.system.empty()) msgs.push_back({{"role", "system"}, {"content", req.system}});
    msgs.push_back({{"role", "user"}, {"content", req.prompt}});
    j["messages"] = std::move(msgs);
    if (req.top_logprobs > 0) {
      j["logprobs"] = true;
      j["top_logprobs"] = req.top_logprobs;
    }
  } else {
    j["prompt"] = req.prompt;
    if (req.top_logprobs > 0) j["logprobs"] = req.top_logprobs;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool parse_response(const std::string& form, std::string_view body, ProbeResponse* out,
                    std::string* why) {
  if (!depth_ok(body)) return fail_why(why, "response nests json deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  json j;
  try {
    j = json::parse(body.begin(), body.end());
  } catch (const json::parse_error& e) {
    // nlohmann counts from 1; report the 0-based offset of the offending byte.
    return fail_why(why, "response is not valid json (byte " + std::to_string(e.byte > 0 ? e.byte - 1 : 0) + ")");
  } catch (const json::exception&) {  // e.g. out_of_range for 1e999
    return fail_why(why, "response has a number out of range");
  }
  const json* choices = member(j, "choices");
  if (!choices) {
    if (member(j, "error")) return fail_why(why, "server returned an error: " + server_error_text(body));
    return fail_why(why, "response has no choices");
  }
  if (!choices->is_array() || choices->empty()) return fail_why(why, "response choices is not a non-empty array");
  const json& c = (*choices)[0];
  if (!c.is_object()) return fail_why(why, "response choices[0] is not an object");
  ProbeResponse r;
  const json* text = nullptr;
  if (form == "chat") {
    const json* msg = member(c, "message");
    text = msg ? member(*msg, "content") : nullptr;
    if (!text || !(text->is_string() || text->is_null()))
      return fail_why(why, "response has no choices[0].message.content string");
  } else {
    text = member(c, "text");
    if (!text || !text->is_string()) return fail_why(why, "response has no choices[0].text string");
  }
  if (text->is_string()) r.text = text->get<std::string>();
  if (const json* fr = member(c, "finish_reason"); fr && !fr->is_null()) {
    if (!fr->is_string()) return fail_why(why, "response choices[0].finish_reason is not a string");
    r.finish_reason = fr->get<std::string>();
  }
  if (const json* lp = member(c, "logprobs")) {
    if (!parse_logprobs(*lp, &r.logprobs, why)) return false;
  }
  *out = std::move(r);
  return true;
}

long long parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  std::string v = trim(value);
  if (v.empty()) return -1;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (v.size() > 9) return 999999999;
    return std::stoll(v);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  char wday[4] = {}, mon[4] = {}, zone[4] = {};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0, used = 0;
  if (std::sscanf(v.c_str(), "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", wday, &day, mon,
                  &year, &hh, &mm, &ss, zone, &used) != 8 ||
      static_cast<size_t>(used) != v.size() || std::strcmp(zone, "GMT") != 0)
    return -1;
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int m = -1;
  for (int i = 0; i < 12; ++i) {
    if (std::strcmp(mon, kMonths[i]) == 0) m = i;
  }
  if (m < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970) return -1;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = m;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  long long when = static_cast<long long>(timegm(&tm));
  long long at = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return std::max(0LL, when - at);
}

bool HttpBackend::create(HttpOptions opts, std::unique_ptr<HttpBackend>* out, Error* err) {
  std::string base, why;
  if (!normalize_endpoint(opts.endpoint, &base, &why)) return fail(err, opts.endpoint, std::nullopt, why);
  std::call_once(g_curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (opts.api_key.empty() && opts.use_env_api_key) {
    if (const char* k = std::getenv("PEDIGREE_API_KEY")) opts.api_key = k;
  }
  opts.retries = std::clamp(opts.retries, 0, 20);
  if (!opts.sleep) opts.sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
  if (!opts.now) opts.now = [] { return std::chrono::system_clock::now(); };
  out->reset(new HttpBackend(std::move(opts), std::move(base)));
  return true;
}

HttpBackend::HttpBackend(HttpOptions opts, std::string base) : opts_(std::move(opts)), base_(std::move(base)) {}

std::string HttpBackend::describe() const {
  return opts_.model.empty() ? base_ : base_ + " model=" + opts_.model;
}

std::string HttpBackend::redact(std::string s) const {
  const std::string& k = opts_.api_key;
  if (k.size() < 4) return s;
  for (size_t p; (p = s.find(k)) != std::string::npos;) s.replace(p, k.size(), "<redacted>");
  return s;
}

void HttpBackend::attempt(const std::string& url, const std::string& body, HttpAttempt* a) const {
  std::unique_ptr<CURL, void (*)(CURL*)> h(curl_easy_init(), curl_easy_cleanup);
  if (!h) {
    a->code = CURLE_FAILED_INIT;
    return;
  }
  curl_slist* hdrs = nullptr;
  hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
  hdrs = curl_slist_append(hdrs, "Accept: application/json");
  hdrs = curl_slist_append(hdrs, "Expect:");
  if (!opts_.api_key.empty()) hdrs = curl_slist_append(hdrs, ("Authorization: Bearer " + opts_.api_key).c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> hold(hdrs, curl_slist_free_all);
  a->cap = opts_.max_response_bytes;
  CURL* c = h.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opts_.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(opts_.timeout_ms));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(opts_.max_response_bytes));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
  if (is_loopback_url(url)) curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  a->code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
  curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &a->os_errno);
  curl_easy_getinfo(c, CURLINFO_CONNECT_TIME, &a->connect_time);
  classify(a, opts_);
}

std::chrono::milliseconds HttpBackend::retry_delay(const HttpAttempt& a, int retry) const {
  if (!a.retry_after.empty()) {
    long long s = parse_retry_after(a.retry_after, opts_.now());
    if (s >= 0) return milliseconds(std::min<long long>(s * 1000, opts_.retry_after_cap_ms));
  }
  long long d = std::min<long long>(static_cast<long long>(opts_.backoff_base_ms) << std::min(retry, 20),
                                    opts_.backoff_cap_ms);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<long long> jitter(d / 2, std::max(d / 2, d));
  return milliseconds(jitter(rng));
}

bool HttpBackend::complete(const ProbeRequest& req, ProbeResponse* out, Error* err) {
  if (req.form != "chat" && req.form != "completion")
    return fail(err, base_, std::nullopt, "unknown request form '" + escape_bytes(req.form, true, 40) +
                                              "' (want chat or completion)");
  std::string url = base_ + (req.form == "chat" ? "/chat/completions" : "/completions");
  std::string body = request_body(req, opts_.model);
  HttpAttempt a;
  int retry = 0;
  for (;; ++retry) {
    a = HttpAttempt{};
    attempt(url, body, &a);
    if (!a.retryable || retry >= opts_.retries) break;
    std::string why;
    if (opts_.give_up && opts_.give_up(&why)) return fail(err, url, std::nullopt, redact(why));
    opts_.sleep(retry_delay(a, retry));
    if (opts_.give_up && opts_.give_up(&why)) return fail(err, url, std::nullopt, redact(why));
  }
  if (a.what.empty()) {
    std::string why;
    if (parse_response(req.form, a.body, out, &why)) return true;
    a.what = why;
  }
  std::string msg = a.what;
  if (retry > 0) msg += " (after " + std::to_string(retry) + (retry == 1 ? " retry)" : " retries)");
  if (!a.detail.empty()) msg += ": " + a.detail;
  return fail(err, url, std::nullopt, redact(msg));
}

}  // namespace pedigree::probes
