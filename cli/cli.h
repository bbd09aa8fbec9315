// This file implements the declarations shared by the CLI's translation units:
// exit codes, the subcommand entry points and the output helpers. The CLI is
// the only layer that prints or picks exit codes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fingerprint/error.h"
#include "fingerprint/manifest.h"

namespace pedigree::cli {

/// Exit codes used everywhere.
enum Exit : int { kOk = 0, kFlagged = 1, kCannotRun = 2 };

/// Prints "pedigree: error: <message>" to stderr and returns kCannotRun.
int report_error(const Error& err);
int report_error(const std::string& message);

/// Writes `text` to `path` atomically (temp file in the same directory, then
/// rename), or to stdout when `path` is empty.
bool write_output(const std::string& path, const std::string& text, Error* err);

/// Pretty JSON with sorted keys and a trailing newline.
std::string json_text(const nlohmann::json& j);

/// The private key password: the first line of `password_file` when given,
/// else $PEDIGREE_KEY_PASSWORD, else none.
bool read_key_password(const std::string& password_file, std::optional<std::string>* out, Error* err);

/// SOURCE_DATE_EPOCH (reproducible-builds.org) when set: decimal seconds since the epoch.
bool source_date_epoch(std::optional<int64_t>* out, Error* err);

/// SOURCE_DATE_EPOCH when set, else the system clock (seconds since the epoch).
bool clock_now(int64_t* out, Error* err);

/// "1,234,567"
std::string group_digits(uint64_t n);

/// Options shared by `hash` and `scan`.
struct HashArgs {
  std::string path;
  std::string algorithm = "sha256";
  std::string method = "files";
  uint64_t shard_size = 1000000000;
  std::vector<std::string> ignore_paths;
  bool allow_symlinks = false;
  bool tensors = false;
  bool json = false;
  std::string output;
  unsigned jobs = 0;
};

struct InspectArgs {
  std::string path;
  bool json = false;
  bool all_tensors = false;
};

/// `pedigree scan PATH | --endpoint URL --model NAME [--pack P]... [-o DIR]`.
struct ScanArgs {
  std::string path;
  std::string endpoint, model;
  std::vector<std::string> packs;
  bool json = false;
  std::string output_dir;  ///< -o: writes <name>.cdx.json and <name>.scan.json there
  std::string sig;
  std::string key;
  std::vector<std::string> cert_root, cert_chain;
  std::string trust_root, identity, issuer;
  std::string registry;
  std::string llama_server, cache_dir, declared, serial;
  bool no_cache = false;
  std::vector<std::string> watermark_keys;
  int concurrency = 4;
  unsigned jobs = 0;
};

/// `pedigree sign`: key, optional certificate chain, serialization options in `hash`.
struct SignArgs {
  HashArgs hash;  ///< path, serialization options, output (-o) and jobs
  std::string key;
  std::string password_file;
  std::string cert;
  std::vector<std::string> chain;
};

/// `pedigree verify`.
struct VerifyArgs {
  std::string path;
  std::string sig;
  std::string key;
  std::vector<std::string> cert_root;
  std::vector<std::string> cert_chain;
  std::string trust_root;
  std::string identity;
  std::string issuer;
  bool ignore_unsigned_files = false;
  bool at_signing_time = false;
  bool json = false;
  unsigned jobs = 0;
};

/// Serialization options of `hash` (and `sign`) from the command line.
bool manifest_options_from_args(const HashArgs& a, ManifestOptions* o, Error* err);

int run_inspect(const InspectArgs& a);
int run_hash(const HashArgs& a);
int run_scan(const ScanArgs& a);
int run_sign(const SignArgs& a);
int run_verify(const VerifyArgs& a);

/// `pedigree bom validate FILE [--json]`.
struct BomValidateArgs {
  std::string path;
  bool json = false;
};

int run_bom_validate(const BomValidateArgs& a);

}  // namespace pedigree::cli
