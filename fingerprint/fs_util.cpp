// This file implements list_directory_sorted().
#include "fingerprint/fs_util.h"

#include <algorithm>
#include <filesystem>

namespace pedigree {

bool list_directory_sorted(const std::string& dir, std::vector<std::string>* names, Error* err) {
  namespace fs = std::filesystem;
  std::error_code ec;
  names->clear();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names->push_back(it->path().filename().string());
  if (ec) return fail(err, dir, std::nullopt, "cannot list directory: " + ec.message());
  std::sort(names->begin(), names->end());
  return true;
}

}  // namespace pedigree
