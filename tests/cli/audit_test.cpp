// End-to-end tests of `pedigree audit` on the built binary: the samples in
// every output format (the HTML table read back from headless Chromium and
// compared with the JSON), the fleet BOM through `bom validate`, endpoint
// failures as error rows, argument errors, and a 201-model audit killed
// part-way and resumed with exactly one result per model.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "sbom/audit_store.h"
#include "tests/support/http_stub.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
namespace fs = std::filesystem;
using test::run_pedigree;
using test::TempDir;

// The sample directories these tests audit (22 models in every format; later samples are not included so
// that the counts below stay fixed).
std::vector<std::string> sample_dirs() {
  std::vector<std::string> dirs;
  for (const char* d : {"lineage", "malicious", "numpy", "pickle", "probe-models", "tinyllama", "tinyllama-gguf",
                        "tinyllama-hf", "tinyllama-onnx", "tinyllama-onnx-external", "tinyllama-sharded"})
    dirs.push_back(test::samples_dir() + "/" + d);
  return dirs;
}

std::vector<std::string> audit_args(std::vector<std::string> before, const std::vector<std::string>& after) {
  for (const std::string& d : sample_dirs()) before.push_back(d);
  before.insert(before.end(), after.begin(), after.end());
  return before;
}

class Audit : public ::testing::Test {
 protected:
  void SetUp() override { setenv("SOURCE_DATE_EPOCH", "1700000000", 1); }
  void TearDown() override { unsetenv("SOURCE_DATE_EPOCH"); }
};

