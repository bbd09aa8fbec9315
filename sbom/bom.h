// This file implements the CycloneDX AI-BOM generator: from what the readers
// and hashers produced (ModelArtifact, TensorIndex, file digests, tensor
// fingerprint) it builds one deterministic CycloneDX 1.6 or 1.7 JSON document
// with the model as metadata.component. Nothing is invented: a field whose
// source is absent stays absent. See docs/bom.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/artifact.h"
#include "fingerprint/error.h"
#include "fingerprint/manifest.h"
#include "fingerprint/tensor_digest.h"

namespace pedigree {

/// Digests of one file of the model ("." for a single-file model).
struct BomFile {
  std::string name;              ///< relative to the model root, '/'-separated
  uint64_t size = 0;
  std::vector<uint8_t> sha256;   ///< 32 bytes
  std::vector<uint8_t> blake2b;  ///< 64 bytes, or empty when not computed
};

/// Everything the BOM is built from (nothing is read or hashed by build_bom).
struct BomInputs {
  const ModelArtifact* art = nullptr;
  const TensorIndex* idx = nullptr;
  const TensorFingerprint* fp = nullptr;
  std::vector<BomFile> files;            ///< every hashed file, sorted by name
  std::vector<uint8_t> manifest_root;    ///< OMS manifest root (SHA-256) of the SHA-256 manifest
  std::string model_path;                ///< the path the user gave (for a Hugging Face cache revision)
};

/// What the user adds on the command line, plus the injectable clock and serial.
struct BomOptions {
  std::string spec_version = "1.6";      ///< "1.6" or "1.7"
  std::string name, version, purl, supplier;
  std::vector<std::string> base_models;  ///< "org/name[@rev]", a Hugging Face URL or a purl
  std::string serial;                    ///< "urn:uuid:..."; empty = random v4
  std::optional<int64_t> timestamp;      ///< seconds since the epoch; nullopt = `clock()`
  std::string tool_version = PEDIGREE_VERSION;
  std::function<int64_t()> clock;        ///< nullptr = the system clock
  std::function<bool(std::string*, Error*)> random_serial;  ///< nullptr = random_uuid_urn
};

/// Checks the user's options (spec version, serial, purl, base models) before any hashing.
bool check_bom_options(const BomOptions& opts, Error* err);

/// Builds the BOM. Returns false (with `err`) on bad options or inconsistent inputs.
bool build_bom(const BomInputs& in, const BomOptions& opts, nlohmann::json* out, Error* err);

/// Pairs a SHA-256 manifest with an optional BLAKE2b manifest of the same files.
bool bom_files_from_manifests(const Manifest& sha256, const Manifest* blake2b, std::vector<BomFile>* out,
                              Error* err);

/// Hashes the files of the model at `path` for the BOM: SHA-256 (and BLAKE2b-512 for a
/// directory, from the same read) of every file, the OMS manifest root, and for a
/// single-file model also the files it refers to (ONNX external data, shards).
bool hash_bom_files(const std::string& path, const ModelArtifact& art, unsigned jobs, std::vector<BomFile>* files,
                    std::vector<uint8_t>* root, ProgressCounter* progress, Error* err);

/// True for "urn:uuid:" + 8-4-4-4-12 lowercase hex (the CycloneDX serialNumber pattern).
bool valid_serial(std::string_view serial);

/// A random RFC 4122 version 4 UUID as "urn:uuid:..." (OpenSSL RAND_bytes).
bool random_uuid_urn(std::string* out, Error* err);

/// The RFC 4122 version 5 (name-based, SHA-1) UUID of `name` in the URL
/// namespace, as "urn:uuid:...": the same name always gives the same serial.
std::string name_uuid_urn(std::string_view name);

/// "2026-11-23T09:42:45Z" for seconds since the epoch (UTC); false when out of range.
bool iso8601_utc(int64_t seconds, std::string* out);

/// Percent-encodes a purl segment (RFC 3986 unreserved characters stay).
std::string purl_encode(std::string_view s);

}  // namespace pedigree
