// This file implements the declarations of `pedigree check` (the CI policy
// gate), kept apart from cli.h so that the gate's options live in one place.
#pragma once

#include <string>

namespace pedigree::cli {

/// `pedigree check PATH --policy FILE [--format text|json|sarif|junit] [-o FILE] [--sig FILE]`
struct CheckArgs {
  std::string path;
  std::string policy;
  std::string format = "text";
  std::string output;
  std::string sig;
  unsigned jobs = 0;
};

int run_check(const CheckArgs& a);

}  // namespace pedigree::cli
