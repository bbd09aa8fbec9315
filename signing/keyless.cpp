// This file implements the keyless checks (see keyless.h). Each check fills a
// CheckResult; the transparency-log and timestamp checks run first because
// they yield the verified signing times at which the Fulcio chain is judged.
// Everything is offline: OpenSSL 3 for X.509, ECDSA, RFC 3161 and SCT parsing.
#include "signing/keyless.h"

#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <nlohmann/json.hpp>

#include "fingerprint/digest.h"
#include "signing/certs.h"
#include "signing/encoding.h"
#include "signing/keys.h"
#include "signing/rekor.h"

namespace pedigree {
namespace {

using nlohmann::json;

constexpr char kIssuerOid[] = "1.3.6.1.4.1.57264.1.8";
constexpr char kLegacyIssuerOid[] = "1.3.6.1.4.1.57264.1.1";

struct SctListFree {
  void operator()(STACK_OF(SCT) * s) const { SCT_LIST_free(s); }
};
struct TsRespFree {
  void operator()(TS_RESP* r) const { TS_RESP_free(r); }
};
struct TsCtxFree {
  void operator()(TS_VERIFY_CTX* c) const { TS_VERIFY_CTX_free(c); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};
struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};

CheckResult passed(std::string name, std::string detail) { return {std::move(name), CheckState::kPassed, std::move(detail)}; }
CheckResult failed(std::string name, std::string detail) { return {std::move(name), CheckState::kFailed, std::move(detail)}; }
CheckResult absent(std::string name, std::string detail) { return {std::move(name), CheckState::kAbsent, std::move(detail)}; }

std::string b64(std::string_view raw) { return base64_encode(raw); }
std::string hex(std::string_view raw) { return to_hex(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()); }

std::string window_text(const ValidityWindow& w) {
  return (w.start ? format_rfc3339(*w.start) : std::string("-")) + " to " +
         (w.end ? format_rfc3339(*w.end) : std::string("-"));
}

std::vector<CertPtr> decode_chain(const std::vector<std::string>& ders) {
  std::vector<CertPtr> out;
  for (const std::string& d : ders) {
    CertPtr c;
    if (certificate_from_der(d, &c)) out.push_back(std::move(c));
  }
  return out;
}

// ---- transparency log -------------------------------------------------------

const TrustedLog* find_log(const std::vector<TrustedLog>& logs, std::string_view id) {
  for (const TrustedLog& l : logs)
    if (l.key_id == id) return &l;
  return nullptr;
}

bool log_key(const TrustedLog& log, Key* key) {
  Error ignored;
  return public_key_from_der(log.key_der, "", key, &ignored);
}

bool hash_matches(const json& spec, const char* key, std::string_view data, std::string* why) {
  auto it = spec.find(key);
  bool ok = it != spec.end() && it->is_object() && it->value("algorithm", "") == "sha256" &&
            it->contains("value") && it->at("value").is_string();
  if (!ok) return *why = std::string("body has no sha256 ") + key, false;
  std::string want = hex(sha256_raw(data)), got = it->at("value").get<std::string>();
  if (got != want) return *why = std::string(key) + " " + got + " is not the bundle's (" + want + ")", false;
  return true;
}

bool verifier_matches(const std::string& pem_b64, const std::string& leaf_der) {
  std::string pem;
  if (!base64_decode(pem_b64, &pem)) return false;
  std::unique_ptr<BIO, void (*)(BIO*)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())), BIO_free_all);
  CertPtr c(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return c && certificate_der(c.get()) == leaf_der;
}

// The dsse v0.0.1 body must record this envelope's payload, envelope, signature and certificate.
bool dsse_body_matches(const json& body, const Bundle& b, std::string* why) {
  const json& spec = body.at("spec");
  // envelopeHash is not compared: Rekor hashed the envelope bytes as the client
  // serialized them (Python's ", "/": " separators before v1.1, compact after),
  // so it cannot be recomputed reliably. The payload hash, the signature bytes
  // and the certificate bind the entry to this envelope (the signature covers
  // the payload type through the PAE).
  if (!hash_matches(spec, "payloadHash", b.payload, why)) return false;
  auto sigs = spec.find("signatures");
  if (sigs == spec.end() || !sigs->is_array() || sigs->size() != 1)
    return *why = "body does not record exactly one signature", false;
  std::string sig;
  const json& s = (*sigs)[0];
  if (!s.is_object() || !s.value("signature", std::string()).size() ||
      !base64_decode(s.value("signature", std::string()), &sig) || sig != b.signature)
    return *why = "body records another signature than the envelope's", false;
  if (!verifier_matches(s.value("verifier", std::string()), b.certificates[0]))
    return *why = "body records another certificate than the bundle's", false;
  return true;
}

