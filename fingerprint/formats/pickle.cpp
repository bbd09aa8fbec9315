// This file implements the reader for non-zip pickles: plain .pkl files (read
// for their imports only) and legacy torch.save(..., _use_new_zipfile_
// serialization=False) checkpoints, a run of five pickles (magic, protocol,
// sys_info, objects, storage keys) followed by each storage as u64 count + bytes.
#include <map>

#include "fingerprint/formats/limits.h"
#include "fingerprint/formats/pickle_vm.h"
#include "fingerprint/formats/readers.h"
#include "fingerprint/formats/torch_pickle.h"

namespace pedigree {
namespace {

constexpr std::string_view kLegacyMagic = "0x1950a86a20f9469cfc6c";  // torch.serialization.MAGIC_NUMBER

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

struct Storage {
  DType dtype = DType::F32;
  uint64_t offset = 0;  // absolute offset of the bytes
  uint64_t elems = 0;
  bool located = false;
};

// Reads the pickle starting at *pos, adds its unsafe-import findings, advances *pos.
bool next_pickle(const MappedFile& f, uint64_t* pos, pickle::PickleTree* tree, ModelArtifact* art, Error* err) {
  pickle::PickleSource src{f.path(), *pos};
  uint64_t n = 0;
  std::string_view rest = f.view().substr(*pos);
  if (rest.size() > limits::kMaxPickleBytes) rest = rest.substr(0, limits::kMaxPickleBytes);
  if (!pickle::read_pickle(rest, src, tree, &n, err)) return false;
  pickle::add_unsafe_import_findings(*tree, src, &art->findings);
  *pos += n;
  return true;
}

// After the key list: u64 element count + raw bytes for each key, in order.
bool locate_storages(const MappedFile& f, const pickle::PickleTree& keys, uint64_t pos,
                     std::map<std::string, Storage>* st, Error* err) {
  const pickle::Node& list = keys.at(keys.root);
  if (list.kind != pickle::Kind::kList)
    return fail(err, f.path(), list.offset, "legacy checkpoint storage key list is not a list");
  for (pickle::NodeId k : list.items) {
    const pickle::Node& kn = keys.at(k);
    if (kn.kind != pickle::Kind::kStr)
      return fail(err, f.path(), kn.offset, "legacy checkpoint storage key is not a string");
    auto it = st->find(kn.text);
    if (it == st->end())
      return fail(err, f.path(), pos, "storage '" + kn.text + "' is listed but no tensor uses it");
    if (f.size() - pos < 8)
      return fail(err, f.path(), pos, "storage '" + kn.text + "' truncated: no element count");
    uint64_t count = 0;
    for (int i = 7; i >= 0; --i) count = (count << 8) | f.data()[pos + static_cast<uint64_t>(i)];
    auto bytes = dtype_bytes(it->second.dtype, count);
    if (!bytes || *bytes > f.size() - pos - 8)
      return fail(err, f.path(), pos, "storage '" + kn.text + "' of " + count_str(count) +
                                          " elements exceeds the " + human_bytes(f.size() - pos - 8) + " remaining");
    it->second.offset = pos + 8;
    it->second.elems = count;
    it->second.located = true;
    pos += 8 + *bytes;
  }
  return true;
}

bool add_tensor(const MappedFile& f, const torchpk::TensorRef& r, const Storage& s, uint32_t file,
                TensorIndex* idx, Error* err) {
  uint64_t esize = dtype_info(r.dtype).block_bytes;
  if (!s.located)
    return fail(err, f.path(), r.offset, "tensor '" + r.name + "': storage '" + r.key + "' is missing from the storage list");
  if (r.numel > s.elems)
    return fail(err, f.path(), r.offset, "tensor '" + r.name + "': storage '" + r.key + "' declares " +
                                             std::to_string(r.numel) + " elements but holds " + std::to_string(s.elems));
  uint64_t base = 0, elems = s.elems;
  if (r.view_offset) {
    if (*r.view_offset > s.elems || r.view_size > s.elems - *r.view_offset)
      return fail(err, f.path(), r.offset, "tensor '" + r.name + "': storage view exceeds storage '" + r.key + "'");
    base = *r.view_offset;
    elems = r.view_size;
  }
  TensorInfo t;
  if (!torchpk::check_view(r, elems, f.path(), &t.length, err)) return false;
  t.name = r.name;
  t.dtype = r.dtype;
  t.shape = r.shape;
  t.file = file;
  t.layout = TensorLayout::kStrided;
  t.offset = s.offset + base * esize;
  t.storage = r.key;
  t.storage_offset = r.storage_offset;
  t.strides = r.strides;
  t.storage_bytes = elems * esize;
  idx->tensors.push_back(std::move(t));
  return true;
}

bool read_legacy(const MappedFile& f, uint64_t pos, ModelArtifact* art,
                 TensorIndex* idx, Error* err) {
  pickle::PickleTree proto, sys, obj, keys;
  if (!next_pickle(f, &pos, &proto, art, err) || !next_pickle(f, &pos, &sys, art, err)) return false;
  const pickle::Node& pv = proto.at(proto.root);
  if (pv.kind != pickle::Kind::kInt || pv.i != 1001)
    return fail(err, f.path(), pv.offset, "legacy checkpoint protocol version is not 1001");
  const pickle::Node& si = sys.at(sys.root);
  for (size_t k = 0; si.kind == pickle::Kind::kDict && k + 1 < si.pairs.size(); k += 2) {
    const pickle::Node &key = sys.at(si.pairs[k]), &val = sys.at(si.pairs[k + 1]);
    if (key.kind == pickle::Kind::kStr && key.text == "little_endian" && val.kind == pickle::Kind::kBool && !val.i)
      return fail(err, f.path(), val.offset, "big-endian checkpoints are not supported");
  }
  pickle::PickleSource src{f.path(), pos};
  if (!next_pickle(f, &pos, &obj, art, err)) return false;
  std::vector<torchpk::TensorRef> refs;
  if (!torchpk::collect_tensors(obj, src, &refs, &art->findings, err)) return false;
  std::map<std::string, Storage> st;
  for (const torchpk::TensorRef& r : refs) {
    auto [it, fresh] = st.emplace(r.key, Storage{r.dtype});
    if (!fresh && it->second.dtype != r.dtype)
      return fail(err, f.path(), r.offset, "storage '" + r.key + "' is used with two element types");
  }
  if (!next_pickle(f, &pos, &keys, art, err) || !locate_storages(f, keys, pos, &st, err)) return false;
  uint32_t fi = add_artifact_file(art, f, "pickle");
  for (const torchpk::TensorRef& r : refs)
    if (!add_tensor(f, r, st[r.key], fi, idx, err)) return false;
  if (art->format.empty()) art->format = "pytorch";
  nlohmann::json globals = torchpk::globals_json(obj);
  art->metadata["pytorch"] = {{"legacy", true}, {"protocol_version", pv.i}, {"byteorder", "little"},
                              {"globals", globals}, {"tensor_count", refs.size()}};
  return true;
}

class PickleReader final : public FormatReader {
 public:
  std::string_view name() const override { return "pickle"; }

