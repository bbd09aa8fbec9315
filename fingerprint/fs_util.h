// This file implements small filesystem helpers shared by the model walks
// (manifest and Hugging Face directory reader).
#pragma once

#include <string>
#include <vector>

#include "fingerprint/error.h"

namespace pedigree {

/// The entry names of `dir` (not "." or ".."), sorted bytewise.
bool list_directory_sorted(const std::string& dir, std::vector<std::string>* names, Error* err);

}  // namespace pedigree
