// This file implements canonical-byte streaming for every TensorLayout (raw
// ranges hashed in place, byte-swapped elements, strided PyTorch views,
// inline bytes, compressed zip members) and the tensor roots.
#include "fingerprint/tensor_digest.h"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>

#include <tbb/parallel_for_each.h>
#include <tbb/task_arena.h>

#include "fingerprint/formats/zip_archive.h"

namespace pedigree {
namespace {

using Sink = std::function<void(const uint8_t*, size_t)>;
constexpr size_t kChunk = size_t{1} << 20;
constexpr uint64_t kMaxViewExpansion = 256;  // canonical bytes per storage byte, at most
constexpr std::string_view kNamedDomain = "pedigree:tensor-named-root:v1\n";
constexpr std::string_view kContentDomain = "pedigree:tensor-content-root:v1\n";

// Size of the unit that is byte-swapped: the element, or half a complex one.
size_t swap_unit(DType t) {
  const DTypeInfo& d = dtype_info(t);
  if (t == DType::C64 || t == DType::C128) return d.block_bytes / 2;
  return d.block_elems == 1 ? d.block_bytes : 1;
}

bool check_range(const ModelArtifact& art, const TensorInfo& t, const MappedFile& f, uint64_t off,
                 uint64_t len, Error* err) {
  if (off > f.size() || len > f.size() - off)
    return fail(err, art.files[t.file].path, off,
                "tensor '" + t.name + "' data of " + human_bytes(len) + " exceeds file size " +
                    human_bytes(f.size()));
  return true;
}

void stream_raw(const MappedFile& f, uint64_t off, uint64_t len, const Sink& sink) {
  while (len > 0) {
    uint64_t n = std::min<uint64_t>(len, uint64_t{8} << 20);
    sink(f.data() + off, static_cast<size_t>(n));
    f.release(off, n);
    off += n;
    len -= n;
  }
}

void stream_swapped(const uint8_t* p, uint64_t len, size_t unit, const Sink& sink) {
  std::vector<uint8_t> buf(kChunk);
  while (len > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, kChunk / unit * unit));
    for (size_t i = 0; i < n; i += unit)
      for (size_t k = 0; k < unit; ++k) buf[i + k] = p[i + unit - 1 - k];
    sink(buf.data(), n);
    p += n;
    len -= n;
  }
}

__extension__ typedef __int128 i128;

// True when every element the view touches lies inside the storage.
bool view_in_storage(const TensorInfo& t, size_t es) {
  constexpr uint64_t kMaxExtent = uint64_t{1} << 48;
  i128 hi = static_cast<i128>(t.storage_offset), lo = hi;
  for (size_t i = 0; i < t.shape.size(); ++i) {
    if (t.shape[i] > kMaxExtent || t.strides[i] > static_cast<int64_t>(kMaxExtent) ||
        t.strides[i] < -static_cast<int64_t>(kMaxExtent))
      return false;
    i128 span = static_cast<i128>(t.strides[i]) * static_cast<i128>(t.shape[i] - 1);
    (span >= 0 ? hi : lo) += span;
  }
  return lo >= 0 && (hi + 1) * static_cast<i128>(es) <= static_cast<i128>(t.storage_bytes);
}

