// This file implements `pedigree verify`: check an OpenSSF Model Signing v1.0
// bundle against a model on disk with a public key, a trusted root
// certificate or (Sigstore keyless) a trusted root JSON plus the expected
// identity and issuer. Exit 0 verified, 1 not verified (reason printed), 2 cannot run.
#include <cstdio>
#include <fmt/format.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "signing/sign.h"
#include "signing/trusted_root.h"
#include "signing/verify.h"

namespace pedigree::cli {
namespace {

nlohmann::json checks_json(const VerifyResult& r) {
  nlohmann::json checks = nlohmann::json::array();
  for (const CheckResult& c : r.checks)
    checks.push_back({{"name", c.name}, {"state", std::string(check_state_name(c.state))}, {"detail", c.detail}});
  nlohmann::json times = nlohmann::json::array();
  for (time_t t : r.signing_times) times.push_back(format_rfc3339(t));
  return {{"checks", checks}, {"identity", r.identity}, {"issuer", r.oidc_issuer}, {"signing_times", times}};
}

std::string checks_text(const VerifyResult& r) {
  std::string out;
  for (const CheckResult& c : r.checks) out += fmt::format("check {}: {}: {}\n", c.name, check_state_name(c.state), c.detail);
  return out;
}

nlohmann::json result_json(const VerifyArgs& a, const VerifyResult& r) {
  nlohmann::json j = {{"path", a.path},
                      {"signature", a.sig},
                      {"verified", r.status == VerifyStatus::kVerified},
                      {"method", r.method},
                      {"key_type", r.key_type},
                      {"model", r.model_name},
                      {"resources", r.resources},
                      {"legacy_v0_2_payload", r.legacy_payload},
                      {"missing", r.missing},
                      {"changed", r.changed},
                      {"unsigned", r.extra},
                      {"warnings", r.warnings}};
  if (!r.signer.empty()) j["signer"] = r.signer;
  if (!r.root_hex.empty()) j["manifest_root"] = "sha256:" + r.root_hex;
  if (r.status != VerifyStatus::kVerified) j["reason"] = r.reason.str();
  if (r.method == "keyless") j["keyless"] = checks_json(r);
  return j;
}

std::string result_text(const VerifyArgs& a, const VerifyResult& r) {
  std::string who = r.method == "key" ? r.key_type + " key" : "certificate " + r.signer + " (" + r.key_type + ")";
  if (r.method == "keyless") who = "Sigstore keyless " + r.identity + " (issuer " + r.oidc_issuer + ", " + r.key_type + ")";
  std::string name = r.model_name.empty() ? a.path : r.model_name;
  std::string out = fmt::format("verified: {} ({} resources, manifest root sha256:{})\nsigned with: {}\n", name,
                                r.resources, r.root_hex, who);
  if (r.legacy_payload) out += "note: legacy v0.2 payload\n";
  return out + checks_text(r);
}

}  // namespace

int run_verify(const VerifyArgs& a) {
  VerifyRequest req;
  req.model_path = a.path;
  req.bundle_path = a.sig.empty() ? default_signature_path(a.path) : a.sig;
  req.key_path = a.key;
  req.root_paths = a.cert_root;
  req.chain_paths = a.cert_chain;
  req.trust_root_path = a.trust_root;
  req.identity = a.identity;
  req.issuer = a.issuer;
  req.ignore_unsigned_files = a.ignore_unsigned_files;
  req.at_signing_time = a.at_signing_time;
  req.jobs = a.jobs;
  if (!a.key.empty() + !a.cert_root.empty() + !a.trust_root.empty() != 1)
    return report_error("give one of --key, --cert-root or --trust-root");
  if (!a.cert_chain.empty() && a.cert_root.empty()) return report_error("--cert-chain needs --cert-root");
  if (!a.trust_root.empty() && (a.identity.empty() || a.issuer.empty()))
    return report_error("--trust-root needs --identity and --issuer");
  if (a.trust_root.empty() && (!a.identity.empty() || !a.issuer.empty()))
    return report_error("--identity and --issuer need --trust-root");
  VerifyResult r = verify_model(req);
  for (const std::string& w : r.warnings) std::fprintf(stderr, "pedigree: warning: %s\n", w.c_str());
  if (r.status == VerifyStatus::kCannotRun) return report_error(r.reason);
  VerifyArgs shown = a;
  shown.sig = req.bundle_path;
  Error err;
  std::string text = a.json ? json_text(result_json(shown, r)) : std::string();
  if (r.status == VerifyStatus::kRejected) {
    if (a.json) write_output("", text, &err);
    else if (!r.checks.empty()) write_output("", checks_text(r), &err);
    std::fprintf(stderr, "pedigree: not verified: %s\n", r.reason.str().c_str());
    return kFlagged;
  }
  write_output("", a.json ? text : result_text(shown, r), &err);
  return kOk;
}

}  // namespace pedigree::cli
