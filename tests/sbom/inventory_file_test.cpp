// Tests the audit inventory file parser: paths, endpoints, comments, and the
// exact message for each line it refuses.
#include "sbom/inventory_file.h"

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {

std::string parse_error(const std::string& text) {
  std::vector<InventoryEntry> out;
  Error err;
  EXPECT_FALSE(parse_inventory(text, "fleet.txt", &out, &err));
  return err.str();
}

TEST(InventoryFile, ParsesPathsEndpointsAndComments) {
  std::vector<InventoryEntry> out;
  Error err;
  ASSERT_TRUE(parse_inventory("# fleet\r\n\n  models/a.gguf  \npath: /srv/b dir\n"
                              "endpoint: http://127.0.0.1:8080/v1 model: tiny chat\n\t# done\n",
                              "fleet.txt", &out, &err))
      << err.str();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].path, "models/a.gguf");
  EXPECT_EQ(out[0].line, 3u);
  EXPECT_EQ(out[1].path, "/srv/b dir");
  EXPECT_EQ(out[2].endpoint, "http://127.0.0.1:8080/v1");
  EXPECT_EQ(out[2].model, "tiny chat");
  EXPECT_TRUE(out[2].path.empty());
}

TEST(InventoryFile, RefusesBadLinesWithTheirNumber) {
  EXPECT_EQ(parse_error("a\nendpoint: ftp://x model: m\n"),
            "fleet.txt: line 2: endpoint 'ftp://x' is not an http:// or https:// URL");
  EXPECT_EQ(parse_error("endpoint: http:// model: m"), "fleet.txt: line 1: endpoint 'http://' is not an http:// or https:// URL");
  EXPECT_EQ(parse_error("endpoint: http://h:1/v1\n"), "fleet.txt: line 1: endpoint needs 'model: NAME' after the URL");
  EXPECT_EQ(parse_error("endpoint: http://h:1/v1 model:  "), "fleet.txt: line 1: model name is empty");
  EXPECT_EQ(parse_error("endpoint:"), "fleet.txt: line 1: endpoint URL is empty");
  EXPECT_EQ(parse_error("model: m"), "fleet.txt: line 1: 'model:' without 'endpoint: URL' before it");
  EXPECT_EQ(parse_error("path:   "), "fleet.txt: line 1: path is empty");
  EXPECT_EQ(parse_error("ok\nbad\x01name"), "fleet.txt: line 2: control byte 0x1 at column 4");
  EXPECT_EQ(parse_error(std::string(kMaxInventoryLine + 1, 'x')),
            "fleet.txt: line 1: line of 8193 bytes exceeds limit 8192");
}

TEST(InventoryFile, ResolvesRelativePathsAgainstItsDirectory) {
  test::TempDir t;
  std::string f = t.write("lists/fleet.txt", "a.gguf\n/abs/b.gguf\nendpoint: https://h/v1 model: m\n");
  std::vector<InventoryEntry> out;
  Error err;
  ASSERT_TRUE(read_inventory(f, &out, &err)) << err.str();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].path, (t.path() / "lists" / "a.gguf").string());
  EXPECT_EQ(out[1].path, "/abs/b.gguf");
  EXPECT_EQ(out[2].endpoint, "https://h/v1");
}

}  // namespace
}  // namespace pedigree