CheckResult check_body(const TlogEntry& e, const Bundle& b) {
  const char* name = "tlog-body";
  if (e.kind != "dsse" || e.version != "0.0.1")
    return failed(name, "entry kind " + e.kind + " " + e.version + " is not supported (dsse 0.0.1)");
  json body;
  try {
    body = json::parse(e.body);
    if (!body.is_object() || body.value("kind", "") != e.kind || body.value("apiVersion", "") != e.version)
      return failed(name, "body kind/apiVersion do not match the entry's kindVersion");
    std::string why;
    if (!dsse_body_matches(body, b, &why)) return failed(name, why);
  } catch (const json::exception&) {
    return failed(name, "canonicalizedBody is not a dsse entry body");
  }
  return passed(name, "dsse 0.0.1 entry records this payload, signature and certificate");
}

CheckResult check_proof(const TlogEntry& e) {
  const char* name = "tlog-inclusion-proof";
  if (!e.has_proof) return absent(name, "absent in bundle");
  std::string root, why;
  if (!merkle_root_from_proof(e.proof.log_index, e.proof.tree_size, merkle_leaf_hash(e.body), e.proof.hashes, &root,
                              &why))
    return failed(name, why);
  if (root != e.proof.root_hash)
    return failed(name, "recomputed root hash " + b64(root) + " does not match rootHash " + b64(e.proof.root_hash));
  return passed(name, "leaf " + std::to_string(e.proof.log_index) + " of tree size " +
                          std::to_string(e.proof.tree_size) + " reproduces rootHash");
}

CheckResult check_checkpoint(const TlogEntry& e, const TrustedLog* log) {
  const char* name = "tlog-checkpoint";
  if (!e.has_proof || e.proof.checkpoint.empty()) return absent(name, "absent in bundle");
  if (!log) return failed(name, "log id " + b64(e.log_id) + " is not a transparency log in the trusted root");
  Checkpoint cp;
  std::string why;
  if (!parse_checkpoint(e.proof.checkpoint, &cp, &why)) return failed(name, why);
  if (cp.tree_size != e.proof.tree_size || cp.root_hash != e.proof.root_hash)
    return failed(name, "checkpoint (size " + std::to_string(cp.tree_size) + ", root " + b64(cp.root_hash) +
                            ") does not match the inclusion proof (size " + std::to_string(e.proof.tree_size) +
                            ", root " + b64(e.proof.root_hash) + ")");
  Key key;
  if (!log_key(*log, &key)) return failed(name, "transparency log key is not usable");
  for (const NoteSignature& s : cp.signatures)
    if (s.key_hint == log->key_id.substr(0, 4) && verify_message(key, cp.signed_text, s.signature, true))
      return passed(name, "signed by " + s.name + " (" + cp.origin + ")");
  return failed(name, "no checkpoint signature verifies with the transparency log key " + b64(log->key_id));
}

CheckResult check_set(const TlogEntry& e, const TrustedLog* log) {
  const char* name = "tlog-set";
  if (!e.has_set) return absent(name, "absent in bundle");
  if (!log) return failed(name, "log id " + b64(e.log_id) + " is not a transparency log in the trusted root");
  if (!log->valid.contains(time_t(e.integrated_time)))
    return failed(name, "transparency log key is not valid at " + format_rfc3339(e.integrated_time) + " (validFor " +
                            window_text(log->valid) + ")");
  Key key;
  if (!log_key(*log, &key)) return failed(name, "transparency log key is not usable");
  if (!verify_message(key, set_payload(e), e.set, true))
    return failed(name, "signed entry timestamp does not verify with the transparency log key");
  return passed(name, "integrated time " + format_rfc3339(e.integrated_time) + " signed by the log");
}

