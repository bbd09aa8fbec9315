// This file implements the NumPy .npz reader: a zip archive (ZipArchive) whose
// members are .npy arrays. Stored members are parsed and hashed in place;
// deflated members (np.savez_compressed) are parsed from their inflated head
// and hashed by streaming the member.
#include <algorithm>

#include "fingerprint/formats/npy.h"
#include "fingerprint/formats/readers.h"
#include "fingerprint/formats/zip_archive.h"

namespace pedigree {
namespace {

constexpr uint64_t kMaxNpyHeadBytes = 1 << 20;  // inflated bytes read to find a member's header

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

// The first local header's name, from the head bytes (for probing).
std::string_view first_member_name(std::string_view head) {
  if (head.size() < 30 || head.substr(0, 4) != std::string_view("PK\x03\x04", 4)) return {};
  size_t n = static_cast<uint8_t>(head[26]) | static_cast<size_t>(static_cast<uint8_t>(head[27])) << 8;
  return head.size() < 30 + n ? std::string_view() : head.substr(30, n);
}

// Reads one member's header: in place when stored, from its inflated head otherwise.
bool member_array(const ZipArchive& zip, const MappedFile& f, const ZipEntry& e, NpyArray* a, Error* err) {
  std::string label = f.path() + ":" + e.name;
  if (e.stored) {
    std::string_view bytes(reinterpret_cast<const char*>(f.data() + e.data_offset), e.size);
    return parse_npy(bytes, f.path(), e.data_offset, a, err);
  }
  std::string head;
  uint64_t want = std::min<uint64_t>(e.size, kMaxNpyHeadBytes);
  if (!zip.stream(e, 0, want, [&](const uint8_t* p, uint64_t n) { head.append(reinterpret_cast<const char*>(p), n); },
                  err))
    return false;
  if (!parse_npy_header(head, label, 0, a, err)) return false;
  if (a->data_offset > e.size || a->data_length != e.size - a->data_offset)
    return fail(err, label, a->data_offset,
                "array data of " + human_bytes(a->data_length) + " does not match the " +
                    human_bytes(e.size - std::min(e.size, a->data_offset)) + " left in the member");
  if (a->big_endian || a->fortran_order)
    return fail(err, label, 0, "compressed big-endian or fortran-order arrays are not supported");
  return true;
}

class NpzReader final : public FormatReader {
 public:
  std::string_view name() const override { return "npz"; }

  Confidence probe(std::string_view head, std::string_view path) const override {
    if (ends_with(first_member_name(head), ".npy")) return Confidence::kMagic;
    bool zip = head.substr(0, 4) == std::string_view("PK\x03\x04", 4);
    return zip && ends_with(path, ".npz") ? Confidence::kHint : Confidence::kNo;
  }

  bool read(const MappedFile& f, ModelArtifact* art, TensorIndex* idx, Error* err) const override {
    auto zip = ZipArchive::open(f, err);
    if (!zip) return false;
    uint32_t file = add_artifact_file(art, f, "npz");
    if (art->format.empty()) art->format = "npz";
    nlohmann::json members = nlohmann::json::array();
    for (const ZipEntry& e : zip->entries()) {
      if (!ends_with(e.name, ".npy")) {
        art->findings.push_back({"npz-unexpected-member", "warning", f.path(), std::nullopt,
                                 "member '" + e.name + "' is not an .npy array and was not read"});
        continue;
      }
      NpyArray a;
      TensorInfo t;
      std::string tensor_name = e.name.substr(0, e.name.size() - 4);
      if (!member_array(*zip, f, e, &a, err) || !npy_tensor(a, tensor_name, f.path(), &t, err)) return false;
      t.file = file;
      if (!e.stored) {
        t.layout = TensorLayout::kZipEntry;
        t.zip_entry = e.name;
        t.entry_offset = a.data_offset;
        t.offset = 0;
      }
      members.push_back({{"name", e.name}, {"descr", a.descr}, {"compressed", !e.stored}});
      idx->tensors.push_back(std::move(t));
    }
    art->metadata["npz"] = {{"members", members}};
    return true;
  }
};

}  // namespace

const FormatReader& npz_reader() {
  static const NpzReader r;
  return r;
}

}  // namespace pedigree
