// This file implements the llama-server lifecycle declared in llama_server.h:
// binary lookup, free-port selection, fork/exec with the log in a temp file,
// readiness polling of /health, the signal-safe child registry, and stopping.
#include "probes/llama_server.h"

#include "fingerprint/digest.h"
#include "fingerprint/mapped_file.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace pedigree::probes {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---- signal-safe registry of running children ----
constexpr int kMaxChildren = 32;
std::atomic<pid_t> g_children[kMaxChildren];
struct sigaction g_old_actions[NSIG];
std::atomic<bool> g_handlers_installed{false};

int register_child(pid_t pid) {
  for (int i = 0; i < kMaxChildren; ++i) {
    pid_t expected = 0;
    if (g_children[i].compare_exchange_strong(expected, pid)) return i;
  }
  return -1;
}

void unregister_child(int slot) {
  if (slot >= 0) g_children[slot].store(0);
}

void on_fatal_signal(int sig) {
  kill_registered_children();
  sigaction(sig, &g_old_actions[sig], nullptr);
  raise(sig);  // delivered when this handler returns, with the old disposition
}

// ---- helpers ----
std::string status_text(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "exited with signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

bool executable(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

/// A loopback port that was free a moment ago (bind port 0, read it back, close).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

size_t discard_body(char*, size_t size, size_t n, void*) { return size * n; }

/// HTTP status of GET `url`, 0 when there was no answer.
long http_get_status(const std::string& url, long timeout_ms) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, void (*)(CURL*)> h(curl_easy_init(), curl_easy_cleanup);
  if (!h) return 0;
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h.get(), CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, discard_body);
  long status = 0;
  if (curl_easy_perform(h.get()) == CURLE_OK) curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
  return status;
}

std::string log_mention(const std::string& tail) {
  return tail.empty() ? "; its log is empty" : "; last lines of its log:\n" + tail;
}

}  // namespace

void kill_registered_children() {
  for (auto& c : g_children) {
    pid_t pid = c.load();
    if (pid > 0) ::kill(pid, SIGKILL);
  }
}

void install_child_cleanup_handlers() {
  if (g_handlers_installed.exchange(true)) return;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction sa {};
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(sig, &sa, &g_old_actions[sig]);
  }
}

