// This file implements the local GGUF backend: it starts llama.cpp's
// `llama-server` on a free loopback port, waits for /health, talks HTTP to it,
// and always stops it (SIGTERM, then SIGKILL after a grace period) on
// destruction, on error and, through a signal-safe registry, on Ctrl-C.
#pragma once

#include <sys/types.h>

#include <memory>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <string>

#include "probes/backend.h"
#include "probes/http_backend.h"

namespace pedigree::probes {

/// How to start the server.
struct LlamaServerOptions {
  std::string binary;          ///< empty: $PEDIGREE_LLAMA_SERVER, else `llama-server` on PATH
  std::string model_path;      ///< the GGUF file
  int ctx_size = 2048;         ///< -c (llama-server caps it at the model's training context)
  int threads = 2;             ///< --threads and --threads-batch
  int parallel = 4;            ///< --parallel (server slots)
  int ready_timeout_ms = 120000;  ///< how long loading may take before /health says ok
  int grace_ms = 3000;         ///< SIGTERM to SIGKILL
};

/// A running llama-server child process.
class LlamaServer {
 public:
  /// Starts the server and waits until GET /health answers 200. On failure the
  /// child is stopped and `err` carries the last lines of its log.
  static bool start(const LlamaServerOptions& opts, std::unique_ptr<LlamaServer>* out, Error* err);
  ~LlamaServer();
  LlamaServer(const LlamaServer&) = delete;
  LlamaServer& operator=(const LlamaServer&) = delete;

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  /// "http://127.0.0.1:PORT".
  std::string url() const;
  /// The resolved binary path.
  const std::string& binary() const { return binary_; }
  /// False once the child has exited; `why` then says how, e.g.
  /// "llama-server (pid 1234) exited with signal 9".
  bool alive(std::string* why);
  /// Stops the child (SIGTERM, SIGKILL after the grace period) and reaps it. Idempotent.
  void stop();
  /// The last `n` lines of the server's log.
  std::string log_tail(int n) const;

 private:
  LlamaServer() = default;
  bool launch(const std::vector<std::string>& argv, Error* err);
  bool wait_ready(const LlamaServerOptions& opts, Error* err);

  std::mutex mu_;
  pid_t pid_ = -1;
  int port_ = 0;
  int slot_ = -1;              // index in the signal registry
  bool exited_ = false;
  int status_ = 0;             // waitpid status once exited_
  std::string binary_, log_path_, model_path_;
  int grace_ms_ = 3000;
};

/// A backend that owns a LlamaServer and an HttpBackend talking to it. Calls
/// after the server has died fail with "llama-server (pid N) exited with
/// signal 9 during the run" (path = the model file).
class LlamaServerBackend : public Backend {
 public:
  /// Checks the model and records its identity; the server itself starts on the
  /// first call (so a run served entirely from the cache starts none). `http`
  /// supplies timeouts and retries (endpoint and model are set when it starts).
  static bool create(const LlamaServerOptions& opts, HttpOptions http, std::unique_ptr<LlamaServerBackend>* out,
                     Error* err);
  ~LlamaServerBackend() override;

  bool complete(const ProbeRequest& req, ProbeResponse* out, Error* err) override;
  /// "llama-server gguf-sha256=HEX size=N": the model's content, so the cache
  /// survives moves and checkouts and never mixes two models.
  std::string describe() const override { return identity_; }
  /// Starts the server now if it has not started (false with the reason).
  bool ensure_started(Error* err);
  /// The running server; call ensure_started() first.
  LlamaServer& server() { return *server_; }

 private:
  LlamaServerBackend() = default;
  std::unique_ptr<LlamaServer> server_;
  std::unique_ptr<HttpBackend> http_;
  std::string identity_, model_path_;
  LlamaServerOptions opts_;
  HttpOptions http_opts_;
  std::mutex start_mu_;
  bool start_failed_ = false;
  Error start_err_;
  // The server is forked from this thread, which lives until destruction: the
  // child's parent-death signal fires when the forking *thread* ends, so a
  // short-lived worker thread must never be the one that starts it.
  std::thread owner_;
  std::mutex owner_mu_;
  std::condition_variable owner_cv_;
  bool owner_done_ = false;
};

/// Resolves the llama-server binary: `explicit_path`, else $PEDIGREE_LLAMA_SERVER,
/// else `llama-server` on PATH.
bool find_llama_server(const std::string& explicit_path, std::string* out, Error* err);

/// Installs SIGINT/SIGTERM/SIGHUP handlers (once) that SIGKILL every running
/// llama-server child, restore the previous disposition and re-raise the signal.
void install_child_cleanup_handlers();

/// SIGKILLs every registered child now. Async-signal-safe.
void kill_registered_children();

}  // namespace pedigree::probes
