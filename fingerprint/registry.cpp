// This file implements the lineage registry on the sqlite3 C API: schema
// creation and version check, WAL mode and busy timeout for concurrent
// writers, one transaction per write (a failed add changes nothing), export by
// VACUUM INTO a temp file renamed into place, and import in one transaction.
#include "fingerprint/registry.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "fingerprint/digest.h"
#include "fingerprint/formats/reader.h"
#include "fingerprint/lineage_fp.h"
#include "fingerprint/manifest.h"
#include "fingerprint/tensor_digest.h"

namespace pedigree {
namespace {

constexpr int kBusyTimeoutMs = 30000;

const char* const kSchema =
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS models ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  license TEXT NOT NULL,"
    "  protected INTEGER NOT NULL,"
    "  manifest_root TEXT NOT NULL,"
    "  named_root TEXT NOT NULL,"
    "  content_root TEXT NOT NULL,"
    "  format TEXT NOT NULL,"
    "  parameters INTEGER NOT NULL,"
    "  vocab INTEGER NOT NULL,"
    "  hidden INTEGER NOT NULL,"
    "  layers INTEGER NOT NULL,"
    "  added_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fingerprints ("
    "  model_id INTEGER PRIMARY KEY REFERENCES models(id) ON DELETE CASCADE,"
    "  version INTEGER NOT NULL,"
    "  data BLOB NOT NULL);";

const char* const kModelColumns =
    "name, license, protected, manifest_root, named_root, content_root, format, parameters, vocab, hidden, layers, "
    "added_at";

/// A prepared statement, finalized on scope exit.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

std::string col_text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

RegistryModel read_model_row(sqlite3_stmt* s) {
  RegistryModel m;
  m.name = col_text(s, 0);
  m.license = col_text(s, 1);
  m.is_protected = sqlite3_column_int(s, 2) != 0;
  m.manifest_root = col_text(s, 3);
  m.named_root = col_text(s, 4);
  m.content_root = col_text(s, 5);
  m.format = col_text(s, 6);
  m.parameters = static_cast<uint64_t>(sqlite3_column_int64(s, 7));
  m.vocab = static_cast<uint64_t>(sqlite3_column_int64(s, 8));
  m.hidden = static_cast<uint64_t>(sqlite3_column_int64(s, 9));
  m.layers = static_cast<uint64_t>(sqlite3_column_int64(s, 10));
  m.added_at = sqlite3_column_int64(s, 11);
  return m;
}

uint64_t parameter_count(const TensorIndex& idx) {
  uint64_t n = 0;
  for (const TensorInfo& t : idx.tensors) {
    auto e = shape_elems(t.shape.data(), t.shape.size());
    if (e) n += *e;
  }
  return n;
}

}  // namespace

bool describe_model(const std::string& path, RegistryEntry* out, Error* err, unsigned jobs) {
  ModelArtifact art;
  TensorIndex idx;
  if (!read_model(path, &art, &idx, err)) return false;
  LineageFp fp;
  if (!build_lineage_fp(art, idx, FpPlan{}, &fp, err)) return false;
  ManifestOptions mo;
  mo.jobs = jobs;
  Manifest man;
  if (!build_manifest(path, mo, &man, err)) return false;
  TensorFingerprint tf;
  if (!compute_tensor_fingerprint(art, idx, &tf, err, jobs)) return false;
  RegistryModel& m = out->model;
  m.manifest_root = to_hex(manifest_root(man.resources));
  m.named_root = to_hex(tf.named_root.data(), tf.named_root.size());
  m.content_root = to_hex(tf.content_root.data(), tf.content_root.size());
  m.format = art.format;
  m.parameters = parameter_count(idx);
  m.vocab = fp.vocab;
  m.hidden = fp.hidden;
  m.layers = fp.layers.size();
  out->fingerprint = serialize_lineage_fp(fp);
  return true;
}

Registry::~Registry() { sqlite3_close_v2(db_); }

bool Registry::fail_db(Error* err, const std::string& what) {
  return fail(err, "", std::nullopt, "registry " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

bool Registry::exec(const std::string& sql, Error* err) {
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK) return true;
  std::string msg = sqlite3_errmsg(db_);
  if (sql != "ROLLBACK") sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return fail(err, "", std::nullopt, "registry " + path_ + ": " + msg);
}

std::unique_ptr<Registry> Registry::open(const std::string& path, Error* err) {
  std::unique_ptr<Registry> r(new Registry());
  r->path_ = path;
  auto bad = [&](const std::string& why) {
    fail(err, "", std::nullopt, "cannot open registry " + path + ": " + why);
    return nullptr;
  };
  if (sqlite3_open_v2(path.c_str(), &r->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK)
    return bad(r->db_ ? sqlite3_errmsg(r->db_) : "out of memory");
  sqlite3_busy_timeout(r->db_, kBusyTimeoutMs);
  sqlite3_extended_result_codes(r->db_, 0);
  auto run = [&](const char* sql) { return sqlite3_exec(r->db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK; };
  if (!run("PRAGMA journal_mode=WAL") || !run("PRAGMA foreign_keys=ON") || !run("BEGIN IMMEDIATE"))
    return bad(sqlite3_errmsg(r->db_));
  Stmt count;
  sqlite3_prepare_v2(r->db_, "SELECT count(*) FROM sqlite_master", -1, &count.s, nullptr);
  if (!count.s || sqlite3_step(count.s) != SQLITE_ROW) {
    std::string msg = sqlite3_errmsg(r->db_);
    run("ROLLBACK");
    return bad(msg);
  }
  bool fresh = sqlite3_column_int(count.s, 0) == 0;
  if (fresh && (!run(kSchema) || !run("INSERT INTO schema_version VALUES (1)"))) {
    std::string msg = sqlite3_errmsg(r->db_);
    run("ROLLBACK");
    return bad(msg);
  }
  if (!run("COMMIT")) return bad(sqlite3_errmsg(r->db_));
  Stmt ver;
  if (sqlite3_prepare_v2(r->db_, "SELECT version FROM schema_version", -1, &ver.s, nullptr) != SQLITE_OK)
    return bad("not a pedigree registry (no schema_version table)");
  if (sqlite3_step(ver.s) != SQLITE_ROW) return bad("not a pedigree registry (empty schema_version table)");
  int v = sqlite3_column_int(ver.s, 0);
  if (v != kRegistrySchemaVersion)
    return bad("registry schema version " + std::to_string(v) + " is not supported (want " +
               std::to_string(kRegistrySchemaVersion) + ")");
  Stmt probe;
  if (sqlite3_prepare_v2(r->db_, (std::string("SELECT ") + kModelColumns + " FROM models").c_str(), -1, &probe.s,
                         nullptr) != SQLITE_OK)
    return bad("not a pedigree registry (" + std::string(sqlite3_errmsg(r->db_)) + ")");
  return r;
}

bool Registry::insert(const RegistryEntry& e, Error* err) {
  const RegistryModel& m = e.model;
  Stmt s;
  std::string sql = std::string("INSERT INTO models (") + kModelColumns + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s.s, nullptr) != SQLITE_OK) return fail_db(err, "insert");
  sqlite3_bind_text(s.s, 1, m.name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.s, 2, m.license.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(s.s, 3, m.is_protected ? 1 : 0);
  sqlite3_bind_text(s.s, 4, m.manifest_root.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.s, 5, m.named_root.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.s, 6, m.content_root.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.s, 7, m.format.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s.s, 8, static_cast<sqlite3_int64>(m.parameters));
  sqlite3_bind_int64(s.s, 9, static_cast<sqlite3_int64>(m.vocab));
  sqlite3_bind_int64(s.s, 10, static_cast<sqlite3_int64>(m.hidden));
  sqlite3_bind_int64(s.s, 11, static_cast<sqlite3_int64>(m.layers));
  sqlite3_bind_int64(s.s, 12, m.added_at);
  int rc = sqlite3_step(s.s);
  if (rc == SQLITE_CONSTRAINT) return fail(err, "", std::nullopt, "model '" + m.name + "' is already registered");
  if (rc != SQLITE_DONE) return fail_db(err, "insert " + m.name);
  sqlite3_int64 id = sqlite3_last_insert_rowid(db_);
  Stmt f;
  if (sqlite3_prepare_v2(db_, "INSERT INTO fingerprints (model_id, version, data) VALUES (?,?,?)", -1, &f.s,
                         nullptr) != SQLITE_OK)
    return fail_db(err, "insert fingerprint");
  sqlite3_bind_int64(f.s, 1, id);
  sqlite3_bind_int(f.s, 2, static_cast<int>(kLineageFpVersion));
  sqlite3_bind_blob64(f.s, 3, e.fingerprint.data(), e.fingerprint.size(), SQLITE_TRANSIENT);
  if (sqlite3_step(f.s) != SQLITE_DONE) return fail_db(err, "insert fingerprint of " + m.name);
  return true;
}

bool Registry::add(const RegistryEntry& e, Error* err) {
  if (!exec("BEGIN IMMEDIATE", err)) return false;
  if (!insert(e, err)) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return false;
  }
  return exec("COMMIT", err);
}

bool Registry::contains(const std::string& name, bool* yes, Error* err) {
  Stmt s;
  if (sqlite3_prepare_v2(db_, "SELECT 1 FROM models WHERE name = ?", -1, &s.s, nullptr) != SQLITE_OK)
    return fail_db(err, "look up " + name);
  sqlite3_bind_text(s.s, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(s.s);
  *yes = rc == SQLITE_ROW;
  return rc == SQLITE_ROW || rc == SQLITE_DONE || fail_db(err, "look up " + name);
}

bool Registry::list(std::vector<RegistryModel>* out, Error* err) {
  Stmt s;
  std::string sql = std::string("SELECT ") + kModelColumns + " FROM models ORDER BY name";
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s.s, nullptr) != SQLITE_OK) return fail_db(err, "list");
  out->clear();
  int rc;
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) out->push_back(read_model_row(s.s));
  return rc == SQLITE_DONE || fail_db(err, "list");
}

