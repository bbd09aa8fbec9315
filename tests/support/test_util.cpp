// This file implements the shared test helpers declared in test_util.h.
#include "tests/support/test_util.h"

#include <sstream>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

namespace pedigree::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::random_device rd;
  for (int i = 0; i < 100; ++i) {
    fs::path p = fs::temp_directory_path() / ("pedigree-test-" + std::to_string(rd()));
    std::error_code ec;
    if (fs::create_directory(p, ec)) {
      path_ = p;
      return;
    }
  }
  std::abort();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& rel, std::string_view bytes) const {
  fs::path p = path_ / rel;
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p.string();
}

static std::string read_fd(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

RunResult run_pedigree(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {PEDIGREE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

RunResult run_command(const std::vector<std::string>& args) {
  TempDir tmp;
  std::string out_path = (tmp.path() / "out").string(), err_path = (tmp.path() / "err").string();
  pid_t pid = fork();
  if (pid == 0) {
    int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int in = ::open("/dev/null", O_RDONLY);
    dup2(o, 1);
    dup2(e, 2);
    dup2(in, 0);
    std::vector<char*> argv;
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(copy.at(0).c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  int fo = ::open(out_path.c_str(), O_RDONLY), fe = ::open(err_path.c_str(), O_RDONLY);
  r.out = read_fd(fo);
  r.err = read_fd(fe);
  ::close(fo);
  ::close(fe);
  return r;
}

std::string shared_dir() {
  if (const char* env = std::getenv("PEDIGREE_SHARED_DIR")) return env;
  fs::path p = fs::path(PEDIGREE_SOURCE_DIR).parent_path() / "shared";
  return fs::is_directory(p) ? p.string() : std::string();
}

std::string samples_dir() { return (fs::path(PEDIGREE_SOURCE_DIR) / "samples").string(); }

void put_u32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_u64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

ReadResult read_bytes(const FormatReader& reader, const std::string& bytes, const std::string& name) {
  ReadResult r;
  r.file = MappedFile::from_bytes(name, bytes);
  r.ok = reader.read(*r.file, &r.art, &r.idx, &r.err);
  return r;
}

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hx = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hx[md[i] >> 4]);
    out.push_back(hx[md[i] & 15]);
  }
  return out;
}

std::string llama_server_binary() {
  if (const char* env = std::getenv("PEDIGREE_LLAMA_SERVER"); env && *env)
    return std::filesystem::exists(env) ? env : "";
  const char* home = std::getenv("HOME");
  std::string p = std::string(home ? home : "") + "/.cache/pedigree/llama-server-3.22.1/llama-server";
  return std::filesystem::exists(p) ? p : "";
}

}  // namespace pedigree::test
