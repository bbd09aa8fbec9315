// Tests the audit store: subjects added once, a result recorded once and
// kept across reopening, errors re-queued on request, and refusing files that
// are not audit stores.
#include "sbom/audit_store.h"

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {

std::vector<AuditSubject> subjects() {
  return {{"path:/f/a", "path", "f/a", ""}, {"path:/f/b", "path", "f/b", ""},
          {"endpoint:http://h/v1 model:m", "endpoint", "http://h/v1", "m"}};
}

TEST(AuditStore, RecordsEachResultOnceAndKeepsItAcrossReopening) {
  test::TempDir t;
  std::string db = (t.path() / "audit.db").string();
  Error err;
  {
    auto s = AuditStore::open(db, &err);
    ASSERT_TRUE(s) << err.str();
    uint64_t added = 0;
    ASSERT_TRUE(s->add(subjects(), 100, &added, &err)) << err.str();
    EXPECT_EQ(added, 3u);
    ASSERT_TRUE(s->record("path:/f/a", {"done", "{\"x\":1}", "", 101}, &err)) << err.str();
    EXPECT_FALSE(s->record("path:/f/a", {"done", "{}", "", 102}, &err));
    EXPECT_EQ(err.str(), "audit store " + db + ": subject path:/f/a already has a result");
    ASSERT_TRUE(s->record("endpoint:http://h/v1 model:m", {"error", "{}", "", 103}, &err));
  }
  auto s = AuditStore::open(db, &err);
  ASSERT_TRUE(s) << err.str();
  uint64_t added = 9;
  ASSERT_TRUE(s->add(subjects(), 200, &added, &err));
  EXPECT_EQ(added, 0u);
  std::map<std::string, std::string> st;
  ASSERT_TRUE(s->statuses(&st, &err));
  EXPECT_EQ(st, (std::map<std::string, std::string>{
                    {"endpoint:http://h/v1 model:m", "error"}, {"path:/f/a", "done"}, {"path:/f/b", "pending"}}));
  std::vector<AuditRecord> recs;
  ASSERT_TRUE(s->each([&](const AuditRecord& r) { recs.push_back(r); return true; }, &err));
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].subject.id, "path:/f/a");
  EXPECT_EQ(recs[1].result.row, "{\"x\":1}");
  EXPECT_EQ(recs[1].result.finished_at, 101);
  EXPECT_EQ(recs[1].scans, 1);
  EXPECT_EQ(recs[2].scans, 0);
  EXPECT_EQ(recs[0].subject.model, "m");
  uint64_t n = 0;
  ASSERT_TRUE(s->requeue_errors(&n, &err));
  EXPECT_EQ(n, 1u);
  ASSERT_TRUE(s->record("endpoint:http://h/v1 model:m", {"error", "{}", "", 104}, &err)) << err.str();
  recs.clear();
  ASSERT_TRUE(s->each([&](const AuditRecord& r) { recs.push_back(r); return false; }, &err));
  EXPECT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].scans, 2);
}

TEST(AuditStore, RefusesABadStatusAndForeignFiles) {
  test::TempDir t;
  Error err;
  auto s = AuditStore::open((t.path() / "a.db").string(), &err);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->record("x", {"maybe", "{}", "", 1}, &err));
  EXPECT_EQ(err.str(), "audit store " + (t.path() / "a.db").string() + ": result status 'maybe' is not done or error");
  std::string junk = t.write("junk.db", std::string(4096, 'x'));
  EXPECT_FALSE(AuditStore::open(junk, &err));
  EXPECT_EQ(err.str(), "cannot open audit store " + junk + ": file is not a database");
}

}  // namespace
}  // namespace pedigree
