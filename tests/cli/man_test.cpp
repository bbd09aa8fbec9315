// Checks that every subcommand's --help options appear in its man page and
// that every subcommand has a page, so the two cannot drift apart.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {

std::string read_file(const std::string& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Long options ("--foo-bar") in a text; man pages escape '-' as "\-".
std::set<std::string> long_options(std::string text) {
  text = std::regex_replace(text, std::regex(R"(\\-)"), "-");
  text = std::regex_replace(text, std::regex(R"(\\f[BIRP])"), "");
  std::set<std::string> out;
  std::regex re(R"(--[a-z][a-z0-9-]*)");
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) out.insert(it->str());
  return out;
}

TEST(ManPages, AgreeWithHelp) {
  for (const std::string cmd : {"scan", "inspect", "hash", "bom", "sign", "verify", "lineage", "registry", "probe", "check", "audit"}) {
    std::string page = read_file(std::string(PEDIGREE_SOURCE_DIR) + "/man/pedigree-" + cmd + ".1");
    ASSERT_FALSE(page.empty()) << "missing man/pedigree-" << cmd << ".1";
    auto help = test::run_pedigree({"help", cmd});
    ASSERT_EQ(help.exit_code, 0);
    std::string text = help.out;
    for (const char* sub : {"score", "diff", "validate", "sign", "verify"})  // nested `bom` subcommands share the page
      if (cmd == "bom") text += test::run_pedigree({"bom", sub, "--help"}).out;
    for (const char* sub : {"add", "list", "show", "remove", "export", "import"})
      if (cmd == "registry") text += test::run_pedigree({"registry", sub, "--help"}).out;
    std::set<std::string> in_help = long_options(text), in_man = long_options(page);
    in_help.erase("--help");
    for (const std::string& o : in_help) EXPECT_TRUE(in_man.count(o)) << cmd << ": " << o << " missing from man page";
    for (const std::string& o : in_man) EXPECT_TRUE(in_help.count(o)) << cmd << ": " << o << " in man page but not in --help";
  }
}

TEST(ManPages, OverviewListsEveryCommand) {
  std::string page = read_file(std::string(PEDIGREE_SOURCE_DIR) + "/man/pedigree.1");
  auto help = test::run_pedigree({"--help"});
  for (const std::string cmd : {"scan", "inspect", "hash", "bom", "sign", "verify", "lineage", "registry", "probe", "check", "audit", "help"}) {
    EXPECT_NE(help.out.find(cmd), std::string::npos);
    EXPECT_NE(page.find(".B " + cmd), std::string::npos) << cmd;
  }
}

}  // namespace
}  // namespace pedigree
