// This file implements the declarations of `pedigree audit` (scan a fleet of
// models and endpoints into a resumable store and inventory reports), kept
// apart from cli.h so that the audit's options live in one place.
#pragma once

#include <string>
#include <vector>

namespace pedigree::cli {

/// `pedigree audit DIR... | --inventory FILE [--jobs N] [--format json|csv|html] [-o DIR]`
struct AuditArgs {
  std::vector<std::string> dirs;
  std::string inventory;
  unsigned jobs = 0;
  std::vector<std::string> formats;
  std::string output = "pedigree-audit";
  std::string store;
  std::vector<std::string> packs;
  std::string registry;
  std::string llama_server, cache_dir;
  bool no_cache = false;
  std::vector<std::string> watermark_keys;
  std::string name = "model fleet";
  bool retry_errors = false;
};

int run_audit(const AuditArgs& a);

}  // namespace pedigree::cli
