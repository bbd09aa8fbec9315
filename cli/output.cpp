// This file implements the CLI's output helpers: error reporting, atomic file
// output, number formatting and the SOURCE_DATE_EPOCH clock.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "cli/cli.h"

namespace pedigree::cli {

int report_error(const Error& err) { return report_error(err.str()); }

int report_error(const std::string& message) {
  std::fprintf(stderr, "pedigree: error: %s\n", message.c_str());
  return kCannotRun;
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool source_date_epoch(std::optional<int64_t>* out, Error* err) {
  const char* v = std::getenv("SOURCE_DATE_EPOCH");
  if (!v) return true;
  std::string s(v);
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    return fail(err, "", std::nullopt, "SOURCE_DATE_EPOCH '" + s + "' is not a decimal number of seconds");
  *out = std::stoll(s);
  return true;
}

bool clock_now(int64_t* out, Error* err) {
  std::optional<int64_t> t;
  if (!source_date_epoch(&t, err)) return false;
  *out = t ? *t : static_cast<int64_t>(std::time(nullptr));
  return true;
}

std::string group_digits(uint64_t n) {
  std::string s = std::to_string(n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(s[i]);
  }
  return out;
}

bool write_output(const std::string& path, const std::string& text, Error* err) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  }
  namespace fs = std::filesystem;
  fs::path target(path);
  std::string dir = target.parent_path().empty() ? "." : target.parent_path().string();
  std::string tmpl = dir + "/." + target.filename().string() + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return fail(err, path, std::nullopt, "cannot create temporary file in " + dir);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmpl.c_str());
      return fail(err, path, std::nullopt, "write failed");
    }
    done += static_cast<size_t>(n);
  }
  ::fchmod(fd, 0644);
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmpl.c_str(), path.c_str()) != 0) {
    ::unlink(tmpl.c_str());
    return fail(err, path, std::nullopt, "cannot write output file");
  }
  return true;
}

}  // namespace pedigree::cli