bool find_llama_server(const std::string& explicit_path, std::string* out, Error* err) {
  if (!explicit_path.empty()) {
    if (!executable(explicit_path)) return fail(err, explicit_path, std::nullopt, "not an executable file");
    *out = explicit_path;
    return true;
  }
  if (const char* env = std::getenv("PEDIGREE_LLAMA_SERVER"); env && *env) {
    if (!executable(env))
      return fail(err, env, std::nullopt, "not an executable file (from PEDIGREE_LLAMA_SERVER)");
    *out = env;
    return true;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  for (size_t b = 0; b <= dirs.size();) {
    size_t e = dirs.find(':', b);
    if (e == std::string::npos) e = dirs.size();
    std::string cand = (e > b ? dirs.substr(b, e - b) : ".") + "/llama-server";
    if (executable(cand)) {
      *out = cand;
      return true;
    }
    b = e + 1;
  }
  return fail(err, "llama-server", std::nullopt,
              "not found (give --llama-server, set PEDIGREE_LLAMA_SERVER or put it on PATH)");
}

std::string LlamaServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

bool LlamaServer::launch(const std::vector<std::string>& args, Error* err) {
  std::string tmpl = (fs::temp_directory_path() / "pedigree-llama-server-XXXXXX.log").string();
  int log_fd = ::mkstemps(tmpl.data(), 4);
  if (log_fd < 0) return fail(err, tmpl, std::nullopt, std::string("cannot create log file: ") + std::strerror(errno));
  log_path_ = tmpl;
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return fail(err, binary_, std::nullopt, std::string("cannot fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the parent (thread) that started us
    if (::getppid() != parent) ::_exit(127);
    ::setpgid(0, 0);                     // the terminal's Ctrl-C goes to us; we stop the child
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    const char msg[] = "pedigree: exec of llama-server failed\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::close(log_fd);
  pid_ = pid;
  exited_ = false;
  slot_ = register_child(pid);
  return true;
}

bool LlamaServer::alive(std::string* why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pid_ > 0 && !exited_) {
    siginfo_t info{};
    // Peek without reaping, so the pid stays ours while it is in the registry.
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_) {
      unregister_child(slot_);
      slot_ = -1;
      ::waitpid(pid_, &status_, 0);
      exited_ = true;
    }
  }
  if (!exited_) return true;
  if (why) *why = "llama-server (pid " + std::to_string(pid_) + ") " + status_text(status_);
  return false;
}

void LlamaServer::stop() {
  if (!alive(nullptr)) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (pid_ <= 0 || exited_) return;
  ::kill(pid_, SIGTERM);
  auto deadline = Clock::now() + std::chrono::milliseconds(grace_ms_);
  siginfo_t info{};
  while (Clock::now() < deadline) {
    info = {};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (info.si_pid != pid_) ::kill(pid_, SIGKILL);
  unregister_child(slot_);
  slot_ = -1;
  ::waitpid(pid_, &status_, 0);
  exited_ = true;
}

std::string LlamaServer::log_tail(int n) const {
  std::ifstream f(log_path_, std::ios::binary);
  if (!f) return "";
  f.seekg(0, std::ios::end);
  std::streamoff size = f.tellg();
  std::streamoff from = size > 16384 ? size - 16384 : 0;  // the tail is in the last 16 KiB
  f.seekg(from);
  std::string buf(static_cast<size_t>(size - from), '\0');
  f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  std::vector<std::string> lines;
  size_t b = 0;
  while (b < buf.size()) {
    size_t e = buf.find('\n', b);
    if (e == std::string::npos) e = buf.size();
    if (e > b) lines.push_back(escape_bytes(std::string_view(buf).substr(b, e - b), false, 300));
    b = e + 1;
  }
  std::string out;
  for (size_t i = lines.size() > static_cast<size_t>(n) ? lines.size() - n : 0; i < lines.size(); ++i)
    out += "  " + lines[i] + (i + 1 < lines.size() ? "\n" : "");
  return out;
}

bool LlamaServer::wait_ready(const LlamaServerOptions& opts, Error* err) {
  auto deadline = Clock::now() + std::chrono::milliseconds(opts.ready_timeout_ms);
  std::string why;
  while (Clock::now() < deadline) {
    if (!alive(&why))
      return fail(err, model_path_, std::nullopt, why + " before it was ready" + log_mention(log_tail(8)));
    if (http_get_status(url() + "/health", 1000) == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string tail = log_tail(8);
  stop();
  return fail(err, model_path_, std::nullopt,
              "llama-server (pid " + std::to_string(pid_) + ") not ready within " +
                  std::to_string(opts.ready_timeout_ms / 1000) + " s" + log_mention(tail));
}

bool LlamaServer::start(const LlamaServerOptions& opts, std::unique_ptr<LlamaServer>* out, Error* err) {
  std::string binary;
  if (!find_llama_server(opts.binary, &binary, err)) return false;
  for (int tries = 0;; ++tries) {
    std::unique_ptr<LlamaServer> s(new LlamaServer());
    s->binary_ = binary;
    s->model_path_ = opts.model_path;
    s->grace_ms_ = opts.grace_ms;
    s->port_ = free_port();
    if (s->port_ == 0) return fail(err, "127.0.0.1", std::nullopt, "cannot find a free loopback port");
    std::vector<std::string> argv = {binary, "-m", opts.model_path, "--host", "127.0.0.1",
                                     "--port", std::to_string(s->port_), "-c", std::to_string(opts.ctx_size),
                                     "--threads", std::to_string(opts.threads), "--threads-batch",
                                     std::to_string(opts.threads), "--parallel", std::to_string(opts.parallel),
                                     "--no-webui", "--no-warmup", "--log-colors", "off"};
    if (!s->launch(argv, err)) return false;
    if (s->wait_ready(opts, err)) {
      *out = std::move(s);
      return true;
    }
    // Another process took the port between our probe and the server's bind: try another.
    bool collided = s->log_tail(20).find("bind") != std::string::npos;
    if (!collided || tries >= 2) return false;
  }
}

LlamaServer::~LlamaServer() {
  stop();
  if (!log_path_.empty()) ::unlink(log_path_.c_str());
}

namespace {

// "llama-server gguf-sha256=HEX size=N" from one read of the model file.
bool model_identity(const std::string& path, std::string* out, Error* err) {
  std::unique_ptr<MappedFile> f = MappedFile::open(path, err);
  if (!f) return false;
  Hasher h(HashAlgorithm::kSha256);
  hash_mapped_range(*f, 0, f->size(), &h);
  *out = "llama-server gguf-sha256=" + to_hex(h.finish()) + " size=" + std::to_string(f->size());
  return true;
}

}  // namespace

bool LlamaServerBackend::create(const LlamaServerOptions& opts, HttpOptions http,
                                std::unique_ptr<LlamaServerBackend>* out, Error* err) {
  std::error_code ec;
  fs::path model = fs::canonical(opts.model_path, ec);
  if (ec || !fs::is_regular_file(model, ec))
    return fail(err, opts.model_path, std::nullopt, "no such model file");
  std::unique_ptr<LlamaServerBackend> b(new LlamaServerBackend());
  b->model_path_ = opts.model_path;
  if (!model_identity(model.string(), &b->identity_, err)) return false;
  b->opts_ = opts;
  if (!find_llama_server(opts.binary, &b->opts_.binary, err)) return false;  // fail fast on a bad binary
  b->http_opts_ = std::move(http);
  *out = std::move(b);
  return true;
}

bool LlamaServerBackend::ensure_started(Error* err) {
  std::lock_guard<std::mutex> lock(start_mu_);
  if (http_) return true;
  if (start_failed_) {
    if (err) *err = start_err_;
    return false;
  }
  install_child_cleanup_handlers();
  HttpOptions http = http_opts_;
  bool started = false, returned = false;
  owner_ = std::thread([this, &started, &returned] {
    std::unique_lock<std::mutex> lock(owner_mu_);
    started = LlamaServer::start(opts_, &server_, &start_err_);
    returned = true;
    owner_cv_.notify_all();
    owner_cv_.wait(lock, [this] { return owner_done_; });
  });
  {
    std::unique_lock<std::mutex> lock(owner_mu_);
    owner_cv_.wait(lock, [&returned] { return returned; });
  }
  if (!started) {
    start_failed_ = true;
    if (err) *err = start_err_;
    return false;
  }
  LlamaServer* server = server_.get();
  http.endpoint = server->url();
  http.model.clear();
  http.api_key.clear();
  http.use_env_api_key = false;  // the local server needs no key; never send the user's
  http.give_up = [server](std::string* why) {
    if (server->alive(why)) return false;
    *why += " during the run";
    return true;
  };
  std::unique_ptr<HttpBackend> h;
  if (!HttpBackend::create(std::move(http), &h, &start_err_)) {
    start_failed_ = true;
    if (err) *err = start_err_;
    return false;
  }
  http_ = std::move(h);
  return true;
}

LlamaServerBackend::~LlamaServerBackend() {
  if (server_) server_->stop();
  if (owner_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(owner_mu_);
      owner_done_ = true;
    }
    owner_cv_.notify_all();
    owner_.join();
  }
}

bool LlamaServerBackend::complete(const ProbeRequest& req, ProbeResponse* out, Error* err) {
  if (!ensure_started(err)) return false;
  std::string why;
  if (!server_->alive(&why)) return fail(err, model_path_, std::nullopt, why + " during the run");
  if (http_->complete(req, out, err)) return true;
  if (!server_->alive(&why)) return fail(err, model_path_, std::nullopt, why + " during the run");
  return false;
}

}  // namespace pedigree::probes
