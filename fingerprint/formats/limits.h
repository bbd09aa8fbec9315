// This file implements the named caps that every reader checks counts and
// lengths against before it allocates: a hostile file can claim anything, so
// nothing it says is believed beyond these bounds or the bytes remaining.
#pragma once

#include <cstdint>

namespace pedigree::limits {

inline constexpr uint64_t kMaxTensors = uint64_t{1} << 22;        ///< tensors in one model
inline constexpr uint64_t kMaxDims = 16;                          ///< rank of one tensor
inline constexpr uint64_t kMaxNameBytes = uint64_t{1} << 16;      ///< one tensor or key name
inline constexpr uint64_t kMaxMetadataEntries = uint64_t{1} << 20;///< key/value pairs in a header
inline constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;  ///< a JSON header (safetensors: 100 MB, as upstream)
inline constexpr uint64_t kMaxArrayElems = uint64_t{1} << 26;     ///< one metadata array
inline constexpr uint64_t kMaxNesting = 64;                       ///< nested arrays / pickle containers
inline constexpr uint64_t kMaxShards = 65536;                     ///< files named by a shard index
inline constexpr uint64_t kMaxZipEntries = 1 << 20;               ///< members of one zip archive
inline constexpr uint64_t kMaxInflatedBytes = uint64_t{16} << 30; ///< a compressed member's claimed size
inline constexpr uint64_t kMaxInflateRatio = 1024;                ///< uncompressed/compressed for deflated members
inline constexpr uint64_t kMaxPickleBytes = uint64_t{256} << 20;  ///< a pickle program (data.pkl)
inline constexpr uint64_t kMaxPickleOps = uint64_t{50} << 20;     ///< opcodes executed by the pickle reader
inline constexpr uint64_t kMaxInlineBytes = uint64_t{1} << 30;    ///< tensor bytes materialized in memory

}  // namespace pedigree::limits