// Checks every entry; the entry counts when its body matches and it is either
// proven (inclusion proof + checkpoint) or promised (SET).
void check_tlog(const Bundle& b, const TrustedRoot& root, KeylessResult* r, bool* trusted) {
  *trusted = false;
  if (b.tlog_entries.empty()) {
    for (const char* n : {"tlog-body", "tlog-inclusion-proof", "tlog-checkpoint", "tlog-set"})
      r->checks.push_back(absent(n, "absent in bundle"));
    return;
  }
  for (size_t i = 0; i < b.tlog_entries.size(); ++i) {
    const TlogEntry& e = b.tlog_entries[i];
    const TrustedLog* log = find_log(root.tlogs, e.log_id);
    std::vector<CheckResult> c = {check_body(e, b), check_proof(e), check_checkpoint(e, log), check_set(e, log)};
    bool proven = c[1].state == CheckState::kPassed && c[2].state == CheckState::kPassed;
    if (c[0].state == CheckState::kPassed && (proven || c[3].state == CheckState::kPassed)) *trusted = true;
    if (c[3].state == CheckState::kPassed) r->signing_times.push_back(time_t(e.integrated_time));
    for (CheckResult& x : c) {
      if (b.tlog_entries.size() > 1) x.detail = "entry " + std::to_string(i) + ": " + x.detail;
      r->checks.push_back(std::move(x));
    }
  }
}

// ---- RFC 3161 timestamps ------------------------------------------------------

std::string openssl_reason() {
  unsigned long e = ERR_peek_last_error();
  const char* s = e ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return s ? s : "unknown reason";
}

bool token_time(TS_RESP* resp, time_t* out) {
  TS_TST_INFO* info = TS_RESP_get_tst_info(resp);
  const ASN1_GENERALIZEDTIME* t = info ? TS_TST_INFO_get_time(info) : nullptr;
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return false;
  *out = timegm(&tm);
  return true;
}

X509* token_signer(TS_RESP* resp) {
  PKCS7* p7 = TS_RESP_get_token(resp);
  if (!p7 || !PKCS7_type_is_signed(p7)) return nullptr;
  std::unique_ptr<STACK_OF(X509), X509StackFree> signers(PKCS7_get0_signers(p7, nullptr, 0));
  ERR_clear_error();
  return signers && sk_X509_num(signers.get()) > 0 ? sk_X509_value(signers.get(), 0) : nullptr;
}

// Full RFC 3161 verification (signature, ESS signing certificate, chain with
// timeStamping usage, imprint over the signature bytes) against one authority.
bool verify_token(TS_RESP* resp, const std::vector<CertPtr>& chain, const Bundle& b, time_t at, std::string* why) {
  std::unique_ptr<TS_VERIFY_CTX, TsCtxFree> ctx(TS_VERIFY_CTX_new());
  X509_STORE* store = X509_STORE_new();
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  BIO* data = BIO_new_mem_buf(b.signature.data(), int(b.signature.size()));
  if (!ctx || !store || !untrusted || !data) {
    X509_STORE_free(store), sk_X509_free(untrusted), BIO_free(data);
    return *why = "cannot set up timestamp verification", false;
  }
  X509_STORE_add_cert(store, chain.back().get());
  for (size_t i = 0; i + 1 < chain.size(); ++i) X509_up_ref(chain[i].get()), sk_X509_push(untrusted, chain[i].get());
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), at);
  X509_VERIFY_PARAM_set_flags(X509_STORE_get0_param(store), X509_V_FLAG_PARTIAL_CHAIN);
  TS_VERIFY_CTX_set_store(ctx.get(), store);
  TS_VERIFY_CTX_set_certs(ctx.get(), untrusted);
  TS_VERIFY_CTX_set_data(ctx.get(), data);
  TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_DATA);
  if (TS_RESP_verify_response(ctx.get(), resp) == 1) return ERR_clear_error(), true;
  *why = openssl_reason();
  return false;
}

CheckResult check_token(const std::string& der, const Bundle& b, const TrustedRoot& root, KeylessResult* r) {
  const char* name = "rfc3161";
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<TS_RESP, TsRespFree> resp(d2i_TS_RESP(nullptr, &p, long(der.size())));
  ERR_clear_error();
  time_t at = 0;
  if (!resp || !token_time(resp.get(), &at)) return failed(name, "not a DER timestamp response with a time");
  X509* signer = token_signer(resp.get());
  if (!signer) return failed(name, "timestamp has no signer certificate");
  std::string why = "no timestamp authority in the trusted root is valid at " + format_rfc3339(at);
  for (const TrustedAuthority& tsa : root.timestamp_authorities) {
    std::vector<CertPtr> chain = decode_chain(tsa.chain_der);
    if (!tsa.valid.contains(at) || chain.empty()) continue;
    std::vector<X509*> inter;
    for (size_t i = 0; i + 1 < chain.size(); ++i) inter.push_back(chain[i].get());
    if (!verify_certificate_chain(signer, inter, {chain.back().get()}, at, &why, true)) continue;
    if (!verify_token(resp.get(), chain, b, at, &why))
      return failed(name, "timestamp at " + format_rfc3339(at) + " does not verify: " + why);
    r->signing_times.push_back(at);
    return passed(name, "time " + format_rfc3339(at) + " signed by " + certificate_subject(signer));
  }
  return {name, CheckState::kNotUsed,
          "timestamp signer " + certificate_subject(signer) + " does not chain to a timestamp authority in the "
          "trusted root (" + why + "); time not used"};
}

