// This file implements the lineage registry: a SQLite database (WAL mode,
// busy timeout, every write one transaction) of known models with their
// identity digests (OMS manifest root, tensor named/content roots) and stored
// lineage fingerprints, plus its export (a consistent SQLite copy) and import.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fingerprint/error.h"
#include "fingerprint/lineage.h"
#include "fingerprint/lineage_fp.h"

struct sqlite3;

namespace pedigree {

inline constexpr int kRegistrySchemaVersion = 1;

/// One registered model (without its fingerprint).
struct RegistryModel {
  std::string name;
  std::string license;
  bool is_protected = false;
  std::string manifest_root;  ///< OMS v1.0 sha256 manifest root, hex
  std::string named_root;     ///< tensor named root, hex
  std::string content_root;   ///< tensor content root, hex
  std::string format;
  uint64_t parameters = 0;
  uint64_t vocab = 0, hidden = 0, layers = 0;
  int64_t added_at = 0;  ///< seconds since the epoch
};

/// A model with its serialized lineage fingerprint.
struct RegistryEntry {
  RegistryModel model;
  std::string fingerprint;
};

/// Reads the model at `path` and computes what the registry stores: digests,
/// parameter count, shape and the lineage fingerprint (default plan).
/// `added_at` is left 0 (the caller's clock sets it).
bool describe_model(const std::string& path, RegistryEntry* out, Error* err, unsigned jobs = 0);

/// An open registry database.
class Registry {
 public:
  /// Opens (creating when missing or empty) the registry at `path`. Errors read
  /// "cannot open registry PATH: ..." (corrupt file, another database, newer schema).
  static std::unique_ptr<Registry> open(const std::string& path, Error* err);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Adds one model in one transaction; "model 'NAME' is already registered" on a duplicate.
  bool add(const RegistryEntry& e, Error* err);
  /// Whether a model named `name` is registered.
  bool contains(const std::string& name, bool* yes, Error* err);
  /// Every model sorted by name.
  bool list(std::vector<RegistryModel>* out, Error* err);
  /// Every model with its fingerprint, sorted by name.
  bool entries(std::vector<RegistryEntry>* out, Error* err);
  /// One model; "no model named 'NAME' in the registry" when absent.
  bool get(const std::string& name, RegistryEntry* out, Error* err);
  /// Removes one model (and its fingerprint).
  bool remove(const std::string& name, Error* err);
  /// Writes a consistent copy of the database to `path` (temp file + rename).
  bool export_to(const std::string& path, Error* err);
  /// Adds every model of the registry at `path` in one transaction; a name
  /// already present fails the whole import.
  bool import_from(const std::string& path, Error* err);
  const std::string& path() const { return path_; }

 private:
  Registry() = default;
  bool exec(const std::string& sql, Error* err);
  bool insert(const RegistryEntry& e, Error* err);
  bool fail_db(Error* err, const std::string& what);
  sqlite3* db_ = nullptr;
  std::string path_;
};

/// How a model relates to one registered model.
struct RegistryMatch {
  RegistryModel model;
  std::string relation;  ///< "identity", "identity-renamed", "compared" or "not-comparable"
  std::string note;      ///< why not comparable
  LineageReport report;  ///< the fingerprint comparison ("compared" only)
};

/// Compares the model at `path` with every registered model: identical tensor
/// named root = "identity", identical content root = "identity-renamed",
/// otherwise the fingerprints are compared (registered model as A, `path` as
/// B) or the reason they cannot be. Sorted: identities, then by primary score
/// (highest first), then not comparable by name.
bool match_registry(const std::string& path, Registry& reg, std::vector<RegistryMatch>* out, Error* err,
                    unsigned jobs = 0);

/// match_registry for a stored lineage fingerprint `fp` (labelled `name`):
/// without the tensors there are no identity checks, every model is compared.
bool match_registry_fp(const LineageFp& fp, const std::string& name, Registry& reg, std::vector<RegistryMatch>* out,
                       Error* err);

}  // namespace pedigree