bool Registry::entries(std::vector<RegistryEntry>* out, Error* err) {
  Stmt s;
  std::string sql = "SELECT m.name, m.license, m.protected, m.manifest_root, m.named_root, m.content_root, m.format, "
                    "m.parameters, m.vocab, m.hidden, m.layers, m.added_at, f.data FROM models m "
                    "JOIN fingerprints f ON f.model_id = m.id ORDER BY m.name";
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s.s, nullptr) != SQLITE_OK) return fail_db(err, "read");
  out->clear();
  int rc;
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) {
    RegistryEntry e{read_model_row(s.s), {}};
    const void* blob = sqlite3_column_blob(s.s, 12);
    e.fingerprint.assign(static_cast<const char*>(blob), static_cast<size_t>(sqlite3_column_bytes(s.s, 12)));
    out->push_back(std::move(e));
  }
  return rc == SQLITE_DONE || fail_db(err, "read");
}

bool Registry::get(const std::string& name, RegistryEntry* out, Error* err) {
  std::vector<RegistryEntry> all;
  if (!entries(&all, err)) return false;
  for (RegistryEntry& e : all)
    if (e.model.name == name) {
      *out = std::move(e);
      return true;
    }
  return fail(err, "", std::nullopt, "no model named '" + name + "' in the registry");
}

