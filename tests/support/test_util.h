// This file implements helpers shared by the tests: temporary directories,
// writing fixture bytes, running the built binary and locating ../shared.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/formats/reader.h"

namespace pedigree::test {

/// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  /// Writes `bytes` to `rel` (creating parent directories) and returns the full path.
  std::string write(const std::string& rel, std::string_view bytes) const;

 private:
  std::filesystem::path path_;
};

/// Output and exit code of a command.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs the built `pedigree` with `args` (no shell), capturing stdout/stderr.
RunResult run_pedigree(const std::vector<std::string>& args);

/// Runs the program at `argv[0]` (a path; no shell, no PATH search) with the rest as arguments.
RunResult run_command(const std::vector<std::string>& argv);

/// ../shared next to the source tree, or empty when absent.
std::string shared_dir();

/// The project's samples/ directory.
std::string samples_dir();

/// The real llama-server: $PEDIGREE_LLAMA_SERVER, else the scripts/llama-server.sh
/// cache (~/.cache/pedigree/llama-server-3.22.1/llama-server); empty when neither exists.
std::string llama_server_binary();

/// Little-endian encoders for building fixtures in code.
void put_u32(std::string* s, uint32_t v);
void put_u64(std::string* s, uint64_t v);

/// What one reader made of in-memory bytes.
struct ReadResult {
  bool ok = false;
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  std::unique_ptr<MappedFile> file;
};

/// Runs `reader` over `bytes` presented as file `name`.
ReadResult read_bytes(const FormatReader& reader, const std::string& bytes, const std::string& name);

/// Bytes from a hex string (fixtures embedded as hex in test sources).
std::string unhex(std::string_view hex);

/// The whole file at `path` ("" when it cannot be read).
std::string read_file(const std::string& path);

/// Hex SHA-256 of bytes (via OpenSSL), for expected values.
std::string sha256_hex(std::string_view bytes);

}  // namespace pedigree::test
