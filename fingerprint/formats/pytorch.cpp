// This file implements the reader for torch.save zip checkpoints (.pt .pth
// .bin .ckpt): <prefix>/data.pkl is read with the restricted pickle reader,
// every _rebuild_tensor_v2 becomes a strided view of its <prefix>/data/<key>
// storage member (hashed in place when stored, inflated when deflated).
#include <algorithm>
#include <cctype>

#include "fingerprint/formats/limits.h"
#include "fingerprint/formats/pickle_vm.h"
#include "fingerprint/formats/readers.h"
#include "fingerprint/formats/torch_pickle.h"
#include "fingerprint/formats/zip_archive.h"

namespace pedigree {
namespace {

constexpr uint64_t kMaxSmallRecord = 256;  // byteorder / version members

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

bool has_torch_ext(std::string_view path) {
  for (std::string_view e : {".pt", ".pth", ".bin", ".ckpt"})
    if (ends_with(path, e)) return true;
  return false;
}

std::string member(const std::string& prefix, const std::string& rel) {
  return prefix.empty() ? rel : prefix + "/" + rel;
}

// "<prefix>/data.pkl" where the prefix is one path component (or "data.pkl").
const ZipEntry* find_data_pkl(const ZipArchive& zip, std::string* prefix) {
  for (const ZipEntry& e : zip.entries()) {
    if (e.name == "data.pkl") {
      prefix->clear();
      return &e;
    }
    if (ends_with(e.name, "/data.pkl") && e.name.find('/') == e.name.size() - 9) {
      *prefix = e.name.substr(0, e.name.size() - 9);
      return &e;
    }
  }
  return nullptr;
}

// Reads a small text record (byteorder, version), trimmed; empty when absent.
bool read_record(const ZipArchive& zip, const std::string& name, std::string* out, Error* err) {
  out->clear();
  const ZipEntry* e = zip.find(name);
  if (!e) return true;
  if (!zip.read(*e, kMaxSmallRecord, out, err)) return false;
  while (!out->empty() && std::isspace(static_cast<unsigned char>(out->back()))) out->pop_back();
  for (char c : *out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return fail(err, zip.path(), e->stored ? std::optional<uint64_t>(e->data_offset) : std::nullopt,
                  "member '" + name + "' is not printable text");
  return true;
}

// Turns one tensor reference into a TensorInfo over its storage member.
bool add_tensor(const ZipArchive& zip, const std::string& prefix, const torchpk::TensorRef& r,
                uint32_t file, TensorIndex* idx, Error* err) {
  std::string name = member(prefix, "data/" + r.key);
  const ZipEntry* e = zip.find(name);
  if (!e) return fail(err, zip.path(), r.offset, "tensor '" + r.name + "': storage member '" + name + "' is missing");
  uint64_t esize = dtype_info(r.dtype).block_bytes;
  uint64_t elems = e->size / esize;
  if (r.numel > elems)
    return fail(err, zip.path(), r.offset, "tensor '" + r.name + "': storage '" + name + "' declares " +
                                               std::to_string(r.numel) + " elements but holds " +
                                               human_bytes(e->size));
  TensorInfo t;
  if (!torchpk::check_view(r, r.numel, zip.path(), &t.length, err)) return false;
  t.name = r.name;
  t.dtype = r.dtype;
  t.shape = r.shape;
  t.file = file;
  if (e->stored) {
    t.layout = TensorLayout::kStrided;
    t.offset = e->data_offset;
    t.storage = name;
    t.storage_offset = r.storage_offset;
    t.strides = r.strides;
    t.storage_bytes = e->size;
  } else if (torchpk::is_contiguous(r.shape, r.strides)) {
    t.layout = TensorLayout::kZipEntry;
    t.zip_entry = name;
    t.entry_offset = r.storage_offset * esize;
  } else {
    return fail(err, zip.path(), r.offset, "tensor '" + r.name + "': non-contiguous view of compressed storage '" +
                                               name + "' is not supported");
  }
  idx->tensors.push_back(std::move(t));
  return true;
}

class PytorchReader final : public FormatReader {
 public:
  std::string_view name() const override { return "pytorch"; }

  Confidence probe(std::string_view head, std::string_view path) const override {
    if (head.substr(0, 4) != std::string_view("PK\x03\x04", 4)) return Confidence::kNo;
    if (head.size() >= 30) {
      uint64_t nlen = static_cast<uint8_t>(head[26]) | (static_cast<uint64_t>(static_cast<uint8_t>(head[27])) << 8);
      if (30 + nlen <= head.size()) {
        std::string_view first = head.substr(30, nlen);
        if (first == "data.pkl" || ends_with(first, "/data.pkl") || ends_with(first, "/version") ||
            ends_with(first, "/byteorder"))
          return Confidence::kMagic;
      }
    }
    return has_torch_ext(path) ? Confidence::kHint : Confidence::kNo;
  }

  bool read(const MappedFile& file, ModelArtifact* art, TensorIndex* idx, Error* err) const override {
    auto zip = ZipArchive::open(file, err);
    if (!zip) return false;
    std::string prefix, version, byteorder;
    const ZipEntry* pkl = find_data_pkl(*zip, &prefix);
    if (!pkl)
      return fail(err, file.path(), std::nullopt, "zip archive has no <prefix>/data.pkl member (not a torch checkpoint)");
    if (!read_record(*zip, member(prefix, "byteorder"), &byteorder, err) ||
        !read_record(*zip, member(prefix, "version"), &version, err))
      return false;
    if (byteorder.empty()) byteorder = "little";
    if (byteorder == "big") return fail(err, file.path(), std::nullopt, "big-endian checkpoints are not supported");
    if (byteorder != "little")
      return fail(err, file.path(), std::nullopt, "byteorder '" + byteorder + "' is neither 'little' nor 'big'");
    std::string program;
    if (!zip->read(*pkl, limits::kMaxPickleBytes, &program, err)) return false;
    pickle::PickleSource src{pkl->stored ? file.path() : file.path() + ":" + pkl->name,
                             pkl->stored ? pkl->data_offset : 0};
    pickle::PickleTree tree;
    if (!pickle::read_pickle(program, src, &tree, nullptr, err)) return false;
    pickle::add_unsafe_import_findings(tree, src, &art->findings);
    std::vector<torchpk::TensorRef> refs;
    if (!torchpk::collect_tensors(tree, src, &refs, &art->findings, err)) return false;
    uint32_t fi = add_artifact_file(art, file, "pytorch");
    for (const torchpk::TensorRef& r : refs)
      if (!add_tensor(*zip, prefix, r, fi, idx, err)) return false;
    if (art->format.empty()) art->format = "pytorch";
    art->metadata["pytorch"] = {{"prefix", prefix},
                                {"version", version},
                                {"byteorder", byteorder},
                                {"globals", torchpk::globals_json(tree)},
                                {"tensor_count", refs.size()}};
    return true;
  }
};

}  // namespace

const FormatReader& pytorch_reader() {
  static PytorchReader r;
  return r;
}

}  // namespace pedigree
