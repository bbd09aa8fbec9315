// Tests for fingerprint/formats/zip_archive.cpp: stored members' absolute data
// offsets, deflated reads and streaming, caps, and exact errors for archives
// that are truncated, not zips, or name entries outside the archive.
#include "fingerprint/formats/zip_archive.h"

#include <gtest/gtest.h>

#include "tests/support/pickle_writer.h"

namespace pedigree {
namespace {

using test::ZipMember;

struct Opened {
  std::unique_ptr<MappedFile> file;
  std::unique_ptr<ZipArchive> zip;
  Error err;
};

Opened open_zip(const std::string& bytes) {
  Opened o;
  o.file = MappedFile::from_bytes("a.zip", bytes);
  o.zip = ZipArchive::open(*o.file, &o.err);
  return o;
}

std::string open_error(const std::string& bytes) {
  Opened o = open_zip(bytes);
  EXPECT_EQ(o.zip, nullptr);
  return o.err.str();
}

TEST(ZipArchive, StoredMembersHaveAbsoluteOffsets) {
  std::string zip = test::build_zip({{"dir/a.bin", "hello"}, {"b", "world!"}});
  ASSERT_EQ(zip.find("PK\x06\x06"), std::string::npos);  // no zip64 records needed
  Opened o = open_zip(zip);
  ASSERT_NE(o.zip, nullptr) << o.err.str();
  ASSERT_EQ(o.zip->entries().size(), 2u);
  const ZipEntry* a = o.zip->find("dir/a.bin");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->stored);
  EXPECT_EQ(a->size, 5u);
  EXPECT_EQ(a->data_offset, 30u + 9u);  // local header + name, no extra field
  EXPECT_EQ(zip.substr(a->data_offset, 5), "hello");
  const ZipEntry* b = o.zip->find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(zip.substr(b->data_offset, 6), "world!");
  EXPECT_EQ(o.zip->find("c"), nullptr);
}

TEST(ZipArchive, DeflatedReadAndStream) {
  std::string data;
  for (int i = 0; i < 5000; ++i) data += std::to_string(i) + ",";
  Opened o = open_zip(test::build_zip({{"d.txt", data, true}}));
  ASSERT_NE(o.zip, nullptr) << o.err.str();
  const ZipEntry& e = o.zip->entries()[0];
  EXPECT_FALSE(e.stored);
  EXPECT_LT(e.compressed_size, e.size);
  std::string out;
  Error err;
  ASSERT_TRUE(o.zip->read(e, 1 << 20, &out, &err)) << err.str();
  EXPECT_EQ(out, data);
  std::string part;
  ASSERT_TRUE(o.zip->stream(e, 100, 50, [&](const uint8_t* p, uint64_t n) {
    part.append(reinterpret_cast<const char*>(p), n);
  }, &err)) << err.str();
  EXPECT_EQ(part, data.substr(100, 50));
  EXPECT_FALSE(o.zip->read(e, 10, &out, &err));
  EXPECT_EQ(err.str(), "a.zip: zip entry 'd.txt' of " + human_bytes(data.size()) + " exceeds limit 10 B");
  EXPECT_FALSE(o.zip->stream(e, data.size() - 1, 2, [](const uint8_t*, uint64_t) {}, &err));
  EXPECT_EQ(err.str(), "a.zip: member 'd.txt': range exceeds member size " + human_bytes(data.size()));
}

TEST(ZipArchive, NotAZipAndTruncated) {
  EXPECT_EQ(open_error("PK"), "a.zip: offset 0x0: zip archive shorter than its 22-byte end record");
  EXPECT_EQ(open_error(std::string(100, 'x')), "a.zip: not a zip archive (no end of central directory record)");
  std::string zip = test::build_zip({{"a", "hello"}});
  EXPECT_EQ(open_error(zip.substr(0, zip.size() - 1)), "a.zip: not a zip archive (no end of central directory record)");
  // Central directory offset moved past the end of the file.
  std::string bad = zip;
  size_t eocd = bad.rfind("PK\x05\x06");
  bad[eocd + 16] = static_cast<char>(0xff);
  bad[eocd + 17] = static_cast<char>(0xff);
  EXPECT_EQ(open_error(bad), "a.zip: offset 0xffff: zip central directory of 1 entries exceeds file size " +
                                 human_bytes(bad.size()));
  // Member bytes cut out: the central directory no longer sits where the end record says.
  std::string cut = zip.substr(0, 30 + 1 + 2) + zip.substr(30 + 1 + 5);
  EXPECT_EQ(open_error(cut), "a.zip: offset 0x24: zip central directory record 0 is invalid");
}

TEST(ZipArchive, RejectsEscapingNames) {
  EXPECT_EQ(open_error(test::build_zip({{"ok", "1"}, {"../evil", "x"}})),
            "a.zip: offset 0x21: zip entry name '../evil' escapes the archive");
  EXPECT_EQ(open_error(test::build_zip({{"a/../../evil", "x"}})),
            "a.zip: offset 0x0: zip entry name 'a/../../evil' escapes the archive");
  EXPECT_EQ(open_error(test::build_zip({{"/etc/passwd", "x"}})),
            "a.zip: offset 0x0: zip entry name '/etc/passwd' escapes the archive");
  EXPECT_EQ(open_error(test::build_zip({{"a\\..\\evil", "x"}})),
            "a.zip: offset 0x0: zip entry name 'a\\..\\evil' escapes the archive");
  Opened o = open_zip(test::build_zip({{"a..b/..c", "x"}}));
  EXPECT_NE(o.zip, nullptr) << o.err.str();
}

}  // namespace
}  // namespace pedigree