TEST_F(Audit, SamplesInEveryFormatAndResumedWithNothingToDo) {
  TempDir t;
  std::string out = (t.path() / "out").string();
  auto r = run_pedigree(audit_args({"audit"}, {"-o", out, "--jobs", "2"}));
  ASSERT_EQ(r.exit_code, 1) << r.err;  // the two malicious samples are flagged
  EXPECT_NE(r.out.find(": 20 pass, 2 flagged, 0 error"), std::string::npos) << r.out;
  nlohmann::json j = nlohmann::json::parse(test::read_file(out + "/inventory.json"));
  ASSERT_EQ(j["subjects"].size(), 22u);
  EXPECT_EQ(j["summary"]["flagged"], 2);
  EXPECT_EQ(j["generated_at"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(j["findings"]["unsafe-import"]["models"], 2);
  // Every row carries the same roots `scan` reports for that model.
  for (const auto& s : j["subjects"]) {
    if (s["subject"].get<std::string>().find("tinyllama-hf") == std::string::npos) continue;
    nlohmann::json scan = nlohmann::json::parse(run_pedigree({"scan", "--json", s["subject"]}).out);
    EXPECT_EQ(s["manifest_root"], scan["manifest_root"]);
    EXPECT_EQ(s["tensor_content_root"], scan["tensor_content_root"]);
    EXPECT_EQ(s["format"], scan["format"]);
  }
  // One AI-BOM per model, valid against the official schema.
  for (const auto& s : j["subjects"]) {
    ASSERT_TRUE(s.contains("bom")) << s.dump();
    ASSERT_TRUE(fs::exists(out + "/" + s["bom"].get<std::string>())) << s["bom"];
  }
  std::string one = out + "/" + j["subjects"][0]["bom"].get<std::string>();
  auto ov = run_pedigree({"bom", "validate", one});
  EXPECT_EQ(ov.exit_code, 0) << one << ov.out << ov.err;
  std::string csv = test::read_file(out + "/inventory.csv");
  size_t lines = 0;
  for (size_t p = 0; (p = csv.find("\r\n", p)) != std::string::npos; p += 2) ++lines;
  EXPECT_EQ(lines, 23u);
  auto v = run_pedigree({"bom", "validate", out + "/fleet.cdx.json"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  nlohmann::json bom = nlohmann::json::parse(test::read_file(out + "/fleet.cdx.json"));
  EXPECT_EQ(bom["components"].size(), 22u);

  std::string before = test::read_file(out + "/inventory.json") + test::read_file(out + "/inventory.html") + test::read_file(out + "/fleet.cdx.json");
  auto again = run_pedigree(audit_args({"audit"}, {"-o", out}));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("pedigree audit: resumed: 22 done, 0 to go"), std::string::npos) << again.err;
  EXPECT_NE(again.out.find("(0 scanned now, 22 from the store)"), std::string::npos) << again.out;
  EXPECT_EQ(test::read_file(out + "/inventory.json") + test::read_file(out + "/inventory.html") + test::read_file(out + "/fleet.cdx.json"), before);
}

std::string html_unescape(std::string s) {
  const std::pair<const char*, const char*> ents[] = {{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"},
                                                       {"&nbsp;", "\xc2\xa0"}, {"&amp;", "&"}};
  for (const auto& [e, c] : ents)
    for (size_t p = 0; (p = s.find(e, p)) != std::string::npos; p += std::string(c).size()) s.replace(p, std::string(e).size(), c);
  return s;
}

TEST_F(Audit, HtmlTableInChromiumMatchesTheJson) {
  const std::string chromium = "/usr/bin/chromium";
  if (access(chromium.c_str(), X_OK) != 0) GTEST_SKIP() << "Debian's chromium is not installed (apt-get install chromium)";
  TempDir t;
  std::string out = (t.path() / "out").string();
  ASSERT_EQ(run_pedigree(audit_args({"audit"}, {"-o", out})).exit_code, 1);
  auto dom = test::run_command({chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                                "--user-data-dir=" + (t.path() / "chromium").string(), "--dump-dom",
                                "file://" + out + "/inventory.html"});
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  size_t body = dom.out.find("<tbody>");
  ASSERT_NE(body, std::string::npos) << dom.out.substr(0, 2000);
  std::string tbody = dom.out.substr(body, dom.out.find("</tbody>", body) - body);
  std::regex tr(R"re(<tr data-id="([^"]*)">(.*?)</tr>)re"), td(R"re(<td[^>]*>(.*?)</td>)re");
  std::vector<std::vector<std::string>> rows;
  for (std::sregex_iterator it(tbody.begin(), tbody.end(), tr), end; it != end; ++it) {
    std::string cells = (*it)[2];
    std::vector<std::string> row = {html_unescape((*it)[1])};
    for (std::sregex_iterator c(cells.begin(), cells.end(), td); c != end; ++c) row.push_back(html_unescape((*c)[1]));
    rows.push_back(row);
  }
  nlohmann::json j = nlohmann::json::parse(test::read_file(out + "/inventory.json"));
  ASSERT_EQ(rows.size(), j["subjects"].size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const nlohmann::json& s = j["subjects"][i];
    std::set<std::string> ids;
    for (const auto& f : s["findings"]) ids.insert(f["id"]);
    std::string joined;
    for (const std::string& id : ids) joined += (joined.empty() ? "" : "; ") + id;
    std::vector<std::string> want = {s["id"], s["subject"], s["model"], s["verdict"], s["format"],
                                     std::to_string(s["findings"].size()), joined, s["manifest_root"], s["error"]};
    EXPECT_EQ(rows[i], want) << "row " << i;
  }
  EXPECT_NE(dom.out.find("22 of 22 shown"), std::string::npos);
  EXPECT_NE(dom.out.find("data-label=\"unsafe-import\""), std::string::npos);  // the findings chart
}

TEST_F(Audit, EndpointsThatCannotBeScannedAreErrorRows) {
  TempDir t;
  std::string inv = t.write("fleet.txt", "# one model, one endpoint with nothing listening\n" + test::samples_dir() +
                                             "/tinyllama-gguf/tinyllama-f16.gguf\n"
                                             "endpoint: http://127.0.0.1:9/v1 model: tiny\n");
  std::string out = (t.path() / "out").string();
  auto r = run_pedigree({"audit", "--inventory", inv, "-o", out, "--format", "json,csv"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  nlohmann::json j = nlohmann::json::parse(test::read_file(out + "/inventory.json"));
  ASSERT_EQ(j["subjects"].size(), 2u);
  const nlohmann::json& e = j["subjects"][1];  // sorted by subject: the path first
  EXPECT_EQ(e["id"], "endpoint:http://127.0.0.1:9/v1 model:tiny");
  EXPECT_EQ(e["verdict"], "error");
  EXPECT_FALSE(e["error"].get<std::string>().empty());
  EXPECT_EQ(j["subjects"][0]["verdict"], "pass");
  EXPECT_TRUE(fs::exists(out + "/inventory.csv"));
  EXPECT_FALSE(fs::exists(out + "/inventory.html"));
  EXPECT_EQ(run_pedigree({"bom", "validate", out + "/fleet.cdx.json"}).exit_code, 0);
  // Errors are results too: not retried unless asked.
  auto again = run_pedigree({"audit", "--inventory", inv, "-o", out, "--format", "json"});
  EXPECT_NE(again.err.find("resumed: 2 done, 0 to go"), std::string::npos) << again.err;
  auto retry = run_pedigree({"audit", "--inventory", inv, "-o", out, "--format", "json", "--retry-errors"});
  EXPECT_NE(retry.err.find("resumed: 1 done, 1 to go"), std::string::npos) << retry.err;
  EXPECT_EQ(retry.exit_code, 2);
}

TEST_F(Audit, EndpointsAreProbedWithThePacks) {
  TempDir t;
  setenv("XDG_CACHE_HOME", (t.path() / "cache").c_str(), 1);  // the probe cache stays in the test's directory
  std::string pack = t.write("stub.yaml", R"(id: stub-canary
version: 1
description: "one canary for the stub"
kind: canary
chance_probability: 0.00390625
threshold: 0.01
prompts:
  - {id: t01, text: "hello", expect: {match: exact, value: "world"}}
)");
  test::HttpStub stub;
  stub.set_fallback(test::HttpStub::json(
      R"({"choices":[{"finish_reason":"stop","index":0,"message":{"role":"assistant","content":"world"}}]})"));
  std::string inv = t.write("fleet.txt", "endpoint: " + stub.url() + "/v1 model: leaky\n");
  std::string out = (t.path() / "out").string();
  auto r = run_pedigree({"audit", "--inventory", inv, "--pack", pack, "-o", out, "--format", "json"});
  unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // the canary answered: flagged
  nlohmann::json j = nlohmann::json::parse(test::read_file(out + "/inventory.json"));
  ASSERT_EQ(j["subjects"].size(), 1u);
  EXPECT_EQ(j["subjects"][0]["verdict"], "flagged");
  EXPECT_EQ(j["subjects"][0]["model"], "leaky");
  EXPECT_EQ(stub.requests().size(), 1u);
}

TEST_F(Audit, RefusesBadArguments) {
  TempDir t;
  auto r = run_pedigree({"audit"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: audit: give directories to walk or --inventory FILE (see 'pedigree help audit')\n");
  r = run_pedigree({"audit", test::samples_dir(), "--format", "xml", "-o", (t.path() / "o").string()});
  EXPECT_EQ(r.err, "pedigree: error: audit: --format 'xml' is not json, csv or html\n");
  std::string missing = (t.path() / "nope").string();
  r = run_pedigree({"audit", missing, "-o", (t.path() / "o").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: " + missing + ": cannot read: no such file or directory\n");
  t.write("empty/readme.txt", "no models here");
  r = run_pedigree({"audit", (t.path() / "empty").string(), "-o", (t.path() / "o").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "pedigree: error: audit: no models found (see 'man pedigree-audit' for what counts as a model)\n");
  std::string junk = t.write("junk.db", std::string(4096, 'x'));
  r = run_pedigree({"audit", test::samples_dir() + "/numpy", "-o", (t.path() / "o").string(), "--store", junk});
  EXPECT_EQ(r.err, "pedigree: error: cannot open audit store " + junk + ": file is not a database\n");
}

// 200 model directories (hard links of two samples) plus, from an inventory,
// one FIFO named to sort in the middle: with --jobs 1 the audit scans the 101
// subjects before it, then blocks opening the FIFO (like a hung mount) until
// it is killed. The FIFO is then replaced by a model and the audit resumed.
struct Fleet {
  TempDir t;
  fs::path dir = t.path() / "fleet";
  std::string inventory, store, out = (t.path() / "out").string();
  Fleet() {
    fs::create_directories(dir);
    fs::copy_file(test::samples_dir() + "/lineage/base.safetensors", t.path() / "w.safetensors");
    fs::copy_file(test::samples_dir() + "/tinyllama-gguf/tinyllama-f16.gguf", t.path() / "w.gguf");
    for (int i = 0; i < 200; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "m%03d", i);
      fs::create_directories(dir / name);
      t.write("fleet/" + std::string(name) + "/config.json", "{\"model_type\": \"llama\"}");
      bool st = i % 2 == 0;
      fs::create_hard_link(t.path() / (st ? "w.safetensors" : "w.gguf"),
                           dir / name / (st ? "model.safetensors" : "model.gguf"));
    }
    EXPECT_EQ(mkfifo((dir / "m100-hang.gguf").c_str(), 0600), 0);
    inventory = t.write("fleet.txt", (dir / "m100-hang.gguf").string() + "\n");
    store = out + "/audit.db";
  }
};

std::map<std::string, std::string> statuses(const std::string& db) {
  std::map<std::string, std::string> st;
  Error err;
  auto s = AuditStore::open(db, &err);
  if (s) s->statuses(&st, &err);
  return st;
}

size_t count_done(const std::map<std::string, std::string>& st) {
  size_t n = 0;
  for (const auto& [id, s] : st) n += s == "done";
  return n;
}

TEST_F(Audit, KilledPartWayThenResumedEndsWithOneResultPerModel) {
  Fleet f;
  pid_t pid = fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    dup2(null, 0), dup2(null, 1), dup2(null, 2);
    execl(PEDIGREE_BINARY, "pedigree", "audit", f.dir.c_str(), "--inventory", f.inventory.c_str(), "-o", f.out.c_str(),
          "--jobs", "1", static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  size_t done = 0;
  for (int i = 0; i < 3000 && done < 101; ++i) {  // at most ~30 s on a loaded machine
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (fs::exists(f.store)) done = count_done(statuses(f.store));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, WNOHANG), 0) << "the audit ended before it was killed";
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status));
  auto st = statuses(f.store);
  ASSERT_EQ(st.size(), 201u);
  ASSERT_EQ(count_done(st), 101u);  // m000..m100; the FIFO's scan was in flight and left nothing
  EXPECT_EQ(st["path:" + (f.dir / "m100-hang.gguf").string()], "pending");

  fs::remove(f.dir / "m100-hang.gguf");
  fs::create_hard_link(f.t.path() / "w.gguf", f.dir / "m100-hang.gguf");
  auto r = run_pedigree({"audit", f.dir.string(), "--inventory", f.inventory, "-o", f.out, "--jobs", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("pedigree audit: resumed: 101 done, 100 to go"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("201 subjects (100 scanned now, 101 from the store): 201 pass"), std::string::npos) << r.out;
  Error err;
  auto s = AuditStore::open(f.store, &err);
  ASSERT_TRUE(s) << err.str();
  size_t n = 0;
  ASSERT_TRUE(s->each(
      [&](const AuditRecord& rec) {
        ++n;
        EXPECT_EQ(rec.status, "done") << rec.subject.id;
        EXPECT_EQ(rec.scans, 1) << rec.subject.id;
        return true;
      },
      &err));
  EXPECT_EQ(n, 201u);
  nlohmann::json j = nlohmann::json::parse(test::read_file(f.out + "/inventory.json"));
  std::set<std::string> ids;
  for (const auto& x : j["subjects"]) ids.insert(x["id"].get<std::string>());
  EXPECT_EQ(ids.size(), 201u);
  EXPECT_EQ(j["subjects"].size(), 201u);
  EXPECT_EQ(j["formats"]["hf-directory"], 200);
  EXPECT_EQ(nlohmann::json::parse(test::read_file(f.out + "/fleet.cdx.json"))["components"].size(), 201u);
}

}  // namespace
}  // namespace pedigree
