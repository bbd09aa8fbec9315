// This file implements tests for the HTTP backend against the loopback stub:
// exact request bodies, logprobs in llama-server and vLLM shapes, retries
// (Retry-After, 5xx, refused, hang-up), timeouts, size cap, bad JSON, API key.
#include "probes/http_backend.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "tests/support/http_stub.h"

namespace pedigree::probes {
namespace {

using std::chrono::milliseconds;
using test::HttpStub;
using test::StubResponse;

const char* kChatOk =
    R"({"choices":[{"finish_reason":"stop","index":0,"message":{"role":"assistant","content":"Paris"}}]})";

struct Fixture {
  HttpStub stub;
  std::vector<milliseconds> sleeps;
  std::unique_ptr<HttpBackend> backend;

  explicit Fixture(HttpOptions o = {}, std::string suffix = "") {
    o.endpoint = stub.url() + suffix;
    if (o.model.empty()) o.model = "tiny";
    o.sleep = [this](milliseconds d) { sleeps.push_back(d); };
    o.now = [] { return std::chrono::system_clock::from_time_t(1700000000); };
    Error err;
    EXPECT_TRUE(HttpBackend::create(std::move(o), &backend, &err)) << err.str();
  }
  std::string chat_url() const { return stub.url() + "/v1/chat/completions"; }
};

ProbeRequest chat(std::string prompt) {
  ProbeRequest r;
  r.prompt = std::move(prompt);
  return r;
}

TEST(HttpBackend, ChatRequestBodyIsExact) {
  Fixture f;
  f.stub.push(HttpStub::json(kChatOk));
  ProbeRequest req = chat("capital of France?");
  req.system = "be brief";
  req.seed = 7;
  req.max_tokens = 5;
  ProbeResponse resp;
  Error err;
  ASSERT_TRUE(f.backend->complete(req, &resp, &err)) << err.str();
  EXPECT_EQ(resp.text, "Paris");
  EXPECT_EQ(resp.finish_reason, "stop");
  EXPECT_TRUE(resp.logprobs.empty());
  EXPECT_FALSE(resp.from_cache);
  auto log = f.stub.requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].method, "POST");
  EXPECT_EQ(log[0].target, "/v1/chat/completions");
  EXPECT_EQ(log[0].headers["content-type"], "application/json");
  EXPECT_EQ(log[0].headers.count("authorization"), 0u);
  EXPECT_EQ(log[0].body,
            R"({"max_tokens":5,"messages":[{"content":"be brief","role":"system"},)"
            R"({"content":"capital of France?","role":"user"}],"model":"tiny","seed":7,"temperature":0.0})");
}

TEST(HttpBackend, CompletionRequestBodyWithLogprobsAndV1Suffix) {
  Fixture f({}, "/v1/");
  f.stub.push(HttpStub::json(R"({"choices":[{"text":" world","finish_reason":"length"}]})"));
  ProbeRequest req;
  req.form = "completion";
  req.prompt = "hello";
  req.temperature = 0.5;
  req.top_logprobs = 3;
  ProbeResponse resp;
  Error err;
  ASSERT_TRUE(f.backend->complete(req, &resp, &err)) << err.str();
  EXPECT_EQ(resp.text, " world");
  EXPECT_EQ(resp.finish_reason, "length");
  auto log = f.stub.requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].target, "/v1/completions");
  EXPECT_EQ(log[0].body,
            R"({"logprobs":3,"max_tokens":64,"model":"tiny","prompt":"hello","seed":42,"temperature":0.5})");
  EXPECT_EQ(f.backend->describe(), f.stub.url() + "/v1 model=tiny");
}

