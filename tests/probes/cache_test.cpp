// This file implements tests for the response cache: hits send no request and
// return the same answer, every request field is in the key, corrupt or
// truncated entries and leftover temp files are misses that get rewritten.
#include "probes/cache.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "probes/http_backend.h"
#include "tests/support/http_stub.h"
#include "tests/support/test_util.h"

namespace pedigree::probes {
namespace {

namespace fs = std::filesystem;
using test::HttpStub;

const char* kAnswer =
    R"({"choices":[{"finish_reason":"length","message":{"content":"Re"},"logprobs":{"content":[)"
    R"({"token":"R","logprob":-0.8751220107078552,"top_logprobs":[{"token":"R","logprob":-0.8751220107078552},)"
    R"({"token":"1","logprob":-1.5409126281738281}]}]}}]})";

struct CacheFixture {
  HttpStub stub;
  test::TempDir tmp;

  std::unique_ptr<CachingBackend> open() {
    HttpOptions o;
    o.endpoint = stub.url();
    o.model = "tiny";
    o.use_env_api_key = false;
    o.sleep = [](std::chrono::milliseconds) {};
    std::unique_ptr<HttpBackend> http;
    Error err;
    EXPECT_TRUE(HttpBackend::create(o, &http, &err));
    return std::make_unique<CachingBackend>(std::move(http), (tmp.path() / "responses").string());
  }
};

ProbeRequest request() {
  ProbeRequest r;
  r.system = "sys";
  r.prompt = "hi";
  r.top_logprobs = 2;
  return r;
}

void expect_same(const ProbeResponse& a, const ProbeResponse& b) {
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.finish_reason, b.finish_reason);
  ASSERT_EQ(a.logprobs.size(), b.logprobs.size());
  for (size_t i = 0; i < a.logprobs.size(); ++i) {
    EXPECT_EQ(a.logprobs[i].token, b.logprobs[i].token);
    EXPECT_EQ(a.logprobs[i].logprob, b.logprobs[i].logprob);  // bit-exact round trip
    EXPECT_EQ(a.logprobs[i].top, b.logprobs[i].top);
  }
}

std::vector<std::string> files_under(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path().filename().string());
  }
  return out;
}

TEST(ResponseCache, HitSendsNoRequestAndReturnsTheSameAnswer) {
  CacheFixture f;
  f.stub.push(HttpStub::json(kAnswer));
  ProbeResponse first, second;
  Error err;
  {
    auto c = f.open();
    ASSERT_TRUE(c->complete(request(), &first, &err)) << err.str();
    EXPECT_FALSE(first.from_cache);
    CacheStats s = c->stats();
    EXPECT_EQ(s.misses, 1u);
    EXPECT_EQ(s.sent, 1u);
    EXPECT_EQ(s.hits, 0u);
  }
  ASSERT_EQ(f.stub.requests().size(), 1u);
  auto c = f.open();  // a new run over the same directory
  ASSERT_TRUE(c->complete(request(), &second, &err)) << err.str();
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(f.stub.requests().size(), 1u) << "a hit must not reach the server";
  expect_same(first, second);
  ASSERT_EQ(second.logprobs.size(), 1u);
  EXPECT_EQ(second.logprobs[0].logprob, -0.8751220107078552);
  CacheStats s = c->stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 0u);
  EXPECT_EQ(s.sent, 0u);
  EXPECT_EQ(files_under(f.tmp.path()), std::vector<std::string>{fs::path(c->entry_path(request())).filename().string()});
}

TEST(ResponseCache, EveryRequestFieldIsInTheKey) {
  std::string id = "http://h/v1 model=m";
  std::string base = cache_key(id, request());
  EXPECT_EQ(base.size(), 64u);
  std::vector<ProbeRequest> variants(11, request());
  variants[0].form = "completion";
  variants[1].system = "other";
  variants[2].prompt = "hi ";
  variants[3].temperature = 0.7;
  variants[4].seed = 43;
  variants[5].max_tokens = 65;
  variants[6].top_logprobs = 0;
  variants[8].top_k = 0;
  variants[9].top_p = 1.0;
  variants[10].min_p = 0.0;
  for (const ProbeRequest& v : variants) {
    if (&v == &variants[7]) {
      EXPECT_EQ(cache_key(id, v), base);
      EXPECT_NE(cache_key("http://h/v1 model=n", v), base);
    } else {
      EXPECT_NE(cache_key(id, v), base);
    }
  }
  EXPECT_EQ(cache_canonical(id, request()),
            R"({"form":"chat","identity":"http://h/v1 model=m","max_tokens":64,"prompt":"hi","seed":42,)"
            R"("system":"sys","temperature":0.0,"top_logprobs":2,"v":1})");
  EXPECT_EQ(base, test::sha256_hex(cache_canonical(id, request())));
  // Sampler fields appear only when set, so entries written without them keep their keys.
  ProbeRequest s = request();
  s.top_k = 0, s.top_p = 1.0, s.min_p = 0.05;
  EXPECT_EQ(cache_canonical(id, s),
            R"({"form":"chat","identity":"http://h/v1 model=m","max_tokens":64,"min_p":0.05,"prompt":"hi","seed":42,)"
            R"("system":"sys","temperature":0.0,"top_k":0,"top_logprobs":2,"top_p":1.0,"v":1})");
}

