// This file implements a tiny in-process HTTP/1.1 server for backend tests: it
// listens on 127.0.0.1:0, answers each request with the next scripted response
// (one connection at a time, "Connection: close") and logs every request.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace pedigree::test {

/// One scripted answer.
struct StubResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int delay_ms = 0;             ///< wait before answering (interrupted when the stub stops)
  bool hang_up = false;         ///< close the connection without answering
};

/// One request as received.
struct StubRequest {
  std::string method, target;
  std::map<std::string, std::string> headers;  ///< names lowercased
  std::string body;
};

/// The server. Requests beyond the script get `fallback` (default: 500 "no scripted response").
class HttpStub {
 public:
  HttpStub();
  ~HttpStub();
  HttpStub(const HttpStub&) = delete;
  HttpStub& operator=(const HttpStub&) = delete;

  int port() const { return port_; }
  /// "http://127.0.0.1:PORT".
  std::string url() const;
  void push(StubResponse r);
  void set_fallback(StubResponse r);
  std::vector<StubRequest> requests() const;

  /// A 200 JSON response.
  static StubResponse json(std::string body);

 private:
  void serve();
  void handle(int fd);
  StubResponse next();

  int listen_fd_ = -1;
  int port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::deque<StubResponse> script_;
  StubResponse fallback_;
  std::vector<StubRequest> log_;
  std::thread thread_;
};

/// A loopback port nothing listens on (bound, read back and closed).
int closed_port();

}  // namespace pedigree::test