void check_timestamps(const Bundle& b, const TrustedRoot& root, KeylessResult* r) {
  if (b.rfc3161.empty()) return r->checks.push_back(absent("rfc3161", "absent in bundle"));
  for (size_t i = 0; i < b.rfc3161.size(); ++i) {
    CheckResult c = check_token(b.rfc3161[i], b, root, r);
    if (b.rfc3161.size() > 1) c.detail = "timestamp " + std::to_string(i) + ": " + c.detail;
    r->checks.push_back(std::move(c));
  }
}

// ---- Fulcio chain -----------------------------------------------------------

// Authorities whose first certificate issued the leaf.
std::vector<const TrustedAuthority*> issuing_authorities(X509* leaf, const TrustedRoot& root) {
  std::vector<const TrustedAuthority*> out;
  for (const TrustedAuthority& ca : root.certificate_authorities) {
    CertPtr first;
    if (!ca.chain_der.empty() && certificate_from_der(ca.chain_der[0], &first) &&
        X509_check_issued(first.get(), leaf) == X509_V_OK)
      out.push_back(&ca);
  }
  ERR_clear_error();
  return out;
}

bool leaf_usage(X509* leaf, std::string* why) {
  uint32_t flags = X509_get_extension_flags(leaf);
  if (!(flags & EXFLAG_XKUSAGE) || !(X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN))
    return *why = "leaf certificate lacks the codeSigning extended key usage", false;
  if (!(flags & EXFLAG_KUSAGE) || !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
    return *why = "leaf certificate key usage lacks digitalSignature", false;
  return true;
}

bool chain_at(X509* leaf, const std::vector<const TrustedAuthority*>& cas, time_t at, std::string* why) {
  const TrustedAuthority* outside = nullptr;
  for (const TrustedAuthority* ca : cas) {
    if (!ca->valid.contains(at)) {
      outside = ca;
      continue;
    }
    std::vector<CertPtr> chain = decode_chain(ca->chain_der);
    std::vector<X509*> inter;
    for (size_t i = 0; i + 1 < chain.size(); ++i) inter.push_back(chain[i].get());
    if (chain.size() == ca->chain_der.size() &&
        verify_certificate_chain(leaf, inter, {chain.back().get()}, at, why, true))
      return true;
    *why = "certificate chain does not verify at " + format_rfc3339(at) + ": " + *why;
    return false;
  }
  *why = "certificate authority " + outside->uri + " is not valid at " + format_rfc3339(at) + " (validFor " +
         window_text(outside->valid) + ")";
  return false;
}

CheckResult check_chain(X509* leaf, const TrustedRoot& root, const KeylessResult& r) {
  const char* name = "fulcio-chain";
  std::vector<const TrustedAuthority*> cas = issuing_authorities(leaf, root);
  if (cas.empty())
    return failed(name, "leaf issuer " + certificate_name(X509_get_issuer_name(leaf)) +
                            " is not a certificate authority in the trusted root");
  if (r.signing_times.empty())
    return failed(name, "no verified signing time (needs a verified signed entry timestamp or RFC 3161 timestamp)");
  std::string why;
  for (time_t t : r.signing_times)
    if (!chain_at(leaf, cas, t, &why)) return failed(name, why);
  if (!leaf_usage(leaf, &why)) return failed(name, why);
  std::string times;
  for (time_t t : r.signing_times) times += (times.empty() ? "" : ", ") + format_rfc3339(t);
  return passed(name, "leaf issued by " + certificate_name(X509_get_issuer_name(leaf)) + " (" + cas[0]->uri +
                          ") valid at " + times);
}

// ---- embedded SCT -----------------------------------------------------------

// The precertificate TBS: the leaf's TBSCertificate without the SCT list extension.
std::string precert_tbs(X509* leaf) {
  CertPtr copy(X509_dup(leaf));
  if (!copy) return {};
  int idx = X509_get_ext_by_NID(copy.get(), NID_ct_precert_scts, -1);
  if (idx >= 0) X509_EXTENSION_free(X509_delete_ext(copy.get(), idx));
  unsigned char* buf = nullptr;
  int n = i2d_re_X509_tbs(copy.get(), &buf);
  if (n <= 0) return {};
  std::string out(reinterpret_cast<char*>(buf), size_t(n));
  OPENSSL_free(buf);
  return out;
}

std::string issuer_key_hash(X509* issuer) {
  unsigned char* buf = nullptr;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &buf);
  if (n <= 0) return {};
  std::string out = sha256_raw(std::string_view(reinterpret_cast<char*>(buf), size_t(n)));
  OPENSSL_free(buf);
  return out;
}

