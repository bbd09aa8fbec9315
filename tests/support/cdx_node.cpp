// This file implements node_validate(): it writes the file list to a temp
// file, runs `node tests/support/cdx_validate.js` on it (no shell, NODE_PATH
// set to the pinned node_modules) and parses the JSON line per file.
#include "tests/support/cdx_node.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

extern char** environ;

namespace pedigree::test {
namespace {

namespace fs = std::filesystem;

std::string find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    for (const char* name : {"node", "nodejs"}) {
      fs::path p = fs::path(dir) / name;
      if (!dir.empty() && access(p.c_str(), X_OK) == 0) return p.string();
    }
  }
  return "";
}

/// Runs `argv` with stdin/stdout redirected to files and NODE_PATH set; returns the exit status.
int run_redirected(const std::vector<std::string>& argv, const std::string& in, const std::string& out,
                   const std::string& node_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> env_strings = {"NODE_PATH=" + node_path};
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("NODE_PATH=", 0) != 0) env_strings.push_back(*e);
  std::vector<char*> args, env;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : env_strings) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

NodeResult parse_line(const std::string& line) {
  NodeResult r;
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object()) {
    r.error = "unparseable line: " + line;
    return r;
  }
  r.file = j.value("file", "");
  r.valid = j.value("valid", false);
  r.spec_version = j.value("spec_version", "");
  r.error = j.value("error", "");
  if (j.contains("errors") && j["errors"].is_array())
    for (const auto& e : j["errors"]) r.error_paths.push_back(e.value("instancePath", ""));
  return r;
}

}  // namespace

std::string npm_modules_dir() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("PEDIGREE_NPM_MODULES")) candidates.push_back(env);
#ifdef PEDIGREE_NPM_MODULES
  candidates.push_back(PEDIGREE_NPM_MODULES);
#endif
  for (const std::string& c : candidates)
    if (!c.empty() && fs::exists(fs::path(c) / "@cyclonedx" / "cyclonedx-library" / "package.json")) return c;
  return "";
}

bool node_validate(const std::vector<std::string>& files, std::vector<NodeResult>* out, std::string* why) {
  out->clear();
  std::string node = find_node();
  if (node.empty()) return *why = "node not found on PATH", false;
  std::string modules = npm_modules_dir();
  if (modules.empty()) return *why = "npm packages not installed (run scripts/npm-deps.sh)", false;
  TempDir tmp;
  std::string list;
  for (const std::string& f : files) list += f + "\n";
  std::string in = tmp.write("files.txt", list);
  std::string result = (tmp.path() / "results.jsonl").string();
  std::string script = std::string(PEDIGREE_SOURCE_DIR) + "/tests/support/cdx_validate.js";
  int rc = run_redirected({node, script}, in, result, modules);
  if (rc != 0) return *why = "node exited with status " + std::to_string(rc), false;
  std::ifstream f(result);
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) out->push_back(parse_line(line));
  if (out->size() != files.size())
    return *why = "node printed " + std::to_string(out->size()) + " results for " + std::to_string(files.size()) +
                  " files", false;
  return true;
}

}  // namespace pedigree::test
