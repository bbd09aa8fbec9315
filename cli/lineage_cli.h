// This file implements the declaration of the `lineage` command's entry point
// (kept apart from cli.h so the registry commands can be added beside it).
#pragma once

#include <string>

namespace pedigree::cli {

/// `pedigree lineage A B [--json]`
struct LineageArgs {
  std::string a, b;
  bool json = false;
  unsigned jobs = 0;
};

/// Compares two models; exit 1 when the verdict is "derived", 2 when they
/// cannot be compared.
int run_lineage(const LineageArgs& a);

}  // namespace pedigree::cli