void put_be(std::string* s, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) s->push_back(char((v >> (8 * i)) & 0xff));
}

// RFC 6962 section 3.2 digitally-signed struct for a precert entry.
std::string sct_signed_data(const SCT* sct, const std::string& key_hash, const std::string& tbs) {
  unsigned char* ext = nullptr;
  size_t ext_len = SCT_get0_extensions(sct, &ext);
  std::string d;
  d.push_back('\0');  // v1
  d.push_back('\0');  // certificate_timestamp
  put_be(&d, SCT_get_timestamp(sct), 8);
  put_be(&d, 1, 2);  // precert_entry
  d += key_hash;
  put_be(&d, tbs.size(), 3);
  d += tbs;
  put_be(&d, ext_len, 2);
  d.append(reinterpret_cast<const char*>(ext), ext_len);
  return d;
}

bool verify_sct(const SCT* sct, const TrustedRoot& root, const std::string& key_hash, const std::string& tbs,
                std::string* why) {
  unsigned char* id = nullptr;
  size_t id_len = SCT_get0_log_id(sct, &id);
  std::string log_id(reinterpret_cast<const char*>(id), id_len);
  if (SCT_get_version(sct) != SCT_VERSION_V1) return *why = "SCT is not version 1", false;
  const TrustedLog* log = nullptr;
  for (const TrustedLog& l : root.ctlogs)
    if (sha256_raw(l.key_der) == log_id) log = &l;
  if (!log) return *why = "SCT log id " + b64(log_id) + " is not a CT log in the trusted root", false;
  time_t at = time_t(SCT_get_timestamp(sct) / 1000);
  if (!log->valid.contains(at))
    return *why = "CT log " + log->base_url + " is not valid at " + format_rfc3339(at), false;
  unsigned char* sig = nullptr;
  size_t sig_len = SCT_get0_signature(sct, &sig);
  Key key;
  Error ignored;
  if (!public_key_from_der(log->key_der, "", &key, &ignored)) return *why = "CT log key is not usable", false;
  if (tbs.empty() || !verify_message(key, sct_signed_data(sct, key_hash, tbs),
                                     std::string_view(reinterpret_cast<char*>(sig), sig_len), true))
    return *why = "SCT from " + log->base_url + " does not verify over the precertificate", false;
  *why = "SCT from " + log->base_url + " at " + format_rfc3339(at);
  return true;
}

CheckResult check_sct(X509* leaf, const TrustedRoot& root) {
  const char* name = "sct";
  std::unique_ptr<STACK_OF(SCT), SctListFree> scts(
      static_cast<STACK_OF(SCT)*>(X509_get_ext_d2i(leaf, NID_ct_precert_scts, nullptr, nullptr)));
  ERR_clear_error();
  if (!scts || sk_SCT_num(scts.get()) == 0) return failed(name, "leaf certificate has no embedded SCT");
  std::vector<const TrustedAuthority*> cas = issuing_authorities(leaf, root);
  CertPtr issuer;
  if (cas.empty() || !certificate_from_der(cas[0]->chain_der[0], &issuer))
    return failed(name, "cannot check: the leaf's issuer is not in the trusted root");
  std::string key_hash = issuer_key_hash(issuer.get()), tbs = precert_tbs(leaf), why, first;
  for (int i = 0; i < sk_SCT_num(scts.get()); ++i) {
    if (verify_sct(sk_SCT_value(scts.get(), i), root, key_hash, tbs, &why)) return passed(name, why);
    if (first.empty()) first = why;
  }
  return failed(name, first);
}

