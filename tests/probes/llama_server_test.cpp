// This file implements tests of the local GGUF backend against the real
// llama-server (scripts/llama-server.sh): start, answer, stop on destruction,
// a server killed mid-run, a model that fails to load, Ctrl-C cleanup, and the
// open_backend() wiring. Skipped when the binary is absent.
#include "probes/llama_server.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "probes/open_backend.h"
#include "tests/support/test_util.h"

namespace pedigree::probes {
namespace {

namespace fs = std::filesystem;

std::string tiny_model() { return test::samples_dir() + "/tinyllama-gguf/tinyllama-f32.gguf"; }

#define REQUIRE_SERVER()                                                                      \
  std::string bin = test::llama_server_binary();                                                         \
  if (bin.empty() || !fs::exists(bin))                                                       \
    GTEST_SKIP() << "llama-server not built: run scripts/llama-server.sh or set PEDIGREE_LLAMA_SERVER"

LlamaServerOptions options(const std::string& bin, const std::string& model) {
  LlamaServerOptions o;
  o.binary = bin;
  o.model_path = model;
  o.ctx_size = 256;
  o.threads = 1;
  o.parallel = 1;
  o.ready_timeout_ms = 60000;
  return o;
}

HttpOptions quick_http() {
  HttpOptions h;
  h.backoff_base_ms = 10;
  h.timeout_ms = 60000;
  return h;
}

/// Gone or a zombie (reparented to an init that has not reaped it yet).
bool process_gone(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(stat)), {});
    size_t close = s.rfind(')');
    if (close != std::string::npos && close + 2 < s.size() && s[close + 2] == 'Z') return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

ProbeRequest hello() {
  ProbeRequest r;
  r.prompt = "Once upon a time";
  r.max_tokens = 4;
  return r;
}

TEST(LlamaServer, StartsAnswersAndIsGoneAfterDestruction) {
  REQUIRE_SERVER();
  std::unique_ptr<LlamaServerBackend> b;
  Error err;
  ASSERT_TRUE(LlamaServerBackend::create(options(bin, tiny_model()), quick_http(), &b, &err)) << err.str();
  ASSERT_TRUE(b->ensure_started(&err)) << err.str();
  pid_t pid = b->server().pid();
  ASSERT_GT(pid, 0);
  EXPECT_EQ(::kill(pid, 0), 0);
  EXPECT_TRUE(b->server().alive(nullptr));
  EXPECT_EQ(b->describe(), "llama-server gguf-sha256=" + test::sha256_hex(slurp(tiny_model())) + " size=537728");
  ProbeResponse resp;
  ASSERT_TRUE(b->complete(hello(), &resp, &err)) << err.str();
  EXPECT_FALSE(resp.text.empty());
  EXPECT_EQ(resp.finish_reason, "length");
  ProbeRequest with_lp = hello();
  with_lp.form = "completion";
  with_lp.top_logprobs = 2;
  ASSERT_TRUE(b->complete(with_lp, &resp, &err)) << err.str();
  ASSERT_FALSE(resp.logprobs.empty());
  EXPECT_EQ(resp.logprobs[0].top.size(), 2u);
  b.reset();
  EXPECT_NE(::kill(pid, 0), 0);
  EXPECT_EQ(errno, ESRCH);
}

TEST(LlamaServer, ServerKilledMidRunGivesExactError) {
  REQUIRE_SERVER();
  std::unique_ptr<LlamaServerBackend> b;
  Error err;
  ASSERT_TRUE(LlamaServerBackend::create(options(bin, tiny_model()), quick_http(), &b, &err)) << err.str();
  ProbeResponse resp;
  ASSERT_TRUE(b->complete(hello(), &resp, &err)) << err.str();
  pid_t pid = b->server().pid();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_FALSE(b->complete(hello(), &resp, &err));
  EXPECT_EQ(err.str(), tiny_model() + ": llama-server (pid " + std::to_string(pid) +
                           ") exited with signal 9 during the run");
  ASSERT_FALSE(b->complete(hello(), &resp, &err));  // and every later call, at once
  EXPECT_EQ(err.message, "llama-server (pid " + std::to_string(pid) + ") exited with signal 9 during the run");
}

TEST(LlamaServer, ServesSeveralThreadsAtOnce) {
  REQUIRE_SERVER();
  LlamaServerOptions o = options(bin, tiny_model());
  o.parallel = 2;
  std::unique_ptr<LlamaServerBackend> b;
  Error err;
  ASSERT_TRUE(LlamaServerBackend::create(o, quick_http(), &b, &err)) << err.str();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        ProbeRequest req = hello();
        req.seed = static_cast<uint64_t>(t * 10 + i);
        ProbeResponse resp;
        Error e;
        if (b->complete(req, &resp, &e) && !resp.text.empty()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 12);
}

TEST(LlamaServer, ModelThatFailsToLoadReportsTheLogTail) {
  REQUIRE_SERVER();
  test::TempDir tmp;
  std::string bad = tmp.write("bad.gguf", "not a gguf file\n");
  std::unique_ptr<LlamaServerBackend> b;
  Error err;
  ASSERT_TRUE(LlamaServerBackend::create(options(bin, bad), quick_http(), &b, &err)) << err.str();
  ASSERT_FALSE(b->ensure_started(&err));  // the server starts on first use
  EXPECT_EQ(err.path, bad);
  EXPECT_EQ(err.message.rfind("llama-server (pid ", 0), 0u) << err.message;
  EXPECT_NE(err.message.find(") exited with status 1 before it was ready; last lines of its log:\n  "),
            std::string::npos)
      << err.message;
  EXPECT_NE(err.message.find("failed to load model"), std::string::npos) << err.message;
}

TEST(LlamaServer, MissingBinaryOrModel) {
  std::unique_ptr<LlamaServerBackend> b;
  Error err;
  ASSERT_FALSE(LlamaServerBackend::create(options("/nonexistent/llama-server", tiny_model()), {}, &b, &err));
  EXPECT_EQ(err.str(), "/nonexistent/llama-server: not an executable file");
  ASSERT_FALSE(LlamaServerBackend::create(options("/bin/true", "/nonexistent/m.gguf"), {}, &b, &err));
  EXPECT_EQ(err.str(), "/nonexistent/m.gguf: no such model file");
}

TEST(LlamaServer, InterruptKillsTheServerAndReraises) {
  REQUIRE_SERVER();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    std::unique_ptr<LlamaServerBackend> b;
    Error err;
    pid_t server = -1;
    if (LlamaServerBackend::create(options(bin, tiny_model()), quick_http(), &b, &err) && b->ensure_started(&err))
      server = b->server().pid();
    (void)!::write(fds[1], &server, sizeof server);
    for (;;) ::pause();  // until SIGINT
  }
  ::close(fds[1]);
  pid_t server = -1;
  ASSERT_EQ(::read(fds[0], &server, sizeof server), static_cast<ssize_t>(sizeof server));
  ::close(fds[0]);
  ASSERT_GT(server, 0);
  ASSERT_EQ(::kill(child, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << status;
  EXPECT_TRUE(process_gone(server));
}

TEST(LlamaServer, OpenBackendServesAGgufThroughTheCache) {
  REQUIRE_SERVER();
  test::TempDir tmp;
  BackendOptions o;
  o.gguf_path = tiny_model();
  o.llama_server = bin;
  o.cache_dir = (tmp.path() / "cache").string();
  o.concurrency = 1;
  o.threads = 1;
  o.ctx_size = 256;
  ProbeResponse a, b;
  Error err;
  for (ProbeResponse* r : {&a, &b}) {
    std::unique_ptr<Backend> backend;
    ASSERT_TRUE(open_backend(o, &backend, &err)) << err.str();
    ASSERT_TRUE(backend->complete(hello(), r, &err)) << err.str();
  }
  EXPECT_FALSE(a.from_cache);
  EXPECT_TRUE(b.from_cache);
  EXPECT_EQ(a.text, b.text);
}

TEST(OpenBackend, RejectsBadOptions) {
  BackendOptions o;
  std::unique_ptr<Backend> b;
  Error err;
  ASSERT_FALSE(open_backend(o, &b, &err));
  EXPECT_EQ(err.message, "give exactly one of --endpoint and --gguf");
  o.endpoint = "http://127.0.0.1:1";
  o.gguf_path = "m.gguf";
  ASSERT_FALSE(open_backend(o, &b, &err));
  o.gguf_path.clear();
  o.timeout_s = 0;
  ASSERT_FALSE(open_backend(o, &b, &err));
  EXPECT_EQ(err.message, "timeout 0 s out of range (want 1..86400)");
  o.timeout_s = 5;
  o.no_cache = true;
  ASSERT_TRUE(open_backend(o, &b, &err)) << err.str();
  EXPECT_EQ(cache_stats(*b).hits, 0u);
  EXPECT_EQ(b->describe(), "http://127.0.0.1:1/v1");
}

}  // namespace
}  // namespace pedigree::probes