TEST(HttpBackend, SamplerFieldsAreSentOnlyWhenSet) {
  Fixture f({}, "");
  f.stub.push(HttpStub::json(R"({"choices":[{"text":"a","finish_reason":"length"}]})"));
  f.stub.push(HttpStub::json(R"({"choices":[{"text":"b","finish_reason":"length"}]})"));
  ProbeRequest req;
  req.form = "completion";
  req.prompt = "x";
  req.temperature = 1.0;
  ProbeResponse resp;
  Error err;
  ASSERT_TRUE(f.backend->complete(req, &resp, &err)) << err.str();
  req.top_k = 0, req.top_p = 1.0, req.min_p = 0.0;
  ASSERT_TRUE(f.backend->complete(req, &resp, &err)) << err.str();
  auto log = f.stub.requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].body, R"({"max_tokens":64,"model":"tiny","prompt":"x","seed":42,"temperature":1.0})");
  EXPECT_EQ(log[1].body, R"({"max_tokens":64,"min_p":0.0,"model":"tiny","prompt":"x","seed":42,"temperature":1.0,)"
                         R"("top_k":0,"top_p":1.0})");
}

TEST(HttpBackend, ChatLogprobsRequestAndLlamaServerShape) {
  Fixture f;
  f.stub.push(HttpStub::json(
      R"({"choices":[{"finish_reason":"length","index":0,"message":{"role":"assistant","content":"Re"},)"
      R"("logprobs":{"content":[{"id":85,"token":"R","bytes":[82],"logprob":-0.875,"top_logprobs":[)"
      R"({"id":85,"token":"R","bytes":[82],"logprob":-0.875},{"id":52,"token":"1","bytes":[49],"logprob":-1.5}]},)"
      R"({"id":104,"token":"e","bytes":[101],"logprob":-0.25,"top_logprobs":[]}]}}]})"));
  ProbeRequest req = chat("hi");
  req.top_logprobs = 2;
  ProbeResponse resp;
  Error err;
  ASSERT_TRUE(f.backend->complete(req, &resp, &err)) << err.str();
  EXPECT_EQ(f.stub.requests()[0].body,
            R"({"logprobs":true,"max_tokens":64,"messages":[{"content":"hi","role":"user"}],)"
            R"("model":"tiny","seed":42,"temperature":0.0,"top_logprobs":2})");
  ASSERT_EQ(resp.logprobs.size(), 2u);
  EXPECT_EQ(resp.logprobs[0].token, "R");
  EXPECT_EQ(resp.logprobs[0].logprob, -0.875);
  ASSERT_EQ(resp.logprobs[0].top.size(), 2u);
  EXPECT_EQ(resp.logprobs[0].top[1], (std::pair<std::string, double>("1", -1.5)));
  EXPECT_EQ(resp.logprobs[1].token, "e");
  EXPECT_TRUE(resp.logprobs[1].top.empty());
}

TEST(HttpBackend, LegacyCompletionLogprobsShape) {
  ProbeResponse resp;
  std::string why;
  ASSERT_TRUE(parse_response("completion",
                             R"({"choices":[{"text":"ab","finish_reason":"stop","logprobs":{"tokens":["a","b"],)"
                             R"("token_logprobs":[-0.5,-1.25],"text_offset":[0,1],)"
                             R"("top_logprobs":[{"z":-3.0,"a":-0.5},null]}}]})",
                             &resp, &why))
      << why;
  ASSERT_EQ(resp.logprobs.size(), 2u);
  EXPECT_EQ(resp.logprobs[0].token, "a");
  EXPECT_EQ(resp.logprobs[1].logprob, -1.25);
  ASSERT_EQ(resp.logprobs[0].top.size(), 2u);
  EXPECT_EQ(resp.logprobs[0].top[0].first, "a");  // sorted by logprob, best first
  EXPECT_EQ(resp.logprobs[0].top[1].first, "z");
  EXPECT_TRUE(resp.logprobs[1].top.empty());
}

TEST(HttpBackend, HonoursRetryAfterSecondsThenSucceeds) {
  Fixture f;
  StubResponse busy;
  busy.status = 429;
  busy.headers = {{"Retry-After", "2"}};
  f.stub.push(busy);
  f.stub.push(HttpStub::json(kChatOk));
  ProbeResponse resp;
  Error err;
  ASSERT_TRUE(f.backend->complete(chat("x"), &resp, &err)) << err.str();
  EXPECT_EQ(resp.text, "Paris");
  EXPECT_EQ(f.stub.requests().size(), 2u);
  EXPECT_EQ(f.sleeps, (std::vector<milliseconds>{milliseconds(2000)}));
}

