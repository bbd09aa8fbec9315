// This file implements the transparency-log (Rekor v1) pieces of a Sigstore
// bundle that can be checked offline: the tlog entry as read from the bundle,
// the RFC 6962/9162 Merkle inclusion proof, the signed-note checkpoint and the
// canonical JSON that a signed entry timestamp (inclusion promise) signs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pedigree {

/// Most tlog entries, proof hashes and checkpoint signatures read.
inline constexpr size_t kMaxTlogEntries = 16;
inline constexpr size_t kMaxProofHashes = 64;
inline constexpr size_t kMaxCheckpointSignatures = 16;

/// An inclusion proof as the bundle records it (hashes are raw 32-byte values).
struct InclusionProof {
  uint64_t log_index = 0;  ///< index of the leaf in the tree the proof is for
  uint64_t tree_size = 0;
  std::string root_hash;
  std::vector<std::string> hashes;
  std::string checkpoint;  ///< signed note text; empty when absent
};

/// One transparency-log entry of a bundle's verificationMaterial.tlogEntries.
struct TlogEntry {
  uint64_t log_index = 0;
  std::string log_id;  ///< raw key id bytes (logId.keyId)
  std::string kind, version;
  int64_t integrated_time = 0;
  bool has_set = false;
  std::string set;  ///< raw inclusionPromise.signedEntryTimestamp
  bool has_proof = false;
  InclusionProof proof;
  std::string body;  ///< decoded canonicalizedBody
};

/// SHA-256 of `bytes` as 32 raw bytes.
std::string sha256_raw(std::string_view bytes);

/// RFC 6962 leaf hash: SHA-256(0x00 || leaf).
std::string merkle_leaf_hash(std::string_view leaf);

/// Recomputes the root from an inclusion proof (RFC 9162 section 2.1.3.2);
/// false with `why` when the proof has the wrong shape for index and size.
bool merkle_root_from_proof(uint64_t index, uint64_t size, const std::string& leaf_hash,
                            const std::vector<std::string>& proof, std::string* root, std::string* why);

/// One signature line of a signed note: "— name base64(keyhint4 || sig)".
struct NoteSignature {
  std::string name;
  std::string key_hint;  ///< 4 bytes
  std::string signature;
};

/// A checkpoint: the signed text (origin, size, root hash, other lines) and its signatures.
struct Checkpoint {
  std::string origin;
  uint64_t tree_size = 0;
  std::string root_hash;  ///< raw bytes
  std::string signed_text;  ///< everything up to and including the newline before the blank line
  std::vector<NoteSignature> signatures;
};

/// Parses a signed-note checkpoint; false with `why` on any malformed part.
bool parse_checkpoint(std::string_view note, Checkpoint* out, std::string* why);

/// The canonical JSON a signed entry timestamp signs:
/// {"body":B64,"integratedTime":N,"logID":HEX,"logIndex":N}.
std::string set_payload(const TlogEntry& e);

}  // namespace pedigree
