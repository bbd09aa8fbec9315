// This file implements the model walk (ignore rules, symlink policy, loop
// detection) and the parallel hashing of files or shards into a Manifest,
// following OpenSSF Model Signing v1.0 section 5 (see docs/manifest.md).
#include "fingerprint/manifest.h"

#include "fingerprint/fs_util.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <tbb/parallel_for_each.h>
#include <tbb/task_arena.h>

namespace pedigree {
namespace {
namespace fs = std::filesystem;

struct Walk {
  const ManifestOptions& opts;
  std::vector<std::string> ignores;  // normalized relative paths
  std::set<std::pair<dev_t, ino_t>> active_dirs;
  std::vector<std::pair<std::string, std::string>> files;  // (relative name, path)
};

bool is_ignored(const Walk& w, const std::string& rel) {
  for (const std::string& ig : w.ignores) {
    if (rel == ig) return true;
    if (rel.size() > ig.size() && rel.compare(0, ig.size(), ig) == 0 && rel[ig.size()] == '/') return true;
  }
  return false;
}

std::string normalize_rel(const std::string& p) {
  std::string s = fs::path(p).lexically_normal().generic_string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s.rfind("./", 0) == 0) s = s.substr(2);
  return s;
}

bool walk_dir(Walk* w, const std::string& dir, const std::string& rel_dir, Error* err);

bool visit(Walk* w, const std::string& path, const std::string& rel, Error* err) {
  if (is_ignored(*w, rel)) return true;
  struct stat lst {}, st {};
  if (::lstat(path.c_str(), &lst) != 0) return fail(err, path, std::nullopt, "cannot stat");
  if (S_ISLNK(lst.st_mode)) {
    if (!w->opts.allow_symlinks)
      return fail(err, path, std::nullopt, "is a symbolic link; refused without --allow-symlinks");
    if (::stat(path.c_str(), &st) != 0)
      return fail(err, path, std::nullopt, "symbolic link is dangling or loops");
  } else {
    st = lst;
  }
  if (S_ISDIR(st.st_mode)) return walk_dir(w, path, rel, err);
  if (!S_ISREG(st.st_mode))
    return fail(err, path, std::nullopt, "is not a regular file, directory or symbolic link");
  w->files.emplace_back(rel, path);
  return true;
}

bool walk_dir(Walk* w, const std::string& dir, const std::string& rel_dir, Error* err) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return fail(err, dir, std::nullopt, "cannot stat directory");
  auto key = std::make_pair(st.st_dev, st.st_ino);
  if (!w->active_dirs.insert(key).second)
    return fail(err, dir, std::nullopt, "symbolic link loop: directory is its own ancestor");
  std::vector<std::string> names;
  if (!list_directory_sorted(dir, &names, err)) return false;
  for (const std::string& n : names) {
    std::string rel = rel_dir.empty() ? n : rel_dir + "/" + n;
    if (!visit(w, dir + "/" + n, rel, err)) return false;
  }
  w->active_dirs.erase(key);
  return true;
}

std::vector<std::string> effective_ignores(const ManifestOptions& opts) {
  std::vector<std::string> out;
  for (const std::string& p : opts.ignore_paths) out.push_back(normalize_rel(p));
  if (opts.ignore_defaults)
    for (const char* d : {".git", ".gitattributes", ".github", ".gitignore"}) out.push_back(d);
  if (!opts.signature_name.empty()) out.push_back(normalize_rel(opts.signature_name));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string model_name_of(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  std::string name = p.filename().string();
  if (name.empty()) name = p.parent_path().filename().string();
  if (name.empty() || name == ".") name = fs::absolute(p).lexically_normal().filename().string();
  return name;
}

void add_resources(const Manifest& m, const std::string& rel, const std::string& path, uint64_t size,
                   std::vector<Resource>* out) {
  if (m.options.method == SerializationMethod::kFiles) {
    out->push_back({rel, path, 0, size, {}, {}});
    return;
  }
  for (uint64_t start = 0; start < size; start += m.options.shard_size) {
    uint64_t end = std::min(size, start + m.options.shard_size);
    out->push_back({rel + ":" + std::to_string(start) + ":" + std::to_string(end), path, start, end, {}, {}});
  }
}

}  // namespace

