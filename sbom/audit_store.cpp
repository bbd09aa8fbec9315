// This file implements the audit store on the sqlite3 C API: schema creation
// and version check, WAL mode with synchronous=NORMAL (a committed result
// survives the process being killed), and a conditional UPDATE per result so
// a subject that already has one is never recorded again.
#include "sbom/audit_store.h"

#include <sqlite3.h>

namespace pedigree {
namespace {

constexpr int kBusyTimeoutMs = 30000;

const char* const kSchema =
    "CREATE TABLE IF NOT EXISTS audit_schema (version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS subjects ("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  model TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'error')),"
    "  scans INTEGER NOT NULL DEFAULT 0,"
    "  added_at INTEGER NOT NULL,"
    "  finished_at INTEGER,"
    "  row TEXT,"
    "  bom TEXT);";

/// A prepared statement, finalized on scope exit.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

std::string col_text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s, i))) : "";
}

void bind(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

}  // namespace

AuditStore::~AuditStore() { sqlite3_close_v2(db_); }

bool AuditStore::fail_db(Error* err, const std::string& what) {
  return fail(err, "", std::nullopt, "audit store " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

bool AuditStore::exec(const char* sql, Error* err) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK) return true;
  std::string msg = sqlite3_errmsg(db_);
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return fail(err, "", std::nullopt, "audit store " + path_ + ": " + msg);
}

std::unique_ptr<AuditStore> AuditStore::open(const std::string& path, Error* err) {
  std::unique_ptr<AuditStore> st(new AuditStore());
  st->path_ = path;
  auto bad = [&](const std::string& why) {
    fail(err, "", std::nullopt, "cannot open audit store " + path + ": " + why);
    return nullptr;
  };
  if (sqlite3_open_v2(path.c_str(), &st->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK)
    return bad(st->db_ ? sqlite3_errmsg(st->db_) : "out of memory");
  sqlite3_busy_timeout(st->db_, kBusyTimeoutMs);
  auto run = [&](const char* sql) { return sqlite3_exec(st->db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK; };
  if (!run("PRAGMA journal_mode=WAL") || !run("PRAGMA synchronous=NORMAL") || !run("BEGIN IMMEDIATE"))
    return bad(sqlite3_errmsg(st->db_));
  Stmt count;
  sqlite3_prepare_v2(st->db_, "SELECT count(*) FROM sqlite_master", -1, &count.s, nullptr);
  if (!count.s || sqlite3_step(count.s) != SQLITE_ROW) {
    std::string msg = sqlite3_errmsg(st->db_);
    run("ROLLBACK");
    return bad(msg);
  }
  if (sqlite3_column_int(count.s, 0) == 0 && (!run(kSchema) || !run("INSERT INTO audit_schema VALUES (1)"))) {
    std::string msg = sqlite3_errmsg(st->db_);
    run("ROLLBACK");
    return bad(msg);
  }
  if (!run("COMMIT")) return bad(sqlite3_errmsg(st->db_));
  Stmt ver;
  if (sqlite3_prepare_v2(st->db_, "SELECT version FROM audit_schema", -1, &ver.s, nullptr) != SQLITE_OK)
    return bad("not a pedigree audit store (no audit_schema table)");
  if (sqlite3_step(ver.s) != SQLITE_ROW) return bad("not a pedigree audit store (empty audit_schema table)");
  int v = sqlite3_column_int(ver.s, 0);
  if (v != kAuditStoreSchemaVersion)
    return bad("audit store schema version " + std::to_string(v) + " is not supported (want " +
               std::to_string(kAuditStoreSchemaVersion) + ")");
  Stmt probe;
  if (sqlite3_prepare_v2(st->db_, "SELECT id, kind, subject, model, status, scans, row, bom FROM subjects", -1,
                         &probe.s, nullptr) != SQLITE_OK)
    return bad("not a pedigree audit store (" + std::string(sqlite3_errmsg(st->db_)) + ")");
  return st;
}

bool AuditStore::add(const std::vector<AuditSubject>& subjects, int64_t now, uint64_t* added, Error* err) {
  *added = 0;
  if (!exec("BEGIN IMMEDIATE", err)) return false;
  Stmt s;
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR IGNORE INTO subjects (id, kind, subject, model, status, added_at) "
                         "VALUES (?, ?, ?, ?, 'pending', ?)",
                         -1, &s.s, nullptr) != SQLITE_OK) {
    fail_db(err, "add subjects");
    exec("ROLLBACK", nullptr);
    return false;
  }
  for (const AuditSubject& a : subjects) {
    sqlite3_reset(s.s);
    bind(s.s, 1, a.id);
    bind(s.s, 2, a.kind);
    bind(s.s, 3, a.subject);
    bind(s.s, 4, a.model);
    sqlite3_bind_int64(s.s, 5, now);
    if (sqlite3_step(s.s) != SQLITE_DONE) {
      fail_db(err, "add subject " + a.id);
      exec("ROLLBACK", nullptr);
      return false;
    }
    *added += static_cast<uint64_t>(sqlite3_changes(db_));
  }
  return exec("COMMIT", err);
}