TEST(HttpBackend, HonoursRetryAfterDateCapped) {
  HttpOptions o;
  o.retry_after_cap_ms = 10000;
  Fixture f(o);
  StubResponse busy;
  busy.status = 503;
  busy.headers = {{"retry-after", "Tue, 14 Nov 2023 22:13:25 GMT"}};  // fixed now + 5 s
  f.stub.push(busy);
  busy.headers = {{"Retry-After", "3600"}};  // capped to 10 s
  f.stub.push(busy);
  f.stub.push(HttpStub::json(kChatOk));
  ProbeResponse resp;
  Error err;
  ASSERT_TRUE(f.backend->complete(chat("x"), &resp, &err)) << err.str();
  EXPECT_EQ(f.sleeps, (std::vector<milliseconds>{milliseconds(5000), milliseconds(10000)}));
}

TEST(HttpBackend, ServerErrorRetriesExhaustedGivesExactError) {
  Fixture f;
  StubResponse boom;
  boom.status = 500;
  boom.body = R"({"error":{"message":"model crashed","type":"server_error"}})";
  f.stub.set_fallback(boom);
  ProbeResponse resp;
  Error err;
  ASSERT_FALSE(f.backend->complete(chat("x"), &resp, &err));
  EXPECT_EQ(err.str(), f.chat_url() + ": http 500 (after 4 retries): model crashed");
  EXPECT_EQ(f.stub.requests().size(), 5u);
  ASSERT_EQ(f.sleeps.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {  // 500 ms * 2^i, jittered into [d/2, d]
    long d = 500L << i;
    EXPECT_GE(f.sleeps[i].count(), d / 2) << i;
    EXPECT_LE(f.sleeps[i].count(), d) << i;
  }
}

TEST(HttpBackend, ClientErrorIsNotRetried) {
  Fixture f;
  StubResponse bad;
  bad.status = 400;
  bad.body = "unknown field\n";
  f.stub.push(bad);
  ProbeResponse resp;
  Error err;
  ASSERT_FALSE(f.backend->complete(chat("x"), &resp, &err));
  EXPECT_EQ(err.str(), f.chat_url() + ": http 400: unknown field");
  EXPECT_EQ(f.stub.requests().size(), 1u);
  EXPECT_TRUE(f.sleeps.empty());
}

TEST(HttpBackend, ConnectionRefusedGivesExactError) {
  int port = test::closed_port();
  HttpOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  std::vector<milliseconds> sleeps;
  o.sleep = [&](milliseconds d) { sleeps.push_back(d); };
  std::unique_ptr<HttpBackend> b;
  Error err;
  ASSERT_TRUE(HttpBackend::create(o, &b, &err));
  ProbeResponse resp;
  ASSERT_FALSE(b->complete(chat("x"), &resp, &err));
  EXPECT_EQ(err.str(), "http://127.0.0.1:" + std::to_string(port) +
                           "/v1/chat/completions: connection refused (after 4 retries)");
  EXPECT_EQ(sleeps.size(), 4u);
}

TEST(HttpBackend, HangUpIsRetried) {
  Fixture f;
  StubResponse hang;
  hang.hang_up = true;
  f.stub.push(hang);
  f.stub.push(HttpStub::json(kChatOk));
  ProbeResponse resp;
  Error err;
  ASSERT_TRUE(f.backend->complete(chat("x"), &resp, &err)) << err.str();
  EXPECT_EQ(f.stub.requests().size(), 2u);
  EXPECT_EQ(f.sleeps.size(), 1u);
}

TEST(HttpBackend, TimeoutIsReportedAndNotRetried) {
  HttpOptions o;
  o.timeout_ms = 300;
  Fixture f(o);
  StubResponse slow = HttpStub::json(kChatOk);
  slow.delay_ms = 10000;
  f.stub.push(slow);
  ProbeResponse resp;
  Error err;
  ASSERT_FALSE(f.backend->complete(chat("x"), &resp, &err));
  EXPECT_EQ(err.str(), f.chat_url() + ": no complete response within 300 ms");
  EXPECT_EQ(f.stub.requests().size(), 1u);
}

TEST(HttpBackend, MalformedJsonIsAnError) {
  Fixture f;
  f.stub.push(HttpStub::json(R"({"choices": [)"));
  f.stub.push(HttpStub::json(R"({"choices": []})"));
  f.stub.push(HttpStub::json(R"({"choices": [{"message": {"content": 5}}]})"));
  f.stub.push(HttpStub::json(R"({"error": {"message": "no model loaded"}})"));
  ProbeResponse resp;
  Error err;
  ASSERT_FALSE(f.backend->complete(chat("x"), &resp, &err));
  EXPECT_EQ(err.str(), f.chat_url() + ": response is not valid json (byte 13)");
  ASSERT_FALSE(f.backend->complete(chat("x"), &resp, &err));
  EXPECT_EQ(err.str(), f.chat_url() + ": response choices is not a non-empty array");
  ASSERT_FALSE(f.backend->complete(chat("x"), &resp, &err));
  EXPECT_EQ(err.str(), f.chat_url() + ": response has no choices[0].message.content string");
  ASSERT_FALSE(f.backend->complete(chat("x"), &resp, &err));
  EXPECT_EQ(err.str(), f.chat_url() + ": server returned an error: no model loaded");
}

TEST(HttpBackend, OversizedBodyIsRejected) {
  HttpOptions o;
  o.max_response_bytes = 1024;
  Fixture f(o);
  f.stub.push(HttpStub::json(std::string(4096, ' ') + kChatOk));
  ProbeResponse resp;
  Error err;
  ASSERT_FALSE(f.backend->complete(chat("x"), &resp, &err));
  EXPECT_EQ(err.str(), f.chat_url() + ": response body exceeds the 1.0 KiB cap");
  EXPECT_EQ(f.stub.requests().size(), 1u);
}

TEST(HttpBackend, ApiKeyIsSentButNeverShown) {
  const char* key = "sk-test-5ecret-key";
  ::setenv("PEDIGREE_API_KEY", key, 1);
  Fixture f;
  ::unsetenv("PEDIGREE_API_KEY");
  StubResponse denied;
  denied.status = 401;
  denied.body = std::string(R"({"error":{"message":"bad key )") + key + R"("}})";
  f.stub.push(denied);
  ProbeResponse resp;
  Error err;
  ASSERT_FALSE(f.backend->complete(chat("x"), &resp, &err));
  auto log = f.stub.requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].headers["authorization"], std::string("Bearer ") + key);
  EXPECT_EQ(err.str(), f.chat_url() + ": http 401: bad key <redacted>");
  EXPECT_EQ(f.backend->describe().find(key), std::string::npos);
}

