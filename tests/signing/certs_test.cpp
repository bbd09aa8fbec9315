// Tests of signing/certs.cpp: chains built in code (root, intermediate,
// leaf) verify; a chain that does not reach the root, an expired leaf, a CA
// that is not a CA and a leaf without a signing usage are each rejected.
#include "signing/certs.h"

#include <gtest/gtest.h>

#include "tests/support/pki_util.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using test::CertSpec;
using test::TempDir;

CertPtr load(const TempDir& t, const std::string& pem) {
  std::vector<CertPtr> v;
  Error err;
  EXPECT_TRUE(load_pem_certificates(t.write("c.pem", pem), &v, &err)) << err.str();
  return std::move(v.at(0));
}

bool chain_ok(const TempDir& t, const test::TestCert& leaf, const test::TestCert& inter, const test::TestCert& root,
              std::string* why, time_t at = time(nullptr)) {
  CertPtr l = load(t, leaf.cert_pem), i = load(t, inter.cert_pem), r = load(t, root.cert_pem);
  return verify_certificate_chain(l.get(), {i.get()}, {r.get()}, at, why);
}

TEST(SigningCerts, GoodChainVerifiesAndLeafCanSign) {
  TempDir t;
  test::TestPki p = test::make_pki();
  std::string why;
  EXPECT_TRUE(chain_ok(t, p.leaf, p.intermediate, p.root, &why)) << why;
  CertPtr leaf = load(t, p.leaf.cert_pem);
  EXPECT_TRUE(certificate_can_sign(leaf.get(), &why));
  EXPECT_EQ(certificate_subject(leaf.get()), "CN=test-leaf");
  CertPtr back;
  EXPECT_TRUE(certificate_from_der(certificate_der(leaf.get()), &back));
  EXPECT_FALSE(certificate_from_der(certificate_der(leaf.get()) + "x", &back));
  EXPECT_FALSE(certificate_from_der("junk", &back));
}

TEST(SigningCerts, ChainThatDoesNotReachTheRoot) {
  TempDir t;
  test::TestPki p = test::make_pki(), other = test::make_pki();
  std::string why;
  EXPECT_FALSE(chain_ok(t, p.leaf, p.intermediate, other.root, &why));
  EXPECT_EQ(why, "unable to get local issuer certificate (certificate CN=test-intermediate)");
}

TEST(SigningCerts, ExpiredLeafFailsNowButPassesAtSigningTime) {
  TempDir t;
  test::TestPki p = test::make_pki();
  test::TestCert old = test::make_cert({"old-leaf", false, "critical,digitalSignature", "", -5, -1}, &p.intermediate);
  std::string why;
  EXPECT_FALSE(chain_ok(t, old, p.intermediate, p.root, &why));
  EXPECT_EQ(why, "certificate has expired (certificate CN=old-leaf)");
  CertPtr leaf = load(t, old.cert_pem);
  time_t nb = certificate_not_before(leaf.get()).value();
  EXPECT_TRUE(chain_ok(t, old, p.intermediate, p.root, &why, nb)) << why;
}

TEST(SigningCerts, IntermediateThatIsNotACa) {
  TempDir t;
  test::TestPki p = test::make_pki();
  test::TestCert fake = test::make_cert({"not-a-ca", false, "critical,keyCertSign", "", -10, 3650}, &p.root);
  test::TestCert leaf = test::make_cert({"leaf", false}, &fake);
  std::string why;
  EXPECT_FALSE(chain_ok(t, leaf, fake, p.root, &why));
  EXPECT_EQ(why, "invalid CA certificate (certificate CN=not-a-ca)");
}

TEST(SigningCerts, SigningUsageRule) {
  TempDir t;
  test::TestPki p = test::make_pki();
  std::string why;
  test::TestCert enc = test::make_cert({"enc-only", false, "critical,keyEncipherment", ""}, &p.intermediate);
  EXPECT_FALSE(certificate_can_sign(load(t, enc.cert_pem).get(), &why));
  EXPECT_EQ(why, "signing certificate CN=enc-only cannot be used for signing: key usage lacks digitalSignature and "
                 "extended key usage lacks codeSigning");
  // The reference accepts codeSigning EKU when digitalSignature is absent.
  test::TestCert code = test::make_cert({"code", false, "critical,keyEncipherment", "codeSigning"}, &p.intermediate);
  EXPECT_TRUE(certificate_can_sign(load(t, code.cert_pem).get(), &why));
  test::TestCert none = test::make_cert({"none", false, "", ""}, &p.intermediate);
  EXPECT_FALSE(certificate_can_sign(load(t, none.cert_pem).get(), &why));
}