bool AuditStore::requeue_errors(uint64_t* n, Error* err) {
  if (!exec("UPDATE subjects SET status = 'pending' WHERE status = 'error'", err)) return false;
  *n = static_cast<uint64_t>(sqlite3_changes(db_));
  return true;
}

bool AuditStore::statuses(std::map<std::string, std::string>* out, Error* err) {
  Stmt s;
  if (sqlite3_prepare_v2(db_, "SELECT id, status FROM subjects", -1, &s.s, nullptr) != SQLITE_OK)
    return fail_db(err, "read statuses");
  int rc;
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) (*out)[col_text(s.s, 0)] = col_text(s.s, 1);
  return rc == SQLITE_DONE || fail_db(err, "read statuses");
}

bool AuditStore::record(const std::string& id, const AuditResult& r, Error* err) {
  if (r.status != "done" && r.status != "error")
    return fail(err, "", std::nullopt, "audit store " + path_ + ": result status '" + r.status + "' is not done or error");
  Stmt s;
  if (sqlite3_prepare_v2(db_,
                         "UPDATE subjects SET status = ?, row = ?, bom = ?, finished_at = ?, scans = scans + 1 "
                         "WHERE id = ? AND status = 'pending'",
                         -1, &s.s, nullptr) != SQLITE_OK)
    return fail_db(err, "record " + id);
  bind(s.s, 1, r.status);
  bind(s.s, 2, r.row);
  if (r.bom.empty()) sqlite3_bind_null(s.s, 3);
  else bind(s.s, 3, r.bom);
  sqlite3_bind_int64(s.s, 4, r.finished_at);
  bind(s.s, 5, id);
  if (sqlite3_step(s.s) != SQLITE_DONE) return fail_db(err, "record " + id);
  if (sqlite3_changes(db_) != 1)
    return fail(err, "", std::nullopt, "audit store " + path_ + ": subject " + id + " already has a result");
  return true;
}

bool AuditStore::each(const std::function<bool(const AuditRecord&)>& fn, Error* err) {
  Stmt s;
  if (sqlite3_prepare_v2(db_,
                         "SELECT id, kind, subject, model, status, scans, row, bom, finished_at FROM subjects "
                         "ORDER BY id",
                         -1, &s.s, nullptr) != SQLITE_OK)
    return fail_db(err, "read subjects");
  int rc;
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) {
    AuditRecord r;
    r.subject = {col_text(s.s, 0), col_text(s.s, 1), col_text(s.s, 2), col_text(s.s, 3)};
    r.status = col_text(s.s, 4);
    r.scans = sqlite3_column_int64(s.s, 5);
    r.result = {r.status == "pending" ? "" : r.status, col_text(s.s, 6), col_text(s.s, 7),
                sqlite3_column_int64(s.s, 8)};
    if (!fn(r)) return true;
  }
  return rc == SQLITE_DONE || fail_db(err, "read subjects");
}

}  // namespace pedigree