// Walks a strided view in C order, copying contiguous innermost runs.
bool stream_strided(const ModelArtifact& art, const TensorInfo& t, const MappedFile& f, const Sink& sink,
                    Error* err) {
  const size_t es = dtype_info(t.dtype).block_bytes;
  const size_t nd = t.shape.size();
  if (dtype_info(t.dtype).block_elems != 1 || es == 0 || t.strides.size() != nd)
    return fail(err, art.files[t.file].path, t.offset, "tensor '" + t.name + "' has an invalid strided layout");
  auto elems_opt = shape_elems(t.shape.data(), nd);
  uint64_t elems = elems_opt.value_or(0);
  if (!elems_opt || elems > t.length / es || elems * es != t.length)
    return fail(err, art.files[t.file].path, t.offset,
                "tensor '" + t.name + "' shape does not match its byte length " + human_bytes(t.length));
  if (elems == 0) return true;
  // A view may repeat storage elements (stride 0); bound the expansion so a
  // tiny file cannot demand hashing of exabytes.
  if (t.length / kMaxViewExpansion > t.storage_bytes + kChunk)
    return fail(err, art.files[t.file].path, t.offset,
                "tensor '" + t.name + "' view of " + human_bytes(t.length) + " expands its storage of " +
                    human_bytes(t.storage_bytes) + " beyond the limit");
  if (!view_in_storage(t, es))
    return fail(err, art.files[t.file].path, t.offset,
                "tensor '" + t.name + "' view exceeds its storage of " + human_bytes(t.storage_bytes));
  if (!check_range(art, t, f, t.offset, t.storage_bytes, err)) return false;
  const uint8_t* base = f.data() + t.offset;
  size_t inner = nd ? static_cast<size_t>(t.shape[nd - 1]) : 1;
  int64_t inner_stride = nd ? t.strides[nd - 1] : 1;
  std::vector<uint64_t> idx(nd, 0);
  std::vector<uint8_t> buf;
  buf.reserve(kChunk + inner * es);
  for (uint64_t row = 0; row < elems / inner; ++row) {
    int64_t start = static_cast<int64_t>(t.storage_offset);
    for (size_t i = 0; i + 1 < nd; ++i) start += static_cast<int64_t>(idx[i]) * t.strides[i];
    if (inner_stride == 1) {
      buf.insert(buf.end(), base + start * es, base + (start + static_cast<int64_t>(inner)) * es);
    } else {
      for (size_t j = 0; j < inner; ++j) {
        const uint8_t* p = base + (start + static_cast<int64_t>(j) * inner_stride) * static_cast<int64_t>(es);
        buf.insert(buf.end(), p, p + es);
      }
    }
    if (buf.size() >= kChunk) {
      sink(buf.data(), buf.size());
      buf.clear();
    }
    for (size_t i = nd >= 2 ? nd - 2 : 0; nd >= 2; --i) {  // odometer over outer dims
      if (++idx[i] < t.shape[i]) break;
      idx[i] = 0;
      if (i == 0) break;
    }
  }
  if (!buf.empty()) sink(buf.data(), buf.size());
  return true;
}

bool stream_zip_entry(const ModelArtifact& art, const TensorInfo& t, const MappedFile& f, const Sink& sink,
                      Error* err) {
  auto zip = ZipArchive::open(f, err);
  if (!zip) return false;
  const ZipEntry* e = zip->find(t.zip_entry);
  if (!e) return fail(err, art.files[t.file].path, std::nullopt, "zip member '" + t.zip_entry + "' is missing");
  return zip->stream(*e, t.entry_offset, t.length, [&](const uint8_t* p, uint64_t n) { sink(p, n); }, err);
}

}  // namespace

bool stream_canonical_bytes(const ModelArtifact& art, const TensorInfo& t, const Sink& sink, Error* err) {
  if (t.layout == TensorLayout::kInline) {
    if (!t.inline_data || t.inline_data->size() != t.length)
      return fail(err, art.root, std::nullopt, "tensor '" + t.name + "' inline data has the wrong size");
    sink(reinterpret_cast<const uint8_t*>(t.inline_data->data()), t.inline_data->size());
    return true;
  }
  if (t.file >= art.files.size())
    return fail(err, art.root, std::nullopt, "tensor '" + t.name + "' refers to an unknown file");
  auto f = MappedFile::open(art.files[t.file].path, err);
  if (!f) return false;
  switch (t.layout) {
    case TensorLayout::kRaw:
      if (!check_range(art, t, *f, t.offset, t.length, err)) return false;
      stream_raw(*f, t.offset, t.length, sink);
      return true;
    case TensorLayout::kByteSwap:
      if (!check_range(art, t, *f, t.offset, t.length, err)) return false;
      stream_swapped(f->data() + t.offset, t.length, swap_unit(t.dtype), sink);
      return true;
    case TensorLayout::kStrided:
      return stream_strided(art, t, *f, sink, err);
    case TensorLayout::kZipEntry:
      return stream_zip_entry(art, t, *f, sink, err);
    case TensorLayout::kInline:
      break;
  }
  return fail(err, art.root, std::nullopt, "tensor '" + t.name + "' has an unknown layout");
}

