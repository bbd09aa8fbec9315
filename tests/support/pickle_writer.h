// This file implements small fixture writers for the pickle and PyTorch tests
// and fuzz seeds: a pickle opcode writer, a torch state_dict emitter that uses
// the same opcodes torch.save does, and a libzip-backed zip builder.
#pragma once

#include <zip.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/test_util.h"

namespace pedigree::test {

/// Appends pickle opcodes to a byte string.
class PickleWriter {
 public:
  PickleWriter& op(uint8_t c) { b_.push_back(static_cast<char>(c)); return *this; }
  PickleWriter& raw(std::string_view s) { b_.append(s); return *this; }
  PickleWriter& le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  PickleWriter& proto(int v = 2) { return op(0x80).op(static_cast<uint8_t>(v)); }
  PickleWriter& mark() { return op('('); }
  PickleWriter& stop() { return op('.'); }
  PickleWriter& none() { return op('N'); }
  /// BININT1 / BININT2 / BININT as the value needs.
  PickleWriter& integer(int64_t v) {
    if (v >= 0 && v < 256) return op('K').le(static_cast<uint64_t>(v), 1);
    if (v >= 0 && v < 65536) return op('M').le(static_cast<uint64_t>(v), 2);
    return op('J').le(static_cast<uint64_t>(v), 4);
  }
  PickleWriter& str(std::string_view s) { return op('X').le(s.size(), 4).raw(s); }
  PickleWriter& global(std::string_view mod, std::string_view name) {
    return op('c').raw(mod).raw("\n").raw(name).raw("\n");
  }
  PickleWriter& stack_global(std::string_view mod, std::string_view name) {
    return str(mod).str(name).op(0x93);
  }
  PickleWriter& tuple() { return op('t'); }
  PickleWriter& reduce() { return op('R'); }
  PickleWriter& put(uint8_t k) { return op('q').op(k); }
  PickleWriter& get(uint8_t k) { return op('h').op(k); }
  size_t pos() const { return b_.size(); }
  const std::string& bytes() const { return b_; }

  /// _rebuild_tensor_v2(persid('storage', torch.<type>, key, 'cpu', numel), off, size, stride, False, OrderedDict())
  PickleWriter& tensor(std::string_view type, std::string_view key, int64_t numel, int64_t offset,
                       const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
    global("torch._utils", "_rebuild_tensor_v2").mark();
    mark().str("storage").global("torch", type).str(key).str("cpu").integer(numel).tuple().op('Q');
    integer(offset).mark();
    for (int64_t s : size) integer(s);
    tuple().mark();
    for (int64_t s : stride) integer(s);
    tuple().op(0x89).global("collections", "OrderedDict").op(')').reduce();
    return tuple().reduce();
  }

 private:
  std::string b_;
};

/// One tensor entry of a state_dict fixture.
struct TensorSpec {
  std::string name, type, key;
  int64_t numel = 0, offset = 0;
  std::vector<int64_t> size, stride;
};

/// A protocol-2 OrderedDict state_dict pickle as torch.save writes it.
inline std::string state_dict_pickle(const std::vector<TensorSpec>& ts) {
  PickleWriter w;
  w.proto(2).global("collections", "OrderedDict").op(')').reduce().mark();
  for (const TensorSpec& t : ts) {
    w.str(t.name);
    w.tensor(t.type, t.key, t.numel, t.offset, t.size, t.stride);
  }
  return w.op('u').stop().bytes();
}

/// One member of a zip fixture.
struct ZipMember {
  std::string name;
  std::string data;
  bool deflate = false;
};

/// Builds a zip archive with libzip (stored unless `deflate`) and returns its bytes.
inline std::string build_zip(const std::vector<ZipMember>& members) {
  TempDir dir;
  std::string path = (dir.path() / "fixture.zip").string();
  int zerr = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &zerr);
  if (!z) return {};
  for (const ZipMember& m : members) {
    zip_source_t* src = zip_source_buffer(z, m.data.data(), m.data.size(), 0);
    zip_int64_t i = zip_file_add(z, m.name.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (i < 0) {
      zip_source_free(src);
      continue;
    }
    zip_set_file_compression(z, static_cast<zip_uint64_t>(i), m.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  if (zip_close(z) != 0) {
    zip_discard(z);
    return {};
  }
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// Bytes of `n` little-endian floats 0, 1, 2, ...
inline std::string iota_f32(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    float f = static_cast<float>(i);
    s.append(reinterpret_cast<const char*>(&f), 4);
  }
  return s;
}

}  // namespace pedigree::test
