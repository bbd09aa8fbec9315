// Tests of signing/keys.cpp: every supported key type signs and verifies,
// the hash follows the curve, the OMS key hint of the reference fixture key,
// encrypted keys, and the exact errors for unusable key files.
#include "signing/keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "tests/support/pki_util.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using test::TempDir;

constexpr KeyType kAll[] = {KeyType::kP256, KeyType::kP384, KeyType::kP521, KeyType::kEd25519};

TEST(SigningKeys, EveryTypeSignsAndVerifies) {
  TempDir t;
  for (KeyType type : kAll) {
    test::TestKey k = test::make_key(type);
    Key priv, pub;
    Error err;
    ASSERT_TRUE(load_private_key(t.write("k.pem", k.private_pem), std::nullopt, &priv, &err)) << err.str();
    ASSERT_TRUE(load_public_key(t.write("p.pem", k.public_pem), &pub, &err)) << err.str();
    EXPECT_EQ(priv.type, type);
    EXPECT_EQ(pub.type, type);
    std::string sig;
    ASSERT_TRUE(sign_message(priv, "message", &sig, &err));
    EXPECT_TRUE(verify_message(pub, "message", sig));
    EXPECT_FALSE(verify_message(pub, "messagf", sig));
    EXPECT_TRUE(same_public_key(priv, pub));
    EXPECT_EQ(public_key_hint(priv), public_key_hint(pub));
    EXPECT_EQ(public_key_hint(pub), test::sha256_hex(k.public_pem));
  }
}

TEST(SigningKeys, EcdsaHashFollowsTheCurve) {
  // A P-384 signature made with SHA-384 must not verify as the legacy SHA-256 form.
  TempDir t;
  Key priv;
  Error err;
  ASSERT_TRUE(load_private_key(t.write("k.pem", test::make_key(KeyType::kP384).private_pem), std::nullopt, &priv, &err));
  std::string sig;
  ASSERT_TRUE(sign_message(priv, "m", &sig, &err));
  EXPECT_TRUE(verify_message(priv, "m", sig));
  EXPECT_FALSE(verify_message(priv, "m", sig, /*legacy_sha256=*/true));
}

TEST(SigningKeys, NamesAndReferenceSupport) {
  EXPECT_EQ(key_type_name(KeyType::kP521), "ECDSA P-521");
  EXPECT_TRUE(reference_accepts(KeyType::kP256));
  EXPECT_FALSE(reference_accepts(KeyType::kEd25519));
}

TEST(SigningKeys, HintOfTheReferenceFixtureKey) {
  std::string shared = test::shared_dir();
  if (shared.empty()) GTEST_SKIP() << "../shared is absent";
  Key pub;
  Error err;
  std::string dir = shared + "/fixtures/oms-model-transparency/keys/certificate/";
  ASSERT_TRUE(load_public_key(dir + "signing-key-pub.pem", &pub, &err)) << err.str();
  EXPECT_EQ(pub.type, KeyType::kP384);
  // The hint the v1.1.0-elliptic-key bundle records.
  EXPECT_EQ(public_key_hint(pub), "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e");
}

TEST(SigningKeys, EncryptedKeyNeedsTheRightPassword) {
  TempDir t;
  std::string path = t.write("k.pem", test::make_key(KeyType::kP256, "s3cret").private_pem);
  Key k;
  Error err;
  EXPECT_FALSE(load_private_key(path, std::nullopt, &k, &err));
  EXPECT_EQ(err.str(), path + ": private key is encrypted; give --password-file or set PEDIGREE_KEY_PASSWORD");
  EXPECT_FALSE(load_private_key(path, std::string("wrong"), &k, &err));
  EXPECT_EQ(err.str(), path + ": cannot decrypt private key (wrong password?)");
  EXPECT_TRUE(load_private_key(path, std::string("s3cret"), &k, &err)) << err.str();
}

TEST(SigningKeys, UnusableKeyFiles) {
  TempDir t;
  Key k;
  Error err;
  std::string rsa = t.write("rsa.pem", test::make_rsa_key_pem());
  EXPECT_FALSE(load_private_key(rsa, std::nullopt, &k, &err));
  EXPECT_EQ(err.str(), rsa + ": unsupported key type rsaEncryption (ECDSA P-256, P-384, P-521 or Ed25519)");
  std::string junk = t.write("junk.pem", "not a key");
  EXPECT_FALSE(load_private_key(junk, std::nullopt, &k, &err));
  EXPECT_EQ(err.str(), junk + ": not a PEM private key");
  EXPECT_FALSE(load_public_key(junk, &k, &err));
  EXPECT_EQ(err.str(), junk + ": not a PEM or DER public key");
  EXPECT_FALSE(load_public_key(t.path().string() + "/absent.pem", &k, &err));
  EXPECT_EQ(err.str(), t.path().string() + "/absent.pem: cannot read public key file");
  std::string big = t.write("big.pem", std::string(kMaxKeyFileBytes + 1, 'A'));
  EXPECT_FALSE(load_private_key(big, std::nullopt, &k, &err));
  EXPECT_EQ(err.str(), big + ": private key file is 1.0 MiB, larger than the 1.0 MiB cap");
}

TEST(SigningKeys, AnyTypeLoaderTakesRsaWithTheSameMessages) {
  TempDir t;
  PkeyPtr k;
  Error err;
  std::string rsa = t.write("rsa.pem", test::make_rsa_key_pem());
  EXPECT_TRUE(load_any_private_key(rsa, std::nullopt, &k, &err)) << err.str();
  test::TestKey enc = test::make_key(KeyType::kP256, "pw");
  std::string path = t.write("enc.pem", enc.private_pem);
  EXPECT_FALSE(load_any_private_key(path, std::nullopt, &k, &err));
  EXPECT_EQ(err.str(), path + ": private key is encrypted; give --password-file or set PEDIGREE_KEY_PASSWORD");
  EXPECT_FALSE(load_any_private_key(path, std::string("nope"), &k, &err));
  EXPECT_EQ(err.str(), path + ": cannot decrypt private key (wrong password?)");
  EXPECT_TRUE(load_any_private_key(path, std::string("pw"), &k, &err)) << err.str();
  std::string pub = t.write("pub.pem", enc.public_pem);
  PkeyPtr pk;
  EXPECT_TRUE(load_any_public_key(pub, &pk, &err)) << err.str();
  EXPECT_EQ(EVP_PKEY_eq(pk.get(), k.get()), 1);
}

TEST(SigningKeys, OtherCurveIsRejected) {
  TempDir t;
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1");
  Key key;
  Error err;
  EXPECT_FALSE(key_from_pkey(k, "k1.pem", &key, &err));
  EXPECT_EQ(err.str(), "k1.pem: unsupported curve secp256k1 (P-256, P-384 or P-521)");
}

}  // namespace
}  // namespace pedigree
