// This file implements the offline transparency-log checks (see rekor.h):
// Merkle hashing with the RFC 6962 domain-separation prefixes, root
// recomputation from an audit path, the transparency-dev signed-note
// checkpoint format and the signed-entry-timestamp payload.
#include "signing/rekor.h"

#include <openssl/evp.h>

#include <charconv>

#include "fingerprint/digest.h"
#include "signing/encoding.h"

namespace pedigree {
namespace {

constexpr std::string_view kNoteDash = "\xe2\x80\x94 ";  // U+2014 EM DASH, then a space

std::string node_hash(const std::string& left, const std::string& right) {
  return sha256_raw(std::string(1, '\x01') + left + right);
}

int bit_length(uint64_t v) {
  int n = 0;
  for (; v; v >>= 1) ++n;
  return n;
}

int popcount(uint64_t v) {
  int n = 0;
  for (; v; v &= v - 1) ++n;
  return n;
}

bool parse_u64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits off the next line (without its newline); false when no newline is left.
bool next_line(std::string_view* rest, std::string_view* line) {
  size_t nl = rest->find('\n');
  if (nl == std::string_view::npos) return false;
  *line = rest->substr(0, nl);
  rest->remove_prefix(nl + 1);
  return true;
}

bool parse_signature_line(std::string_view line, NoteSignature* out, std::string* why) {
  if (line.substr(0, kNoteDash.size()) != kNoteDash) return *why = "signature line does not start with an em dash", false;
  line.remove_prefix(kNoteDash.size());
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos || sp == 0) return *why = "signature line has no key name", false;
  out->name = std::string(line.substr(0, sp));
  std::string raw;
  if (!base64_decode(line.substr(sp + 1), &raw)) return *why = "signature of " + out->name + " is not base64", false;
  if (raw.size() < 5) return *why = "signature of " + out->name + " is shorter than 5 bytes", false;
  out->key_hint = raw.substr(0, 4);
  out->signature = raw.substr(4);
  return true;
}

bool parse_header(std::string_view* rest, Checkpoint* out, std::string* why) {
  std::string_view origin, size, root;
  if (!next_line(rest, &origin) || !next_line(rest, &size) || !next_line(rest, &root))
    return *why = "checkpoint has fewer than 3 lines", false;
  if (origin.empty()) return *why = "checkpoint origin line is empty", false;
  out->origin = std::string(origin);
  if (!parse_u64(size, &out->tree_size)) return *why = "checkpoint tree size '" + std::string(size) + "' is not a number", false;
  if (!base64_decode(root, &out->root_hash) || out->root_hash.size() != 32)
    return *why = "checkpoint root hash is not 32 bytes of base64", false;
  return true;
}

}  // namespace

std::string sha256_raw(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), n);
}

std::string merkle_leaf_hash(std::string_view leaf) { return sha256_raw(std::string(1, '\0') + std::string(leaf)); }

bool merkle_root_from_proof(uint64_t index, uint64_t size, const std::string& leaf_hash,
                            const std::vector<std::string>& proof, std::string* root, std::string* why) {
  if (size == 0 || index >= size)
    return *why = "leaf index " + std::to_string(index) + " is outside a tree of size " + std::to_string(size), false;
  // Split the path into the part below the point where index and size-1 diverge and the right border.
  int inner = bit_length(index ^ (size - 1));
  int border = popcount(index >> inner);
  if (proof.size() != size_t(inner + border))
    return *why = "proof has " + std::to_string(proof.size()) + " hashes, a leaf at index " + std::to_string(index) +
                  " of a tree of size " + std::to_string(size) + " needs " + std::to_string(inner + border),
           false;
  std::string h = leaf_hash;
  for (size_t i = 0; i < proof.size(); ++i) {
    if (proof[i].size() != 32) return *why = "proof hash " + std::to_string(i) + " is not 32 bytes", false;
    bool right_sibling = int(i) < inner && ((index >> i) & 1) == 0;
    h = right_sibling ? node_hash(h, proof[i]) : node_hash(proof[i], h);
  }
  *root = h;
  return true;
}

bool parse_checkpoint(std::string_view note, Checkpoint* out, std::string* why) {
  *out = Checkpoint();
  size_t split = note.find("\n\n");
  if (split == std::string_view::npos) return *why = "checkpoint has no blank line before its signatures", false;
  out->signed_text = std::string(note.substr(0, split + 1));
  std::string_view head = out->signed_text;
  if (!parse_header(&head, out, why)) return false;
  std::string_view rest = note.substr(split + 2), line;
  while (!rest.empty()) {
    if (!next_line(&rest, &line)) line = rest, rest = {};
    if (line.empty()) continue;
    if (out->signatures.size() == kMaxCheckpointSignatures)
      return *why = "checkpoint has more than " + std::to_string(kMaxCheckpointSignatures) + " signatures", false;
    NoteSignature s;
    if (!parse_signature_line(line, &s, why)) return false;
    out->signatures.push_back(std::move(s));
  }
  if (out->signatures.empty()) return *why = "checkpoint has no signature lines", false;
  return true;
}

std::string set_payload(const TlogEntry& e) {
  std::string hex = to_hex(reinterpret_cast<const uint8_t*>(e.log_id.data()), e.log_id.size());
  return "{\"body\":\"" + base64_encode(e.body) + "\",\"integratedTime\":" + std::to_string(e.integrated_time) +
         ",\"logID\":\"" + hex + "\",\"logIndex\":" + std::to_string(e.log_index) + "}";
}

}  // namespace pedigree
