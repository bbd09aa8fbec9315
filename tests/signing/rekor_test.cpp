// Tests of signing/rekor.cpp: inclusion proofs for every leaf of trees of
// size 1..17 built with the recursive RFC 6962 definitions verify, altered or
// misshapen proofs do not; checkpoint notes parse or fail with their message;
// the signed-entry-timestamp payload has the canonical form.
#include "signing/rekor.h"

#include <gtest/gtest.h>

#include "signing/encoding.h"

namespace pedigree {
namespace {

std::string node(const std::string& l, const std::string& r) { return sha256_raw("\x01" + l + r); }

// RFC 6962 section 2.1: MTH over leaves [lo, hi).
std::string mth(const std::vector<std::string>& leaves, size_t lo, size_t hi) {
  if (hi - lo == 1) return merkle_leaf_hash(leaves[lo]);
  size_t k = 1;
  while (k * 2 < hi - lo) k *= 2;
  return node(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
}

// RFC 6962 section 2.1.1: PATH(m, D[lo:hi]).
void path(const std::vector<std::string>& leaves, size_t m, size_t lo, size_t hi, std::vector<std::string>* out) {
  if (hi - lo == 1) return;
  size_t k = 1;
  while (k * 2 < hi - lo) k *= 2;
  if (m < k) {
    path(leaves, m, lo, lo + k, out);
    out->push_back(mth(leaves, lo + k, hi));
  } else {
    path(leaves, m - k, lo + k, hi, out);
    out->push_back(mth(leaves, lo, lo + k));
  }
}

TEST(SigningRekor, InclusionProofsOfSmallTrees) {
  for (size_t n = 1; n <= 17; ++n) {
    std::vector<std::string> leaves;
    for (size_t i = 0; i < n; ++i) leaves.push_back("leaf " + std::to_string(i));
    std::string want = mth(leaves, 0, n);
    for (size_t i = 0; i < n; ++i) {
      std::vector<std::string> proof;
      path(leaves, i, 0, n, &proof);
      std::string root, why;
      ASSERT_TRUE(merkle_root_from_proof(i, n, merkle_leaf_hash(leaves[i]), proof, &root, &why)) << why;
      EXPECT_EQ(root, want) << i << " of " << n;
      if (proof.empty()) continue;
      proof[0][5] ^= 1;
      ASSERT_TRUE(merkle_root_from_proof(i, n, merkle_leaf_hash(leaves[i]), proof, &root, &why));
      EXPECT_NE(root, want);
    }
  }
}

TEST(SigningRekor, MisshapenProofs) {
  std::string root, why, leaf = merkle_leaf_hash("x");
  EXPECT_FALSE(merkle_root_from_proof(4, 4, leaf, {}, &root, &why));
  EXPECT_EQ(why, "leaf index 4 is outside a tree of size 4");
  EXPECT_FALSE(merkle_root_from_proof(0, 0, leaf, {}, &root, &why));
  EXPECT_FALSE(merkle_root_from_proof(1, 4, leaf, {std::string(32, 'a')}, &root, &why));
  EXPECT_EQ(why, "proof has 1 hashes, a leaf at index 1 of a tree of size 4 needs 2");
  EXPECT_FALSE(merkle_root_from_proof(1, 2, leaf, {"short"}, &root, &why));
  EXPECT_EQ(why, "proof hash 0 is not 32 bytes");
}

TEST(SigningRekor, LeafHashHasTheDomainPrefix) {
  EXPECT_EQ(merkle_leaf_hash(""), sha256_raw(std::string(1, '\0')));
  EXPECT_EQ(sha256_raw("").size(), 32u);
}

const std::string kRoot = base64_encode(std::string(32, '\x11'));

TEST(SigningRekor, CheckpointParses) {
  std::string sig = base64_encode("ABCD" + std::string("signature"));
  std::string note = "log.example - 42\n7\n" + kRoot + "\nextra\n\n\xe2\x80\x94 log.example " + sig + "\n";
  Checkpoint cp;
  std::string why;
  ASSERT_TRUE(parse_checkpoint(note, &cp, &why)) << why;
  EXPECT_EQ(cp.origin, "log.example - 42");
  EXPECT_EQ(cp.tree_size, 7u);
  EXPECT_EQ(cp.root_hash, std::string(32, '\x11'));
  EXPECT_EQ(cp.signed_text, "log.example - 42\n7\n" + kRoot + "\nextra\n");
  ASSERT_EQ(cp.signatures.size(), 1u);
  EXPECT_EQ(cp.signatures[0].name, "log.example");
  EXPECT_EQ(cp.signatures[0].key_hint, "ABCD");
  EXPECT_EQ(cp.signatures[0].signature, "signature");
}

TEST(SigningRekor, MalformedCheckpoints) {
  std::string sig = "\xe2\x80\x94 log " + base64_encode("ABCDsig") + "\n";
  auto why_of = [](const std::string& note) {
    Checkpoint cp;
    std::string why;
    EXPECT_FALSE(parse_checkpoint(note, &cp, &why));
    return why;
  };
  EXPECT_EQ(why_of("origin\n7\n" + kRoot + "\n"), "checkpoint has no blank line before its signatures");
  EXPECT_EQ(why_of("origin\n7\n\n" + sig), "checkpoint has fewer than 3 lines");
  EXPECT_EQ(why_of("origin\n07\n" + kRoot + "\n\n" + sig), "checkpoint tree size '07' is not a number");
  EXPECT_EQ(why_of("origin\n7\nAAAA\n\n" + sig), "checkpoint root hash is not 32 bytes of base64");
  EXPECT_EQ(why_of("origin\n7\n" + kRoot + "\n\n"), "checkpoint has no signature lines");
  EXPECT_EQ(why_of("origin\n7\n" + kRoot + "\n\n- log AAAA\n"), "signature line does not start with an em dash");
  EXPECT_EQ(why_of("origin\n7\n" + kRoot + "\n\n\xe2\x80\x94 log QUJD\n"), "signature of log is shorter than 5 bytes");
  EXPECT_EQ(why_of("origin\n7\n" + kRoot + "\n\n\xe2\x80\x94 log !!\n"), "signature of log is not base64");
  std::string many;
  for (int i = 0; i < 17; ++i) many += sig;
  EXPECT_EQ(why_of("origin\n7\n" + kRoot + "\n\n" + many), "checkpoint has more than 16 signatures");
}

TEST(SigningRekor, SetPayloadIsCanonical) {
  TlogEntry e;
  e.body = "{}";
  e.integrated_time = 1700000000;
  e.log_id = std::string("\x01\xab", 2);
  e.log_index = 12;
  EXPECT_EQ(set_payload(e), "{\"body\":\"e30=\",\"integratedTime\":1700000000,\"logID\":\"01ab\",\"logIndex\":12}");
}

}  // namespace
}  // namespace pedigree
