// This file implements the loopback HTTP stub declared in http_stub.h: an accept
// loop on its own thread, a minimal request parser (request line, headers,
// Content-Length body) and scripted responses.
#include "tests/support/http_stub.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>

namespace pedigree::test {
namespace {

int bound_loopback_socket(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) std::abort();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    std::abort();
  *port = ntohs(addr.sin_port);
  return fd;
}

/// Reads more bytes into `buf`; false on EOF, error or 5 s of silence.
bool read_more(int fd, std::string* buf) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) <= 0) return false;
  char tmp[65536];
  ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf->append(tmp, static_cast<size_t>(n));
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void send_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

HttpStub::HttpStub() {
  fallback_.status = 500;
  fallback_.body = "no scripted response";
  listen_fd_ = bound_loopback_socket(&port_);
  if (::listen(listen_fd_, 16) != 0) std::abort();
  thread_ = std::thread([this] { serve(); });
}

HttpStub::~HttpStub() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
  ::close(listen_fd_);
}

std::string HttpStub::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HttpStub::push(StubResponse r) {
  std::lock_guard<std::mutex> lock(mu_);
  script_.push_back(std::move(r));
}

void HttpStub::set_fallback(StubResponse r) {
  std::lock_guard<std::mutex> lock(mu_);
  fallback_ = std::move(r);
}

std::vector<StubRequest> HttpStub::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

StubResponse HttpStub::json(std::string body) {
  StubResponse r;
  r.headers = {{"Content-Type", "application/json"}};
  r.body = std::move(body);
  return r;
}

StubResponse HttpStub::next() {
  std::lock_guard<std::mutex> lock(mu_);
  if (script_.empty()) return fallback_;
  StubResponse r = std::move(script_.front());
  script_.pop_front();
  return r;
}

void HttpStub::serve() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

void HttpStub::handle(int fd) {
  std::string buf;
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more(fd, &buf)) return;
  }
  StubRequest req;
  size_t line_end = buf.find("\r\n");
  std::string first = buf.substr(0, line_end);
  size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
  req.method = first.substr(0, sp1);
  req.target = sp2 > sp1 ? first.substr(sp1 + 1, sp2 - sp1 - 1) : "";
  for (size_t b = line_end + 2; b < end;) {
    size_t e = buf.find("\r\n", b);
    std::string h = buf.substr(b, e - b);
    size_t colon = h.find(':');
    if (colon != std::string::npos) {
      size_t v = h.find_first_not_of(' ', colon + 1);
      req.headers[lower(h.substr(0, colon))] = v == std::string::npos ? "" : h.substr(v);
    }
    b = e + 2;
  }
  size_t want = req.headers.count("content-length") ? std::strtoul(req.headers["content-length"].c_str(), nullptr, 10) : 0;
  while (buf.size() - (end + 4) < want) {
    if (!read_more(fd, &buf)) return;
  }
  req.body = buf.substr(end + 4, want);
  {
    std::lock_guard<std::mutex> lock(mu_);
    log_.push_back(req);
  }
  StubResponse r = next();
  if (r.delay_ms > 0) {
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_cv_.wait_for(lock, std::chrono::milliseconds(r.delay_ms), [this] { return stopping_; })) return;
  }
  if (r.hang_up) return;
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + (r.status == 200 ? " OK" : " Status") + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  out += "\r\n" + r.body;
  send_all(fd, out);
}

int closed_port() {
  int port = 0;
  int fd = bound_loopback_socket(&port);
  ::close(fd);
  return port;
}

}  // namespace pedigree::test
