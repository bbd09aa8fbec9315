// This file implements the declarations of the `lineage` and `registry`
// commands' entry points and options (kept apart from cli.h).
#pragma once

#include <string>

namespace pedigree::cli {

/// `pedigree lineage A B [--exact] [--json]`, `pedigree lineage PATH --registry [DB]`
/// or `pedigree lineage MODEL --save-fingerprint FILE`. A and B may be stored
/// fingerprint files (told apart by their magic bytes).
struct LineageArgs {
  std::string a, b;
  std::string save_fingerprint;  ///< --save-fingerprint FILE
  bool json = false;
  bool exact = false;
  bool use_registry = false;  ///< --registry given (with or without a value)
  std::string registry;       ///< its value; empty = the default registry path
  unsigned jobs = 0;
};

/// Compares two models; exit 1 when the verdict is "derived", 2 when they
/// cannot be compared. With --registry: exit 1 when PATH is identical to or
/// derived from a protected registered model.
int run_lineage(const LineageArgs& a);

/// `pedigree registry [--registry DB] add|list|show|remove|export|import ...`
struct RegistryArgs {
  std::string db;  ///< --registry; empty = the default registry path
  std::string action;
  std::string path;     ///< add: model; export/import: file
  std::string name;     ///< add --name, show/remove NAME
  std::string license;
  bool is_protected = false;
  bool json = false;
  unsigned jobs = 0;
};

int run_registry(const RegistryArgs& a);

/// ${XDG_DATA_HOME:-$HOME/.local/share}/pedigree/registry.db
std::string default_registry_path();

}  // namespace pedigree::cli
