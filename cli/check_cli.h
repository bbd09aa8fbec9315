// This file implements the declarations of `pedigree check` (the CI policy
// gate), kept apart from cli.h so that the gate's options live in one place.
#pragma once

#include <string>
#include <vector>

namespace pedigree::cli {

/// `pedigree check PATH --policy FILE [--format text|json|sarif|junit] [-o FILE] [--sig FILE]
/// [--registry DB] [--endpoint URL --model NAME]`
struct CheckArgs {
  std::string path;
  std::string policy;
  std::string format = "text";
  std::string output;
  std::string sig;
  std::string registry;           ///< lineage registry when the policy names none
  std::string endpoint, model;    ///< probe backend (else a GGUF PATH is served by llama-server)
  std::string llama_server, cache_dir;
  bool no_cache = false;
  std::vector<std::string> watermark_keys;
  unsigned jobs = 0;
};

int run_check(const CheckArgs& a);

}  // namespace pedigree::cli
