// This file implements discover_models(): a sorted, bounded walk that applies
// the model rule of fingerprint/discover.h. Only the first bytes of a file are
// read (to match magic bytes); nothing is parsed here.
#include "fingerprint/discover.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>

#include "fingerprint/formats/reader.h"
#include "fingerprint/fs_util.h"

namespace pedigree {
namespace {
namespace fs = std::filesystem;

constexpr size_t kHeadBytes = 4096;

const std::array<std::string_view, 9> kModelExtensions = {".gguf", ".safetensors", ".onnx", ".pt", ".pth",
                                                          ".npz",  ".npy",         ".pkl",  ".pickle"};
const std::array<std::string_view, 3> kModelConfigs = {"config.json", "adapter_config.json",
                                                       "model.safetensors.index.json"};

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

std::string read_head(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return {};
  std::string head(kHeadBytes, '\0');
  ssize_t n = ::read(fd, head.data(), head.size());
  ::close(fd);
  head.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return head;
}

bool is_regular(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Whether `target` (canonical) lies inside `root` (canonical).
bool inside(const fs::path& target, const fs::path& root) {
  auto r = root.begin(), t = target.begin();
  for (; r != root.end(); ++r, ++t)
    if (t == target.end() || *r != *t) return false;
  return true;
}

struct Walk {
  fs::path canonical_root;
  std::vector<DiscoveredModel>* out;
  Error* err;

  bool add(const std::string& path, bool directory) {
    if (out->size() >= kMaxDiscoveredModels)
      return fail(err, path, std::nullopt, "more than " + std::to_string(kMaxDiscoveredModels) + " models found");
    out->push_back({path, directory});
    return true;
  }

  // A symbolic link counts only when it resolves to a regular file inside the root.
  bool link_ok(const std::string& path) {
    std::error_code ec;
    fs::path target = fs::canonical(path, ec);
    return !ec && inside(target, canonical_root) && is_regular(path);
  }

  bool dir(const std::string& path, uint64_t depth) {
    if (depth > kMaxDiscoverDepth)
      return fail(err, path, std::nullopt, "directory nesting exceeds " + std::to_string(kMaxDiscoverDepth));
    if (is_model_directory(path)) return add(path, true);
    std::vector<std::string> names;
    if (!list_directory_sorted(path, &names, err)) return false;
    for (const std::string& n : names) {
      if (n.empty() || n[0] == '.') continue;
      std::string p = path + "/" + n;
      struct stat lst {};
      if (::lstat(p.c_str(), &lst) != 0) continue;
      if (S_ISDIR(lst.st_mode)) {
        if (!dir(p, depth + 1)) return false;
      } else if ((S_ISREG(lst.st_mode) || (S_ISLNK(lst.st_mode) && link_ok(p))) && is_model_file(p)) {
        if (!add(p, false)) return false;
      }
    }
    return true;
  }
};

}  // namespace

bool is_model_file(const std::string& path) {
  for (std::string_view ext : kModelExtensions)
    if (ends_with(path, ext)) return true;
  std::string head = read_head(path);
  std::string_view name = fs::path(path).filename().native();
  for (const FormatReader* r : all_readers())
    if (r->probe(head, name) == Confidence::kMagic) return true;
  return false;
}

bool is_model_directory(const std::string& dir) {
  bool config = false, weights = false;
  std::vector<std::string> names;
  Error ignored;
  if (!list_directory_sorted(dir, &names, &ignored)) return false;
  for (const std::string& n : names) {
    std::string p = dir + "/" + n;
    if (!is_regular(p)) continue;
    for (std::string_view c : kModelConfigs) config = config || n == c;
    if (!weights && n != "model.safetensors.index.json" && !ends_with(n, ".json")) weights = is_model_file(p);
  }
  return config && weights;
}

bool discover_models(const std::string& root, std::vector<DiscoveredModel>* out, Error* err) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) return fail(err, root, std::nullopt, "cannot read: no such file or directory");
  if (!S_ISDIR(st.st_mode)) {
    if (!S_ISREG(st.st_mode)) return fail(err, root, std::nullopt, "not a regular file or directory");
    if (!is_model_file(root)) return fail(err, root, std::nullopt, "not a model file (no known magic bytes or extension)");
    out->push_back({root, false});
    return true;
  }
  std::error_code ec;
  Walk w{fs::canonical(root, ec), out, err};
  if (ec) return fail(err, root, std::nullopt, "cannot resolve: " + ec.message());
  size_t first = out->size();
  if (!w.dir(root, 0)) return false;
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(),
            [](const DiscoveredModel& a, const DiscoveredModel& b) { return a.path < b.path; });
  return true;
}

}  // namespace pedigree