TEST(HttpBackend, GiveUpStopsRetrying) {
  HttpOptions o;
  o.give_up = [](std::string* why) {
    *why = "server went away";
    return true;
  };
  Fixture f(o);
  StubResponse boom;
  boom.status = 502;
  f.stub.set_fallback(boom);
  ProbeResponse resp;
  Error err;
  ASSERT_FALSE(f.backend->complete(chat("x"), &resp, &err));
  EXPECT_EQ(err.str(), f.chat_url() + ": server went away");
  EXPECT_EQ(f.stub.requests().size(), 1u);
}

TEST(HttpBackend, RejectsUnknownFormAndBadEndpoints) {
  Fixture f;
  ProbeRequest req = chat("x");
  req.form = "embedding";
  ProbeResponse resp;
  Error err;
  ASSERT_FALSE(f.backend->complete(req, &resp, &err));
  EXPECT_EQ(err.message, "unknown request form 'embedding' (want chat or completion)");
  std::unique_ptr<HttpBackend> b;
  HttpOptions o;
  o.endpoint = "ftp://example.com";
  ASSERT_FALSE(HttpBackend::create(o, &b, &err));
  EXPECT_EQ(err.str(), "ftp://example.com: endpoint must start with http:// or https://");
  o.endpoint = "http://h/v1?x=1";
  ASSERT_FALSE(HttpBackend::create(o, &b, &err));
  EXPECT_EQ(err.message, "endpoint must be a plain base url (no spaces, query or fragment)");
}