TEST(ResponseCache, CorruptOrTruncatedEntryIsAMissAndIsRewritten) {
  CacheFixture f;
  f.stub.set_fallback(HttpStub::json(kAnswer));
  auto c = f.open();
  ProbeResponse resp;
  Error err;
  ASSERT_TRUE(c->complete(request(), &resp, &err));
  std::string path = c->entry_path(request());
  std::string good;
  {
    std::ifstream in(path, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (std::string bad : {good.substr(0, good.size() / 2), std::string("\x00\xff garbage", 10), std::string(),
                          std::string(R"({"format":"pedigree-response-cache/1","request":"x","response":{}})")}) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << bad;
    }
    size_t before = f.stub.requests().size();
    ASSERT_TRUE(c->complete(request(), &resp, &err)) << err.str();
    EXPECT_FALSE(resp.from_cache);
    EXPECT_EQ(f.stub.requests().size(), before + 1);
    std::ifstream in(path, std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), good) << "entry rewritten";
  }
  CacheStats s = c->stats();
  EXPECT_EQ(s.corrupt, 4u);
  EXPECT_EQ(s.misses, 5u);
  EXPECT_EQ(s.write_errors, 0u);
}

TEST(ResponseCache, LeftoverTempFileFromAnInterruptedWriteIsIgnored) {
  CacheFixture f;
  f.stub.set_fallback(HttpStub::json(kAnswer));
  auto c = f.open();
  fs::path entry = c->entry_path(request());
  fs::create_directories(entry.parent_path());
  std::string key = entry.stem().string();
  fs::path leftover = entry.parent_path() / (".tmp-" + key.substr(0, 16) + "-1-2");
  {
    std::ofstream out(leftover, std::ios::binary);
    out << R"({"format":"pedigree-response-cache/1","ke)";  // killed mid-write
  }
  ProbeResponse resp;
  Error err;
  ASSERT_TRUE(c->complete(request(), &resp, &err));
  EXPECT_FALSE(resp.from_cache);
  EXPECT_EQ(c->stats().corrupt, 0u);
  ASSERT_TRUE(c->complete(request(), &resp, &err));
  EXPECT_TRUE(resp.from_cache);
  EXPECT_EQ(f.stub.requests().size(), 1u);
  auto files = files_under(f.tmp.path());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{leftover.filename().string(), entry.filename().string()}));
}

TEST(ResponseCache, FailuresAreNotCached) {
  CacheFixture f;
  test::StubResponse bad;
  bad.status = 400;
  bad.body = "no";
  f.stub.push(bad);
  f.stub.push(HttpStub::json(kAnswer));
  auto c = f.open();
  ProbeResponse resp;
  Error err;
  ASSERT_FALSE(c->complete(request(), &resp, &err));
  ASSERT_TRUE(c->complete(request(), &resp, &err)) << err.str();
  EXPECT_FALSE(resp.from_cache);
  EXPECT_EQ(f.stub.requests().size(), 2u);
}

TEST(ResponseCache, UnwritableDirectoryCountsWriteErrors) {
  CacheFixture f;
  f.stub.set_fallback(HttpStub::json(kAnswer));
  HttpOptions o;
  o.endpoint = f.stub.url();
  o.use_env_api_key = false;
  std::unique_ptr<HttpBackend> http;
  Error err;
  ASSERT_TRUE(HttpBackend::create(o, &http, &err));
  std::string file = f.tmp.write("not-a-dir", "x");
  CachingBackend c(std::move(http), file + "/responses");
  ProbeResponse resp;
  ASSERT_TRUE(c.complete(request(), &resp, &err)) << err.str();
  EXPECT_EQ(c.stats().write_errors, 1u);
}

TEST(ResponseCache, DefaultDirectoryFollowsXdg) {
  const char* old = std::getenv("XDG_CACHE_HOME");
  std::string saved = old ? old : "";
  ::setenv("XDG_CACHE_HOME", "/x/cache", 1);
  EXPECT_EQ(CachingBackend::default_dir(), "/x/cache/pedigree/responses");
  ::setenv("XDG_CACHE_HOME", "relative", 1);  // the spec says ignore relative paths
  std::string home = std::getenv("HOME") ? std::getenv("HOME") : ".";
  EXPECT_EQ(CachingBackend::default_dir(), home + "/.cache/pedigree/responses");
  if (old) ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  else ::unsetenv("XDG_CACHE_HOME");
}

}  // namespace
}  // namespace pedigree::probes
