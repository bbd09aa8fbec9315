// This file implements `pedigree hash`: the OMS-compatible manifest of a model
// (files or shards, SHA-256 or BLAKE2b) and, with --tensors, the
// format-independent tensor digests and roots.
#include <fmt/format.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "fingerprint/formats/reader.h"
#include "fingerprint/manifest.h"
#include "fingerprint/tensor_digest.h"

namespace pedigree::cli {
bool manifest_options_from_args(const HashArgs& a, ManifestOptions* o, Error* err) {
  auto alg = algorithm_from_name(a.algorithm);
  if (!alg) return fail(err, "", std::nullopt, "unknown algorithm '" + a.algorithm + "' (sha256 or blake2b)");
  o->algorithm = *alg;
  if (a.method != "files" && a.method != "shards")
    return fail(err, "", std::nullopt, "unknown method '" + a.method + "' (files or shards)");
  o->method = a.method == "files" ? SerializationMethod::kFiles : SerializationMethod::kShards;
  if (a.shard_size == 0) return fail(err, "", std::nullopt, "--shard-size must be positive");
  o->shard_size = a.shard_size;
  o->ignore_paths = a.ignore_paths;
  o->allow_symlinks = a.allow_symlinks;
  o->jobs = a.jobs;
  return true;
}

namespace {

nlohmann::json serialization_json(const Manifest& m) {
  nlohmann::json s = {{"method", m.options.method == SerializationMethod::kFiles ? "files" : "shards"},
                      {"hash_type", algorithm_name(m.options.algorithm)},
                      {"allow_symlinks", m.options.allow_symlinks},
                      {"ignore_paths", m.effective_ignore_paths}};
  if (m.options.method == SerializationMethod::kShards) s["shard_size"] = m.options.shard_size;
  return s;
}

nlohmann::json tensors_json(const TensorFingerprint& fp) {
  nlohmann::json d = nlohmann::json::array();
  for (const TensorDigest& t : fp.tensors)
    d.push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"bytes", t.bytes},
                 {"sha256", to_hex(t.sha256.data(), 32)}});
  return {{"count", fp.tensors.size()},
          {"named_root", "sha256:" + to_hex(fp.named_root.data(), 32)},
          {"content_root", "sha256:" + to_hex(fp.content_root.data(), 32)},
          {"digests", d}};
}

std::string hash_text(const Manifest& m, const TensorFingerprint* fp) {
  std::string out;
  for (const Resource& r : m.resources) out += fmt::format("{}  {}\n", to_hex(r.digest), r.name);
  out += fmt::format("manifest-root  sha256:{}  ({} resources, {})\n", to_hex(manifest_root(m.resources)),
                     m.resources.size(), algorithm_name(m.options.algorithm));
  if (!fp) return out;
  for (const TensorDigest& t : fp->tensors)
    out += fmt::format("tensor  {}  {}  {}\n", to_hex(t.sha256.data(), 32), t.name, dtype_name(t.dtype));
  out += fmt::format("tensor-named-root    sha256:{}\n", to_hex(fp->named_root.data(), 32));
  out += fmt::format("tensor-content-root  sha256:{}\n", to_hex(fp->content_root.data(), 32));
  return out;
}

}  // namespace

int run_hash(const HashArgs& a) {
  ManifestOptions opts;
  Error err;
  if (!manifest_options_from_args(a, &opts, &err)) return report_error(err.message);
  Manifest m;
  if (!enumerate_model(a.path, opts, &m, &err)) return report_error(err);
  {
    Progress p("hashing", m.total_bytes);
    if (!hash_manifest(&m, &err, p.counter())) return report_error(err);
  }
  TensorFingerprint fp;
  if (a.tensors) {
    ModelArtifact art;
    TensorIndex idx;
    if (!read_model(a.path, &art, &idx, &err)) return report_error(err);
    uint64_t total = 0;
    for (const TensorInfo& t : idx.tensors) total += t.length;
    Progress p("tensors", total);
    if (!compute_tensor_fingerprint(art, idx, &fp, &err, a.jobs, p.counter())) return report_error(err);
  }
  std::string text;
  if (a.json) {
    nlohmann::json resources = nlohmann::json::array();
    for (const Resource& r : m.resources)
      resources.push_back({{"name", r.name}, {"algorithm", algorithm_name(opts.algorithm)},
                           {"digest", to_hex(r.digest)}, {"bytes", r.end - r.start}});
    nlohmann::json j = {{"model", m.model_name}, {"path", a.path}, {"serialization", serialization_json(m)},
                        {"resources", resources},
                        {"manifest_root", "sha256:" + to_hex(manifest_root(m.resources))}};
    if (a.tensors) j["tensors"] = tensors_json(fp);
    text = json_text(j);
  } else {
    text = hash_text(m, a.tensors ? &fp : nullptr);
  }
  if (!write_output(a.output, text, &err)) return report_error(err);
  return kOk;
}

}  // namespace pedigree::cli