void sort_resources(std::vector<Resource>* resources) {
  std::sort(resources->begin(), resources->end(),
            [](const Resource& a, const Resource& b) { return a.name < b.name; });
}

std::vector<uint8_t> manifest_root(const std::vector<Resource>& resources) {
  Hasher h(HashAlgorithm::kSha256);
  for (const Resource& r : resources) h.update(r.digest.data(), r.digest.size());
  return h.finish();
}

bool enumerate_model(const std::string& path, const ManifestOptions& opts, Manifest* out, Error* err) {
  if (opts.method == SerializationMethod::kShards && opts.shard_size == 0)
    return fail(err, path, std::nullopt, "shard size must be positive");
  out->model_name = model_name_of(path);
  out->options = opts;
  out->resources.clear();
  out->total_bytes = 0;
  Walk w{opts, effective_ignores(opts), {}, {}};
  out->effective_ignore_paths = w.ignores;
  struct stat lst {};
  if (::lstat(path.c_str(), &lst) != 0) return fail(err, path, std::nullopt, "no such file or directory");
  if (S_ISLNK(lst.st_mode) && !opts.allow_symlinks)
    return fail(err, path, std::nullopt, "is a symbolic link; refused without --allow-symlinks");
  struct stat st {};
  ::stat(path.c_str(), &st);
  if (S_ISDIR(st.st_mode)) {
    if (!walk_dir(&w, path, "", err)) return false;
  } else if (S_ISREG(st.st_mode)) {
    w.files.emplace_back(".", path);
  } else {
    return fail(err, path, std::nullopt, "is not a regular file or directory");
  }
  for (const auto& [rel, p] : w.files) {
    struct stat fst {};
    if (::stat(p.c_str(), &fst) != 0) return fail(err, p, std::nullopt, "cannot stat");
    out->total_bytes += static_cast<uint64_t>(fst.st_size);
    add_resources(*out, rel, p, static_cast<uint64_t>(fst.st_size), &out->resources);
  }
  sort_resources(&out->resources);
  return true;
}

bool build_manifest(const std::string& path, const ManifestOptions& opts, Manifest* out, Error* err,
                    ProgressCounter* progress) {
  return enumerate_model(path, opts, out, err) && hash_manifest(out, err, progress);
}

bool hash_manifest(Manifest* out, Error* err, ProgressCounter* progress) {
  const ManifestOptions& opts = out->options;
  std::vector<size_t> order(out->resources.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto len = [&](size_t i) { return out->resources[i].end - out->resources[i].start; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return len(a) > len(b); });
  std::vector<Error> errors(order.size());
  std::vector<char> failed(order.size(), 0);
  int threads = opts.jobs ? static_cast<int>(opts.jobs) : tbb::task_arena::automatic;
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for_each(order.begin(), order.end(), [&](size_t i) {
      Resource& r = out->resources[i];
      auto file = MappedFile::open(r.path, &errors[i]);
      if (!file) {
        failed[i] = 1;
        return;
      }
      if (file->size() < r.end) {
        failed[i] = 1;
        fail(&errors[i], r.path, std::nullopt, "file shrank while hashing");
        return;
      }
      Hasher h(opts.algorithm);
      std::optional<Hasher> also;
      if (opts.also) also.emplace(*opts.also);
      hash_mapped_range(*file, r.start, r.end - r.start, &h, progress, also ? &*also : nullptr);
      r.digest = h.finish();
      if (also) r.also_digest = also->finish();
    });
  });
  for (size_t i = 0; i < failed.size(); ++i)
    if (failed[i]) {
      if (err) *err = errors[i];
      return false;
    }
  return true;
}

}  // namespace pedigree