TEST(HttpBackend, ConcurrentCallsFromSeveralThreads) {
  Fixture f;
  f.stub.set_fallback(HttpStub::json(kChatOk));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        ProbeResponse resp;
        Error err;
        if (f.backend->complete(chat("x"), &resp, &err) && resp.text == "Paris") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(f.stub.requests().size(), 20u);
}

TEST(HttpBackend, LoopbackBypassesTheProxy) {
  std::string proxy = "http://127.0.0.1:" + std::to_string(test::closed_port());
  ::setenv("http_proxy", proxy.c_str(), 1);
  Fixture f;
  f.stub.push(HttpStub::json(kChatOk));
  ProbeResponse resp;
  Error err;
  bool ok = f.backend->complete(chat("x"), &resp, &err);
  ::unsetenv("http_proxy");
  ASSERT_TRUE(ok) << err.str();
  EXPECT_EQ(f.stub.requests().size(), 1u);
}

TEST(HttpBackend, NormalizesEndpoints) {
  std::string base, why;
  for (const char* e : {"http://h:1", "http://h:1/", "http://h:1/v1", "http://h:1/v1/"}) {
    ASSERT_TRUE(normalize_endpoint(e, &base, &why)) << e;
    EXPECT_EQ(base, "http://h:1/v1") << e;
  }
  ASSERT_TRUE(normalize_endpoint("https://api.example.com/openai", &base, &why));
  EXPECT_EQ(base, "https://api.example.com/openai/v1");
  EXPECT_FALSE(normalize_endpoint("http://", &base, &why));
  EXPECT_EQ(why, "endpoint has no host");
}

TEST(HttpBackend, ParsesRetryAfter) {
  auto now = std::chrono::system_clock::from_time_t(1700000000);  // Tue, 14 Nov 2023 22:13:20 GMT
  EXPECT_EQ(parse_retry_after("7", now), 7);
  EXPECT_EQ(parse_retry_after(" 0 ", now), 0);
  EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:14:20 GMT", now), 60);
  EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now), 0);
  EXPECT_EQ(parse_retry_after("-3", now), -1);
  EXPECT_EQ(parse_retry_after("soon", now), -1);
  EXPECT_EQ(parse_retry_after("Tue, 14 Foo 2023 22:14:20 GMT", now), -1);
  EXPECT_EQ(parse_retry_after("", now), -1);
}

TEST(HttpBackend, NoCrashOnHostileBodies) {
  std::vector<std::string> bodies = {
      "", "null", "[]", "\"x\"", "{\"choices\":{}}", "{\"choices\":[1]}",
      "{\"choices\":[{\"text\":\"a\",\"logprobs\":{\"tokens\":[\"a\"],\"token_logprobs\":[]}}]}",
      "{\"choices\":[{\"text\":\"a\",\"logprobs\":{\"content\":[{\"token\":1}]}}]}",
      "{\"choices\":[{\"text\":\"a\",\"logprobs\":{\"tokens\":[\"a\"],\"token_logprobs\":[null]}}]}",
      "{\"choices\":[{\"text\":\"a\",\"finish_reason\":7}]}", std::string(100000, '['),
      "{\"choices\":[{\"text\":\"\xff\xfe\"}]}"};
  for (const std::string& b : bodies) {
    ProbeResponse r;
    std::string why;
    EXPECT_FALSE(parse_response("completion", b, &r, &why)) << b.substr(0, 80);
    EXPECT_FALSE(why.empty());
  }
  ProbeResponse r;
  std::string why;
  // Found by the fuzzer: nlohmann throws out_of_range, not parse_error, for huge numbers.
  EXPECT_FALSE(parse_response("completion", R"({"choices":[{"text":"a","x":1e107078552}]})", &r, &why));
  EXPECT_EQ(why, "response has a number out of range");
  EXPECT_FALSE(parse_response("chat", std::string(100000, '['), &r, &why));
  EXPECT_EQ(why, "response nests json deeper than 64 levels");
}

}  // namespace
}  // namespace pedigree::probes