std::string tensor_record(const TensorDigest& d, bool with_name) {
  std::string r;
  auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) r.push_back(static_cast<char>(v >> (8 * i))); };
  auto u64 = [&](uint64_t v) { for (int i = 0; i < 8; ++i) r.push_back(static_cast<char>(v >> (8 * i))); };
  if (with_name) {
    u32(static_cast<uint32_t>(d.name.size()));
    r += d.name;
  }
  std::string_view dn = dtype_name(d.dtype);
  u32(static_cast<uint32_t>(dn.size()));
  r += dn;
  u32(static_cast<uint32_t>(d.shape.size()));
  for (uint64_t x : d.shape) u64(x);
  r.append(reinterpret_cast<const char*>(d.sha256.data()), d.sha256.size());
  return r;
}

void compute_roots(TensorFingerprint* fp) {
  std::vector<std::pair<std::string, std::string>> named;
  std::vector<std::string> content;
  for (const TensorDigest& d : fp->tensors) {
    named.emplace_back(d.name, tensor_record(d, true));
    content.push_back(tensor_record(d, false));
  }
  std::sort(named.begin(), named.end());
  std::sort(content.begin(), content.end());
  Hasher hn(HashAlgorithm::kSha256), hc(HashAlgorithm::kSha256);
  hn.update(kNamedDomain.data(), kNamedDomain.size());
  hc.update(kContentDomain.data(), kContentDomain.size());
  for (const auto& [name, rec] : named) hn.update(rec.data(), rec.size());
  for (const auto& rec : content) hc.update(rec.data(), rec.size());
  auto a = hn.finish(), b = hc.finish();
  std::copy(a.begin(), a.end(), fp->named_root.begin());
  std::copy(b.begin(), b.end(), fp->content_root.begin());
}

bool compute_tensor_fingerprint(const ModelArtifact& art, const TensorIndex& idx, TensorFingerprint* out,
                                Error* err, unsigned jobs, ProgressCounter* progress) {
  out->tensors.assign(idx.tensors.size(), {});
  std::vector<Error> errors(idx.tensors.size());
  std::vector<char> failed(idx.tensors.size(), 0);
  std::vector<size_t> order(idx.tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return idx.tensors[a].length > idx.tensors[b].length; });
  tbb::task_arena arena(jobs ? static_cast<int>(jobs) : tbb::task_arena::automatic);
  arena.execute([&] {
    tbb::parallel_for_each(order.begin(), order.end(), [&](size_t i) {
      const TensorInfo& t = idx.tensors[i];
      Hasher h(HashAlgorithm::kSha256);
      uint64_t seen = 0;
      bool ok = stream_canonical_bytes(art, t, [&](const uint8_t* p, size_t n) {
        h.update(p, n);
        seen += n;
        if (progress) progress->fetch_add(n, std::memory_order_relaxed);
      }, &errors[i]);
      if (ok && seen != t.length) {
        ok = fail(&errors[i], art.files.empty() ? art.root : art.files[t.file].path, t.offset,
                  "tensor '" + t.name + "' yielded " + std::to_string(seen) + " bytes, expected " +
                      std::to_string(t.length));
      }
      failed[i] = !ok;
      TensorDigest& d = out->tensors[i];
      d.name = t.name;
      d.dtype = t.dtype;
      d.shape = t.shape;
      d.bytes = t.length;
      auto dg = h.finish();
      std::copy(dg.begin(), dg.end(), d.sha256.begin());
    });
  });
  for (size_t i = 0; i < failed.size(); ++i)
    if (failed[i]) {
      if (err) *err = errors[i];
      return false;
    }
  compute_roots(out);
  return true;
}

}  // namespace pedigree