bool Registry::remove(const std::string& name, Error* err) {
  if (!exec("BEGIN IMMEDIATE", err)) return false;
  Stmt s;
  if (sqlite3_prepare_v2(db_, "DELETE FROM models WHERE name = ?", -1, &s.s, nullptr) != SQLITE_OK ||
      (sqlite3_bind_text(s.s, 1, name.c_str(), -1, SQLITE_TRANSIENT), sqlite3_step(s.s)) != SQLITE_DONE) {
    fail_db(err, "remove " + name);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return false;
  }
  if (sqlite3_changes(db_) == 0) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return fail(err, "", std::nullopt, "no model named '" + name + "' in the registry");
  }
  return exec("COMMIT", err);
}

bool Registry::export_to(const std::string& path, Error* err) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::remove(tmp.c_str());
  Stmt s;
  if (sqlite3_prepare_v2(db_, "VACUUM INTO ?", -1, &s.s, nullptr) != SQLITE_OK) return fail_db(err, "export");
  sqlite3_bind_text(s.s, 1, tmp.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s.s) != SQLITE_DONE) {
    std::remove(tmp.c_str());
    return fail(err, "", std::nullopt, "cannot export registry to " + path + ": " + sqlite3_errmsg(db_));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return fail(err, path, std::nullopt, "cannot rename the exported registry into place");
  }
  return true;
}

