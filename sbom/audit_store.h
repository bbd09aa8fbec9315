// This file implements the interface of the audit store: the SQLite database
// (WAL mode, one transaction per recorded result) that keeps one row per
// audited subject, so an interrupted `pedigree audit` resumes where it
// stopped with nothing lost and nothing scanned twice.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fingerprint/error.h"

struct sqlite3;

namespace pedigree {

inline constexpr int kAuditStoreSchemaVersion = 1;

/// One thing to audit: a model path or an endpoint with a model name.
struct AuditSubject {
  std::string id;       ///< stable key: "path:" + canonical path, or "endpoint:" + URL + " model:" + NAME
  std::string kind;     ///< "path" or "endpoint"
  std::string subject;  ///< the path as found, or the endpoint URL
  std::string model;    ///< model name at the endpoint ("" for a path)
};

/// What one finished scan leaves in the store.
struct AuditResult {
  std::string status;  ///< "done" (scanned) or "error" (could not be scanned)
  std::string row;     ///< the inventory row (JSON text)
  std::string bom;     ///< the model's AI-BOM (JSON text), empty when none
  int64_t finished_at = 0;
};

/// A subject's stored state.
struct AuditRecord {
  AuditSubject subject;
  std::string status;  ///< "pending", "done" or "error"
  int64_t scans = 0;   ///< results recorded for it (1 after one scan; a retried error adds one)
  AuditResult result;  ///< empty while pending
};

/// An open audit store.
class AuditStore {
 public:
  /// Opens (creating when missing or empty) the store at `path`. Errors read
  /// "cannot open audit store PATH: ..." (corrupt file, another database, newer schema).
  static std::unique_ptr<AuditStore> open(const std::string& path, Error* err);
  ~AuditStore();
  AuditStore(const AuditStore&) = delete;
  AuditStore& operator=(const AuditStore&) = delete;

  /// Adds the subjects not yet in the store as pending, in one transaction;
  /// `added` counts the new ones.
  bool add(const std::vector<AuditSubject>& subjects, int64_t now, uint64_t* added, Error* err);
  /// Puts every "error" subject back to "pending" (for --retry-errors); `n` counts them.
  bool requeue_errors(uint64_t* n, Error* err);
  /// Status of every subject in the store, by id.
  bool statuses(std::map<std::string, std::string>* out, Error* err);
  /// Records the result of one scan in one transaction. Fails with
  /// "subject ID already has a result" when it is not pending, so a result is
  /// never recorded twice.
  bool record(const std::string& id, const AuditResult& r, Error* err);
  /// Calls `fn` for every subject, in id order, until it returns false.
  bool each(const std::function<bool(const AuditRecord&)>& fn, Error* err);
  const std::string& path() const { return path_; }

 private:
  AuditStore() = default;
  bool fail_db(Error* err, const std::string& what);
  bool exec(const char* sql, Error* err);
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace pedigree