  Confidence probe(std::string_view head, std::string_view path) const override {
    if (head.size() >= 2 && static_cast<uint8_t>(head[0]) == 0x80 && head[1] >= 2 && head[1] <= 5)
      return Confidence::kMagic;
    if (ends_with(path, ".pkl") || ends_with(path, ".pickle")) return Confidence::kHint;
    bool zip = head.substr(0, 2) == "PK";
    if (!zip && (ends_with(path, ".pt") || ends_with(path, ".pth") || ends_with(path, ".bin")))
      return Confidence::kHint;
    return Confidence::kNo;
  }

  bool read(const MappedFile& file, ModelArtifact* art, TensorIndex* idx, Error* err) const override {
    uint64_t pos = 0;
    pickle::PickleTree first;
    if (!next_pickle(file, &pos, &first, art, err)) return false;
    const pickle::Node& root = first.at(first.root);
    if (root.kind == pickle::Kind::kBigInt && root.text == kLegacyMagic)
      return read_legacy(file, pos, art, idx, err);
    add_artifact_file(art, file, "pickle");
    if (art->format.empty()) art->format = "pickle";
    art->metadata["pickle"] = {{"protocol", first.protocol}, {"globals", torchpk::globals_json(first)}};
    return true;
  }
};

}  // namespace

const FormatReader& pickle_reader() {
  static PickleReader r;
  return r;
}

}  // namespace pedigree