bool Registry::import_from(const std::string& path, Error* err) {
  if (::access(path.c_str(), R_OK) != 0)
    return fail(err, "", std::nullopt, "cannot open registry " + path + ": no such readable file");
  auto src = Registry::open(path, err);
  if (!src) return false;
  std::vector<RegistryEntry> all;
  if (!src->entries(&all, err)) return false;
  if (!exec("BEGIN IMMEDIATE", err)) return false;
  for (const RegistryEntry& e : all)
    if (!insert(e, err)) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    }
  return exec("COMMIT", err);
}

namespace {

void compare_entry(const RegistryEntry& e, const LineageFp& fp, const std::string& path, RegistryMatch* m) {
  LineageFp stored;
  Error perr;
  if (!parse_lineage_fp(e.fingerprint, "fingerprint of '" + e.model.name + "'", &stored, &perr)) {
    m->relation = "not-comparable";
    m->note = "stored fingerprint unreadable: " + perr.str();
    return;
  }
  if (std::string why = fp_incompatibility(stored, fp); !why.empty()) {
    m->relation = "not-comparable";
    m->note = why;
    return;
  }
  Error cerr;
  if (!compare_fingerprints(stored, fp, e.model.name, path, &m->report, &cerr)) {
    m->relation = "not-comparable";
    m->note = cerr.str();
    return;
  }
  m->relation = "compared";
}

int rank(const RegistryMatch& m) {
  if (m.relation == "identity") return 0;
  if (m.relation == "identity-renamed") return 1;
  return m.relation == "compared" ? 2 : 3;
}

// Every registered model against `fp`; identities only when the roots are given.
bool match_entries(const LineageFp& fp, const std::string& path, const std::string* named, const std::string* content,
                   Registry& reg, std::vector<RegistryMatch>* out, Error* err) {
  std::vector<RegistryEntry> all;
  if (!reg.entries(&all, err)) return false;
  out->clear();
  for (const RegistryEntry& e : all) {
    RegistryMatch m;
    m.model = e.model;
    if (named && e.model.named_root == *named) m.relation = "identity";
    else if (content && e.model.content_root == *content) m.relation = "identity-renamed";
    else compare_entry(e, fp, path, &m);
    out->push_back(std::move(m));
  }
  std::stable_sort(out->begin(), out->end(), [](const RegistryMatch& x, const RegistryMatch& y) {
    if (rank(x) != rank(y)) return rank(x) < rank(y);
    if (rank(x) == 2 && x.report.primary != y.report.primary) return x.report.primary > y.report.primary;
    return false;
  });
  return true;
}

}  // namespace

bool match_registry(const std::string& path, Registry& reg, std::vector<RegistryMatch>* out, Error* err,
                    unsigned jobs) {
  ModelArtifact art;
  TensorIndex idx;
  if (!read_model(path, &art, &idx, err)) return false;
  LineageFp fp;
  if (!build_lineage_fp(art, idx, FpPlan{}, &fp, err)) return false;
  TensorFingerprint tf;
  if (!compute_tensor_fingerprint(art, idx, &tf, err, jobs)) return false;
  std::string named = to_hex(tf.named_root.data(), tf.named_root.size());
  std::string content = to_hex(tf.content_root.data(), tf.content_root.size());
  return match_entries(fp, path, &named, &content, reg, out, err);
}

bool match_registry_fp(const LineageFp& fp, const std::string& name, Registry& reg, std::vector<RegistryMatch>* out,
                       Error* err) {
  return match_entries(fp, name, nullptr, nullptr, reg, out, err);
}

}  // namespace pedigree