// ---- identity ---------------------------------------------------------------

std::vector<std::string> san_identities(X509* leaf) {
  std::vector<std::string> out;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  ERR_clear_error();
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names.get(), i);
    if (g->type != GEN_EMAIL && g->type != GEN_URI) continue;
    const ASN1_IA5STRING* s = g->type == GEN_EMAIL ? g->d.rfc822Name : g->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), size_t(ASN1_STRING_length(s)));
  }
  return out;
}

// The OIDC issuer: the DER UTF8String of .1.8, else the raw bytes of legacy .1.1.
std::string oidc_issuer(X509* leaf) {
  for (const char* oid : {kIssuerOid, kLegacyIssuerOid}) {
    std::unique_ptr<ASN1_OBJECT, void (*)(ASN1_OBJECT*)> obj(OBJ_txt2obj(oid, 1), ASN1_OBJECT_free);
    int idx = obj ? X509_get_ext_by_OBJ(leaf, obj.get(), -1) : -1;
    if (idx < 0) continue;
    const ASN1_OCTET_STRING* v = X509_EXTENSION_get_data(X509_get_ext(leaf, idx));
    const unsigned char* p = ASN1_STRING_get0_data(v);
    std::string raw(reinterpret_cast<const char*>(p), size_t(ASN1_STRING_length(v)));
    if (oid == kLegacyIssuerOid) return raw;
    std::unique_ptr<ASN1_UTF8STRING, void (*)(ASN1_UTF8STRING*)> s(
        d2i_ASN1_UTF8STRING(nullptr, &p, long(raw.size())), ASN1_UTF8STRING_free);
    ERR_clear_error();
    if (s) return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s.get())),
                              size_t(ASN1_STRING_length(s.get())));
  }
  ERR_clear_error();
  return {};
}

void check_identity(X509* leaf, const KeylessPolicy& policy, KeylessResult* r) {
  std::vector<std::string> ids = san_identities(leaf);
  r->identity = ids.empty() ? "" : ids[0];
  for (const std::string& id : ids)
    if (id == policy.identity) r->identity = id;
  if (ids.empty()) r->checks.push_back(failed("identity", "leaf certificate has no email or URI subject alternative name"));
  else if (r->identity != policy.identity)
    r->checks.push_back(failed("identity", "certificate identity " + r->identity + " does not match --identity " +
                                               policy.identity));
  else r->checks.push_back(passed("identity", r->identity));
  r->issuer = oidc_issuer(leaf);
  if (r->issuer.empty())
    r->checks.push_back(failed("issuer", std::string("leaf certificate has no OIDC issuer extension (") + kIssuerOid +
                                             " or " + kLegacyIssuerOid + ")"));
  else if (r->issuer != policy.issuer)
    r->checks.push_back(failed("issuer", "certificate issuer " + r->issuer + " does not match --issuer " + policy.issuer));
  else r->checks.push_back(passed("issuer", r->issuer));
}

}  // namespace

std::string_view check_state_name(CheckState s) {
  switch (s) {
    case CheckState::kPassed: return "passed";
    case CheckState::kFailed: return "failed";
    case CheckState::kAbsent: return "absent";
    case CheckState::kNotUsed: return "not used";
  }
  return "failed";
}

KeylessResult verify_keyless(const Bundle& b, const TrustedRoot& root, const KeylessPolicy& policy) {
  KeylessResult r;
  CertPtr leaf;
  if (b.material != BundleMaterial::kCertificate || b.certificates.empty() ||
      !certificate_from_der(b.certificates[0], &leaf)) {
    r.reason = "bundle has no keyless signing certificate";
    return r;
  }
  bool logged = false;
  check_tlog(b, root, &r, &logged);
  check_timestamps(b, root, &r);
  r.checks.push_back(check_chain(leaf.get(), root, r));
  r.checks.push_back(check_sct(leaf.get(), root));
  check_identity(leaf.get(), policy, &r);
  for (const CheckResult& c : r.checks)
    if (c.state == CheckState::kFailed) {
      r.reason = c.name + ": " + c.detail;
      return r;
    }
  if (!logged) {
    r.reason = "tlog: no transparency log entry is proven (inclusion proof and checkpoint) or promised (signed "
               "entry timestamp); required for keyless";
    return r;
  }
  r.ok = true;
  return r;
}

}  // namespace pedigree
