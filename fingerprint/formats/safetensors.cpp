// This file implements the safetensors reader: a u64 little-endian header
// size, a JSON header naming each tensor's dtype, shape and byte range, then
// the raw data buffer. It also reads a sharded model through its
// *.safetensors.index.json, checking every shard against the weight map.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "fingerprint/formats/limits.h"
#include "fingerprint/formats/readers.h"

namespace pedigree {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr uint64_t kSizeField = 8;
constexpr std::string_view kIndexSuffix = ".safetensors.index.json";
constexpr size_t kMaxQuotedChars = 120;
constexpr size_t kMaxParseErrorChars = 400;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

uint64_t sat_add(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

// `s` with control bytes (and, when `ascii`, bytes >= 0x80) as \\xNN,
// cut after `max` bytes.
std::string escape(std::string_view s, bool ascii, size_t max) { return escape_bytes(s, ascii, max); }

// 'name' escaped for error messages.
std::string quote(std::string_view s) { return "'" + escape(s, false, kMaxQuotedChars) + "'"; }

// "a string", "an object", or the number itself, for "is X, expected Y".
std::string describe(const json& v) {
  if (v.is_number()) return v.dump();
  if (v.is_object() || v.is_array()) return std::string("an ") + v.type_name();
  if (v.is_null()) return "null";
  return std::string("a ") + v.type_name();
}

// A non-negative JSON integer (nlohmann stores "-0" as signed).
bool as_u64(const json& v, uint64_t* out) {
  if (v.is_number_unsigned()) {
    *out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(v.get<int64_t>());
    return true;
  }
  return false;
}

std::string shape_str(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string range_str(uint64_t b, uint64_t e) {
  return "[" + std::to_string(b) + ", " + std::to_string(e) + ")";
}

// ---- JSON with duplicate-key and nesting checks ---------------------------

struct DuplicateKey {
  std::string key;
  size_t depth;        // 1 = a key of the top-level object
  std::string parent;  // key of the enclosing object, when depth > 1
};
struct TooDeep {};

struct JsonFailure {
  uint64_t pos = 0;  // byte position in the text
  std::string message;
  std::optional<DuplicateKey> dup;
};

// The part of a nlohmann parse error after "line L, column C: ".
std::string parse_error_text(const json::parse_error& e) {
  std::string what = e.what();
  size_t p = what.find("column ");
  if (p != std::string::npos) p = what.find(": ", p);
  if (p == std::string::npos) p = what.find("] ");
  // The "last read" bytes may be invalid UTF-8: keep the message ASCII.
  return escape(p == std::string::npos ? what : what.substr(p + 2), true, kMaxParseErrorChars);
}

// Parses `text`; rejects duplicate object keys (nlohmann would keep the last)
// and nesting deeper than limits::kMaxNesting.
bool parse_json_strict(std::string_view text, json* out, JsonFailure* f) {
  std::vector<std::unordered_set<std::string>> seen;
  std::vector<std::string> last_key;
  auto cb = [&](int depth, json::parse_event_t ev, json& parsed) -> bool {
    switch (ev) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (static_cast<uint64_t>(depth) >= limits::kMaxNesting) throw TooDeep{};
        if (ev == json::parse_event_t::object_start) {
          seen.emplace_back();
          last_key.emplace_back();
        }
        break;
      case json::parse_event_t::key: {
        const auto& k = parsed.get_ref<const std::string&>();
        if (!seen.back().insert(k).second)
          throw DuplicateKey{k, seen.size(), seen.size() > 1 ? last_key[last_key.size() - 2] : ""};
        last_key.back() = k;
        break;
      }
      case json::parse_event_t::object_end:
        seen.pop_back();
        last_key.pop_back();
        break;
      default:
        break;
    }
    return true;
  };
  try {
    *out = json::parse(text.begin(), text.end(), cb);
    return true;
  } catch (const DuplicateKey& d) {
    f->dup = d;
    f->message = "duplicate key " + quote(d.key);
  } catch (const TooDeep&) {
    f->message = "JSON nests deeper than " + std::to_string(limits::kMaxNesting) + " levels";
  } catch (const json::parse_error& e) {
    f->pos = e.byte > 0 ? e.byte - 1 : 0;
    f->message = "not valid JSON: " + parse_error_text(e);
  } catch (const std::exception& e) {
    f->message = std::string("cannot parse JSON: ") + e.what();
  }
  return false;
}

// ---- one safetensors file --------------------------------------------------

// What one safetensors file holds.
struct Parsed {
  std::vector<TensorInfo> tensors;  // ordered by data offset; `file` still unset
  json metadata = json::object();
  uint64_t header_bytes = 0;
  std::vector<Finding> findings;
};

// One tensor entry with its buffer-relative range.
struct Entry {
  TensorInfo info;
  uint64_t begin = 0;
  uint64_t end = 0;
};

std::optional<DType> safetensors_dtype(std::string_view s) {
  static const std::map<std::string_view, DType> kTypes = {
      {"F64", DType::F64},   {"F32", DType::F32},         {"F16", DType::F16},
      {"BF16", DType::BF16}, {"I64", DType::I64},         {"I32", DType::I32},
      {"I16", DType::I16},   {"I8", DType::I8},           {"U64", DType::U64},
      {"U32", DType::U32},   {"U16", DType::U16},         {"U8", DType::U8},
      {"BOOL", DType::BOOL}, {"F8_E4M3", DType::F8_E4M3}, {"F8_E5M2", DType::F8_E5M2},
  };
  auto it = kTypes.find(s);
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

// Shared context for the checks of one file's header.
struct HeaderCtx {
  const std::string& path;
  uint64_t data_start;   // absolute offset of the data buffer
  uint64_t buffer_size;  // bytes in the data buffer
  Error* err;
  bool fail(std::string msg) const { return pedigree::fail(err, path, kSizeField, std::move(msg)); }
};

const json* field(const HeaderCtx& c, const std::string& where, const json& v, const char* key) {
  auto it = v.find(key);
  if (it == v.end()) {
    c.fail(where + " has no \"" + key + "\" field");
    return nullptr;
  }
  return &*it;
}

bool parse_dtype(const HeaderCtx& c, const std::string& where, const json& v, DType* out) {
  const json* d = field(c, where, v, "dtype");
  if (!d) return false;
  if (!d->is_string()) return c.fail(where + " dtype is " + describe(*d) + ", expected a string");
  auto t = safetensors_dtype(d->get_ref<const std::string&>());
  if (!t) return c.fail(where + " has unknown dtype " + quote(d->get_ref<const std::string&>()));
  *out = *t;
  return true;
}

bool parse_shape(const HeaderCtx& c, const std::string& where, const json& v,
                 std::vector<uint64_t>* out) {
  const json* s = field(c, where, v, "shape");
  if (!s) return false;
  if (!s->is_array()) return c.fail(where + " shape is " + describe(*s) + ", expected an array");
  if (s->size() > limits::kMaxDims)
    return c.fail(where + " shape has " + std::to_string(s->size()) + " dims, more than the " +
                  std::to_string(limits::kMaxDims) + " supported");
  for (size_t i = 0; i < s->size(); ++i) {
    const json& d = (*s)[i];
    uint64_t dim = 0;
    if (!as_u64(d, &dim))
      return c.fail(where + " shape dim " + std::to_string(i) + " is " + describe(d) +
                    ", expected a non-negative integer");
    out->push_back(dim);
  }
  return true;
}

bool parse_offsets(const HeaderCtx& c, const std::string& where, const json& v, Entry* e) {
  const json* o = field(c, where, v, "data_offsets");
  if (!o) return false;
  if (!o->is_array())
    return c.fail(where + " data_offsets is " + describe(*o) + ", expected [begin, end]");
  if (o->size() != 2)
    return c.fail(where + " data_offsets has " + std::to_string(o->size()) +
                  " values, expected [begin, end]");
  uint64_t* dst[2] = {&e->begin, &e->end};
  for (size_t i = 0; i < 2; ++i)
    if (!as_u64((*o)[i], dst[i]))
      return c.fail(where + " data_offsets[" + std::to_string(i) + "] is " + describe((*o)[i]) +
                    ", expected a non-negative integer");
  return true;
}

bool parse_tensor(const HeaderCtx& c, const std::string& name, const json& v, Entry* e) {
  std::string where = "tensor " + quote(name);
  if (name.size() > limits::kMaxNameBytes)
    return c.fail("tensor name of " + std::to_string(name.size()) + " bytes exceeds the " +
                  human_bytes(limits::kMaxNameBytes) + " cap");
  if (!v.is_object()) return c.fail(where + " is " + describe(v) + ", expected an object");
  TensorInfo& t = e->info;
  t.name = name;
  if (!parse_dtype(c, where, v, &t.dtype) || !parse_shape(c, where, v, &t.shape) ||
      !parse_offsets(c, where, v, e))
    return false;
  auto elems = shape_elems(t.shape.data(), t.shape.size());
  if (!elems)
    return c.fail(where + " shape " + shape_str(t.shape) + " has more than 2^64 elements");
  auto bytes = dtype_bytes(t.dtype, *elems);
  std::string type_shape = std::string(dtype_name(t.dtype)) + " " + shape_str(t.shape);
  if (!bytes) return c.fail(where + " " + type_shape + " needs more than 2^64 bytes");
  if (e->begin > e->end)
    return c.fail(where + " data_offsets " + range_str(e->begin, e->end) + " begin after end");
  if (e->end - e->begin != *bytes)
    return c.fail(where + " data_offsets " + range_str(e->begin, e->end) + " span " +
                  std::to_string(e->end - e->begin) + " bytes but " + type_shape + " needs " +
                  std::to_string(*bytes) + " bytes");
  if (e->end > c.buffer_size)
    return fail(c.err, c.path, sat_add(c.data_start, e->begin),
                where + " data_offsets " + range_str(e->begin, e->end) + " end past the " +
                    std::to_string(c.buffer_size) + "-byte data buffer");
  t.layout = TensorLayout::kRaw;
  t.offset = c.data_start + e->begin;
  t.length = *bytes;
  return true;
}

bool parse_metadata(const HeaderCtx& c, const json& v, json* out) {
  if (!v.is_object())
    return c.fail("__metadata__ is " + describe(v) + ", expected an object of strings");
  if (v.size() > limits::kMaxMetadataEntries)
    return c.fail("__metadata__ has " + std::to_string(v.size()) + " entries, more than the " +
                  count_str(limits::kMaxMetadataEntries) + " cap");
  for (const auto& [k, val] : v.items())
    if (!val.is_string())
      return c.fail("__metadata__ value for " + quote(k) + " is " + describe(val) +
                    ", expected a string");
  *out = v;
  return true;
}

// Sorts by data offset, rejects overlaps, reports unreferenced bytes.
bool check_layout(const HeaderCtx& c, std::vector<Entry>* entries, std::vector<Finding>* findings) {
  std::sort(entries->begin(), entries->end(), [](const Entry& a, const Entry& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end < b.end;
    return a.info.name < b.info.name;
  });
  uint64_t cursor = 0, unreferenced = 0, first_hole = 0;
  const Entry* reach = nullptr;  // the tensor that ends furthest so far
  for (const Entry& e : *entries) {
    if (e.begin == e.end) continue;
    if (reach && e.begin < reach->end)
      return fail(c.err, c.path, c.data_start + e.begin,
                  "tensor " + quote(e.info.name) + " data_offsets " + range_str(e.begin, e.end) +
                      " overlap tensor " + quote(reach->info.name) + " data_offsets " +
                      range_str(reach->begin, reach->end));
    if (e.begin > cursor) {
      if (unreferenced == 0) first_hole = cursor;
      unreferenced += e.begin - cursor;
    }
    cursor = e.end;
    reach = &e;
  }
  if (cursor < c.buffer_size) {
    if (unreferenced == 0) first_hole = cursor;
    unreferenced += c.buffer_size - cursor;
  }
  if (unreferenced > 0)
    findings->push_back({"safetensors-unreferenced-bytes", "warning", c.path,
                         c.data_start + first_hole,
                         std::to_string(unreferenced) +
                             " bytes of the data buffer are not referenced by any tensor"});
  return true;
}

bool parse_header_json(const MappedFile& f, uint64_t n, json* header, Error* err) {
  JsonFailure jf;
  if (parse_json_strict(f.view().substr(kSizeField, n), header, &jf)) {
    if (header->is_object()) return true;
    return fail(err, f.path(), kSizeField,
                "header is " + describe(*header) + ", expected a JSON object");
  }
  if (jf.dup && jf.dup->depth == 1 && jf.dup->key != "__metadata__")
    return fail(err, f.path(), kSizeField, "duplicate tensor name " + quote(jf.dup->key));
  if (jf.dup && jf.dup->depth > 1)
    return fail(err, f.path(), kSizeField,
                "duplicate key " + quote(jf.dup->key) + " inside " + quote(jf.dup->parent));
  return fail(err, f.path(), kSizeField + jf.pos, "header " + jf.message);
}

// Parses one safetensors file (the single-file format).
bool parse_file(const MappedFile& f, Parsed* out, Error* err) {
  const std::string& path = f.path();
  if (f.size() < kSizeField)
    return fail(err, path, 0,
                "file is " + std::to_string(f.size()) +
                    " bytes, shorter than the 8-byte header size field");
  uint64_t n = read_le64(f.data());
  if (n > limits::kMaxHeaderBytes)
    return fail(err, path, 0,
                "header size " + count_str(n) + " bytes exceeds the " +
                    human_bytes(limits::kMaxHeaderBytes) + " cap");
  if (n > f.size() - kSizeField)
    return fail(err, path, 0,
                "header size " + std::to_string(n) + " bytes exceeds the " +
                    std::to_string(f.size() - kSizeField) + " bytes after the size field");
  json header;
  if (!parse_header_json(f, n, &header, err)) return false;
  if (header.size() > limits::kMaxTensors + 1)
    return fail(err, path, kSizeField,
                "header has " + std::to_string(header.size()) + " entries, more than the " +
                    count_str(limits::kMaxTensors) + " tensor cap");
  HeaderCtx c{path, kSizeField + n, f.size() - kSizeField - n, err};
  std::vector<Entry> entries;
  entries.reserve(header.size());
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      if (!parse_metadata(c, v, &out->metadata)) return false;
      continue;
    }
    Entry e;
    if (!parse_tensor(c, name, v, &e)) return false;
    entries.push_back(std::move(e));
  }
  if (!check_layout(c, &entries, &out->findings)) return false;
  for (Entry& e : entries) out->tensors.push_back(std::move(e.info));
  out->header_bytes = n;
  return true;
}

// Registers `f` and moves its tensors and findings into the model.
void commit_file(const MappedFile& f, Parsed* p, ModelArtifact* art, TensorIndex* idx) {
  uint32_t fi = add_artifact_file(art, f, "safetensors");
  for (TensorInfo& t : p->tensors) {
    t.file = fi;
    idx->tensors.push_back(std::move(t));
  }
  for (Finding& fd : p->findings) art->findings.push_back(std::move(fd));
}

bool read_single(const MappedFile& f, ModelArtifact* art, TensorIndex* idx, Error* err) {
  Parsed p;
  if (!parse_file(f, &p, err)) return false;
  json meta = {{"metadata", p.metadata}, {"header_bytes", p.header_bytes}};
  commit_file(f, &p, art, idx);
  art->metadata["safetensors"] = std::move(meta);
  if (art->format.empty()) art->format = "safetensors";
  return true;
}

// ---- sharded: *.safetensors.index.json -------------------------------------

// The parsed index: tensor -> shard file name, plus its metadata object.
struct Index {
  std::map<std::string, std::string> weight_map;
  json metadata = json::object();
};

bool parse_index_json(const MappedFile& f, json* doc, Error* err) {
  const std::string& path = f.path();
  if (f.size() > limits::kMaxHeaderBytes)
    return fail(err, path, 0,
                "index is " + human_bytes(f.size()) + ", larger than the " +
                    human_bytes(limits::kMaxHeaderBytes) + " cap");
  JsonFailure jf;
  if (!parse_json_strict(f.view(), doc, &jf)) {
    if (jf.dup && jf.dup->depth == 2 && jf.dup->parent == "weight_map")
      return fail(err, path, 0, "duplicate tensor name " + quote(jf.dup->key) + " in weight_map");
    if (jf.dup && jf.dup->depth > 1)
      return fail(err, path, 0,
                  "duplicate key " + quote(jf.dup->key) + " inside " + quote(jf.dup->parent));
    return fail(err, path, jf.dup ? 0 : jf.pos, "index " + jf.message);
  }
  if (!doc->is_object())
    return fail(err, path, 0, "index is " + describe(*doc) + ", expected a JSON object");
  return true;
}

bool parse_index(const MappedFile& f, Index* out, Error* err) {
  const std::string& path = f.path();
  json doc;
  if (!parse_index_json(f, &doc, err)) return false;
  if (auto m = doc.find("metadata"); m != doc.end()) {
    if (!m->is_object())
      return fail(err, path, 0, "index metadata is " + describe(*m) + ", expected an object");
    out->metadata = *m;
  }
  auto wm = doc.find("weight_map");
  if (wm == doc.end()) return fail(err, path, 0, "index has no \"weight_map\" object");
  if (!wm->is_object())
    return fail(err, path, 0, "index weight_map is " + describe(*wm) + ", expected an object");
  if (wm->size() > limits::kMaxTensors)
    return fail(err, path, 0,
                "index weight_map has " + std::to_string(wm->size()) + " tensors, more than the " +
                    count_str(limits::kMaxTensors) + " cap");
  for (const auto& [name, v] : wm->items()) {
    if (!v.is_string())
      return fail(err, path, 0,
                  "weight_map entry for tensor " + quote(name) + " is " + describe(v) +
                      ", expected a shard file name");
    out->weight_map.emplace(name, v.get<std::string>());
  }
  return true;
}

// Checks that `name` is a plain relative path that stays inside `dir`, also
// after symlinks are resolved.
bool check_shard_path(const std::string& index_path, const fs::path& dir, const std::string& name,
                      Error* err) {
  std::string where = "shard path " + quote(name);
  if (name.empty()) return fail(err, index_path, 0, "weight_map names an empty shard path");
  if (name.find('\0') != std::string::npos)
    return fail(err, index_path, 0, where + " contains a NUL byte");
  fs::path p(name);
  if (p.has_root_path())
    return fail(err, index_path, 0, where + " is absolute, expected a file in the index directory");
  for (const fs::path& part : p)
    if (part == "..") return fail(err, index_path, 0, where + " leaves the index directory");
  std::error_code ec1, ec2;
  fs::path base = dir.empty() ? fs::path(".") : dir;
  fs::path canon_dir = fs::weakly_canonical(base, ec1);
  fs::path canon = fs::weakly_canonical(base / p, ec2);
  if (ec1 || ec2)
    return fail(err, index_path, 0, where + " cannot be resolved: " + (ec1 ? ec1 : ec2).message());
  fs::path rel = canon.lexically_relative(canon_dir);
  if (rel.empty() || *rel.begin() == ".." || rel == ".")
    return fail(err, index_path, 0,
                where + " resolves outside the index directory (to " + quote(canon.string()) + ")");
  return true;
}

// Every tensor of every shard must be listed in weight_map under that shard,
// and every weight_map entry must be found in its shard.
bool cross_check(const std::string& path, const Index& ix,
                 const std::map<std::string, std::unordered_set<std::string>>& found, Error* err) {
  for (const auto& [shard, names] : found)
    for (const std::string& t : names) {
      auto it = ix.weight_map.find(t);
      if (it == ix.weight_map.end())
        return fail(
            err, path, std::nullopt,
            "tensor " + quote(t) + " in shard " + quote(shard) + " is not listed in weight_map");
      if (it->second != shard)
        return fail(err, path, std::nullopt,
                    "tensor " + quote(t) + " is stored in shard " + quote(shard) +
                        " but weight_map lists shard " + quote(it->second));
    }
  for (const auto& [t, shard] : ix.weight_map) {
    auto it = found.find(shard);
    if (it == found.end() || !it->second.count(t))
      return fail(
          err, path, std::nullopt,
          "tensor " + quote(t) + " listed in weight_map is missing from shard " + quote(shard));
  }
  return true;
}

// Compares metadata.total_size (when present) with the tensor bytes read.
void check_total_size(const std::string& path, const json& meta, uint64_t total,
                      std::vector<Finding>* findings) {
  auto it = meta.find("total_size");
  if (it == meta.end()) return;
  std::string msg;
  uint64_t claimed = 0;
  if (!as_u64(*it, &claimed))
    msg = "index metadata total_size is " + describe(*it) + ", expected an integer";
  else if (claimed != total)
    msg = "index metadata total_size " + std::to_string(claimed) + " does not match the " +
          std::to_string(total) + " bytes of tensors in the shards";
  if (!msg.empty())
    findings->push_back(
        {"safetensors-index-total-size-mismatch", "warning", path, std::nullopt, msg});
}

// Reads each shard once, in file name order, into art/idx.
bool read_shards(const MappedFile& f, const Index& ix, ModelArtifact* art, TensorIndex* idx,
                 json* shard_meta, Error* err) {
  std::set<std::string> shards;
  for (const auto& [t, shard] : ix.weight_map) shards.insert(shard);
  if (shards.size() > limits::kMaxShards)
    return fail(err, f.path(), 0,
                "weight_map names " + std::to_string(shards.size()) + " shards, more than the " +
                    std::to_string(limits::kMaxShards) + " cap");
  fs::path dir = fs::path(f.path()).parent_path();
  std::map<std::string, std::unordered_set<std::string>> found;
  uint64_t total = 0;
  for (const std::string& name : shards) {
    if (!check_shard_path(f.path(), dir, name, err)) return false;
    Error sub;
    auto shard = MappedFile::open((dir / name).string(), &sub);
    if (!shard)
      return fail(err, f.path(), std::nullopt,
                  "shard " + quote(name) + " named by weight_map: " + sub.message);
    Parsed p;
    if (!parse_file(*shard, &p, err)) return false;
    auto& names = found[name];
    for (const TensorInfo& t : p.tensors) {
      names.insert(t.name);
      total = sat_add(total, t.length);
    }
    shard_meta->push_back(
        {{"file", name}, {"metadata", p.metadata}, {"header_bytes", p.header_bytes}});
    commit_file(*shard, &p, art, idx);
  }
  if (!cross_check(f.path(), ix, found, err)) return false;
  check_total_size(f.path(), ix.metadata, total, &art->findings);
  return true;
}

bool read_index(const MappedFile& f, ModelArtifact* art, TensorIndex* idx, Error* err) {
  Index ix;
  if (!parse_index(f, &ix, err)) return false;
  size_t files0 = art->files.size(), findings0 = art->findings.size();
  size_t tensors0 = idx->tensors.size();
  json shard_meta = json::array();
  if (!read_shards(f, ix, art, idx, &shard_meta, err)) {
    art->files.resize(files0);
    art->findings.resize(findings0);
    idx->tensors.resize(tensors0);
    return false;
  }
  add_artifact_file(art, f, "safetensors-index");
  json first = shard_meta.empty() ? json::object() : shard_meta[0]["metadata"];
  art->metadata["safetensors"] = {
      {"metadata", first}, {"index", ix.metadata}, {"shards", std::move(shard_meta)}};
  if (art->format.empty()) art->format = "safetensors";
  return true;
}

class SafetensorsReader final : public FormatReader {
 public:
  std::string_view name() const override { return "safetensors"; }

  Confidence probe(std::string_view head, std::string_view path) const override {
    if (ends_with(path, kIndexSuffix)) {
      size_t p = head.find_first_not_of(" \t\r\n");
      return p != std::string_view::npos && head[p] == '{' ? Confidence::kMagic : Confidence::kHint;
    }
    if (head.size() > kSizeField) {
      uint64_t n = read_le64(reinterpret_cast<const uint8_t*>(head.data()));
      if (n >= 2 && n <= limits::kMaxHeaderBytes && head[kSizeField] == '{')
        return Confidence::kMagic;
    }
    return ends_with(path, ".safetensors") ? Confidence::kHint : Confidence::kNo;
  }

  bool read(const MappedFile& file, ModelArtifact* art, TensorIndex* idx,
            Error* err) const override {
    try {
      if (ends_with(file.path(), kIndexSuffix)) return read_index(file, art, idx, err);
      return read_single(file, art, idx, err);
    } catch (const std::exception& e) {
      return fail(err, file.path(), std::nullopt, std::string("cannot read: ") + e.what());
    }
  }
};

}  // namespace

const FormatReader& safetensors_reader() {
  static SafetensorsReader r;
  return r;
}

}  // namespace pedigree