TEST(SigningCerts, PemFileErrors) {
  TempDir t;
  std::vector<CertPtr> v;
  Error err;
  std::string junk = t.write("junk.pem", "nothing here");
  EXPECT_FALSE(load_pem_certificates(junk, &v, &err));
  EXPECT_EQ(err.str(), junk + ": no PEM certificate found");
  test::TestPki p = test::make_pki();
  std::string many;
  for (size_t i = 0; i <= kMaxCertificates; ++i) many += p.root.cert_pem;
  std::string path = t.write("many.pem", many);
  EXPECT_FALSE(load_pem_certificates(path, &v, &err));
  EXPECT_EQ(err.str(), path + ": more than 16 certificates");
}

TEST(SigningCerts, ReferenceFixtureChain) {
  std::string shared = test::shared_dir();
  if (shared.empty()) GTEST_SKIP() << "../shared is absent";
  std::string dir = shared + "/fixtures/oms-model-transparency/keys/certificate/";
  std::vector<CertPtr> leaf, inter, root;
  Error err;
  ASSERT_TRUE(load_pem_certificates(dir + "signing-key-cert.pem", &leaf, &err));
  ASSERT_TRUE(load_pem_certificates(dir + "int-ca-cert.pem", &inter, &err));
  ASSERT_TRUE(load_pem_certificates(dir + "ca-cert.pem", &root, &err));
  std::string why;
  time_t at = certificate_not_before(leaf[0].get()).value();
  EXPECT_TRUE(verify_certificate_chain(leaf[0].get(), {inter[0].get()}, {root[0].get()}, at, &why)) << why;
  EXPECT_FALSE(verify_certificate_chain(leaf[0].get(), {}, {root[0].get()}, at, &why));
  EXPECT_TRUE(certificate_can_sign(leaf[0].get(), &why));
}

TEST(SigningCerts, DigitalSignatureUsageForJsf) {
  TempDir t;
  test::TestPki p = test::make_pki();
  std::string why;
  CertPtr leaf = load(t, p.leaf.cert_pem);
  EXPECT_TRUE(certificate_has_digital_signature(leaf.get(), &why));
  test::TestCert enc = test::make_cert(CertSpec("enc", false, "critical,keyEncipherment"), &p.intermediate);
  CertPtr e = load(t, enc.cert_pem);
  EXPECT_FALSE(certificate_has_digital_signature(e.get(), &why));
  EXPECT_EQ(why, "certificate CN=enc key usage lacks digitalSignature");
  test::TestCert none = test::make_cert(CertSpec("none", false, ""), &p.intermediate);
  CertPtr n = load(t, none.cert_pem);
  EXPECT_TRUE(certificate_has_digital_signature(n.get(), &why));  // RFC 5280: no extension, no restriction
}

TEST(SigningCerts, IssuersFromPoolStopBeforeTheRoot) {
  TempDir t;
  test::TestPki p = test::make_pki(), other = test::make_pki();
  CertPtr leaf = load(t, p.leaf.cert_pem), inter = load(t, p.intermediate.cert_pem), root = load(t, p.root.cert_pem);
  CertPtr other_inter = load(t, other.intermediate.cert_pem);
  std::vector<X509*> path = issuers_from_pool(leaf.get(), {root.get(), inter.get()});
  EXPECT_EQ(path, std::vector<X509*>{inter.get()});
  // Same issuer name, other key: not the issuer.
  EXPECT_TRUE(issuers_from_pool(leaf.get(), {other_inter.get(), root.get()}).empty());
  EXPECT_TRUE(issuers_from_pool(root.get(), {inter.get()}).empty());
}

}  // namespace
}  // namespace pedigree
