// This file implements `pedigree check PATH --policy FILE`, the CI gate: load
// the policy, gather the evidence that exists (model reader findings, manifest
// root, AI-BOM and its score, signature verification with the policy's
// trusts, lineage registry matches and probe packs through the scan pipeline),
// evaluate (sbom/policy.h), print text/JSON/SARIF/JUnit and exit 0 (pass),
// 1 (violation) or 2 (could not run).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/check_cli.h"
#include "cli/cli.h"
#include "cli/lineage_cli.h"
#include "cli/progress.h"
#include "cli/scan_core.h"
#include "fingerprint/formats/reader.h"
#include "fingerprint/tensor_digest.h"
#include "sbom/bom.h"
#include "sbom/junit.h"
#include "sbom/policy.h"
#include "sbom/sarif.h"
#include "sbom/score.h"
#include "probes/pack.h"
#include "signing/sign.h"
#include "signing/verify.h"

#include <fmt/format.h>

namespace pedigree::cli {
namespace {

namespace fs = std::filesystem;

// A trust file named in the policy must be readable: a typo there is "cannot run", not a failed model.
bool check_trust_files(const Policy& p, Error* err) {
  if (!p.signature) return true;
  for (const SignatureTrust& t : p.signature->trusts) {
    std::vector<std::string> files = t.roots;
    files.insert(files.end(), t.chain.begin(), t.chain.end());
    if (!t.key.empty()) files.push_back(t.key);
    if (!t.trust_root.empty()) files.push_back(t.trust_root);
    for (const std::string& f : files)
      if (!fs::is_regular_file(f)) return fail(err, p.path, std::nullopt, "rules.signature: cannot read '" + f + "'");
  }
  return true;
}

std::string file_sha256(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return f ? "sha256:" + to_hex(digest_bytes(HashAlgorithm::kSha256, ss.str())) : "";
}

SignatureAttempt attempt(const CheckArgs& a, const std::string& bundle, const SignatureTrust& t) {
  SignatureAttempt out;
  out.trust = t.label();
  out.command = "pedigree verify " + a.path + " --sig " + bundle;
  if (t.kind == SignatureTrust::Kind::kKeyless && t.trust_root.empty()) {
    out.detail = "keyless needs trust_root (a Sigstore trusted_root.json) to verify offline";
    out.command.clear();
    return out;
  }
  VerifyRequest req;
  req.model_path = a.path;
  req.bundle_path = bundle;
  req.key_path = t.key;
  req.root_paths = t.roots;
  req.chain_paths = t.chain;
  req.trust_root_path = t.trust_root;
  req.identity = t.identity;
  req.issuer = t.issuer;
  req.jobs = a.jobs;
  out.command = verify_command(req);
  VerifyResult r = verify_model(req);
  using O = SignatureAttempt::Outcome;
  out.outcome = r.status == VerifyStatus::kVerified ? O::kVerified : r.status == VerifyStatus::kRejected ? O::kRejected
                                                                                                        : O::kCannotRun;
  out.detail = r.status == VerifyStatus::kVerified
                   ? (r.method == "key"       ? r.key_type + " key"
                      : r.method == "keyless" ? "keyless " + r.identity + " from " + r.oidc_issuer
                                              : r.signer + ", " + r.key_type)
                   : r.reason.str();
  return out;
}

void gather_signature(const CheckArgs& a, const Policy& p, SignatureEvidence* s) {
  s->bundle_path = a.sig.empty() ? default_signature_path(a.path) : a.sig;
  s->present = fs::is_regular_file(s->bundle_path);
  if (!s->present || !p.signature) return;
  s->bundle_digest = file_sha256(s->bundle_path);
  for (const SignatureTrust& t : p.signature->trusts) {
    s->attempts.push_back(attempt(a, s->bundle_path, t));
    if (s->attempts.back().outcome == SignatureAttempt::Outcome::kVerified) break;
  }
}

// Reads the model, hashes it and, when a rule needs it, builds the AI-BOM and its score.
bool gather_model(const CheckArgs& a, const Policy& p, CheckEvidence* ev, Error* err) {
  ModelArtifact art;
  TensorIndex idx;
  if (!read_model(a.path, &art, &idx, err)) return false;
  ev->format = art.format;
  ev->files = art.files;
  ev->findings = art.findings;
  BomInputs in{&art, &idx, nullptr, {}, {}, a.path};
  if (!hash_bom_files(a.path, art, a.jobs, &in.files, &in.manifest_root, nullptr, err)) return false;
  ev->manifest_root = "sha256:" + to_hex(in.manifest_root);
  for (const BomFile& f : in.files)
    for (const ArtifactFile& a : art.files)
      if (a.name == f.name) ev->file_digests[a.path] = "sha256:" + to_hex(f.sha256);
  if (!p.bom && !p.licenses) return true;
  TensorFingerprint fp;
  Error soft;
  nlohmann::json bom;
  BomOptions opts;
  if (!compute_tensor_fingerprint(art, idx, &fp, &soft, a.jobs, nullptr)) {
    ev->bom_error = soft.str();
    return true;
  }
  in.fp = &fp;
  if (!build_bom(in, opts, &bom, &soft)) {
    ev->bom_error = soft.str();
    return true;
  }
  ev->bom_score = score_bom(bom).total;
  ev->bom = std::move(bom);
  return true;
}

// Lineage evidence for PDG040: the policy's registry, else --registry, else the default one when it exists.
bool gather_check_lineage(const CheckArgs& a, const Policy& p, CheckEvidence* ev, Error* err) {
  if (!p.lineage) return true;
  std::string registry = find_registry(!p.lineage->registry.empty() ? p.lineage->registry : a.registry);
  if (registry.empty()) {
    ev->lineage_unavailable = "no lineage registry: set rules.lineage.registry, pass --registry, or create " +
                              default_registry_path() + " (pedigree registry add)";
    return true;
  }
  LineageEvidence le;
  if (!gather_lineage(a.path, registry, a.jobs, &le, err)) return false;
  std::string command = "pedigree lineage " + a.path + " --registry " + registry;
  ev->lineage.emplace();
  for (const RegistryMatch& m : le.matches) {
    if (!m.model.is_protected || m.relation == "not-comparable") continue;
    bool same = m.relation != "compared";
    double sim = same ? 1.0 : m.report.primary;
    std::string what = same ? fmt::format("{}: {} (similarity 1)", m.model.name, m.relation)
                            : fmt::format("{}: {}, primary score {:.4f}", m.model.name, m.report.verdict, sim);
    ev->lineage->push_back({m.model.name, sim, {what, registry, "", command}});
  }
  return true;
}

std::string pack_what(const probes::PackResult& p) {
  return fmt::format("{} v{} (sha256 {}): {}", p.id, p.version, p.sha256, pack_summary(p));
}

// Probe evidence for PDG050: the policy's packs, on --endpoint or a GGUF PATH served by llama-server.
bool gather_check_probes(const CheckArgs& a, const Policy& p, CheckEvidence* ev, Error* err) {
  if (!p.probes) return true;
  if (a.endpoint.empty() && !is_gguf_file(a.path)) {
    ev->probes_unavailable = "no probe backend: pass --endpoint URL --model NAME, or check a GGUF model (served by "
                             "llama-server)";
    return true;
  }
  ProbeTarget t;
  t.endpoint = a.endpoint;
  t.model = a.model;
  if (a.endpoint.empty()) t.gguf = a.path;
  t.llama_server = a.llama_server;
  t.cache_dir = a.cache_dir;
  t.no_cache = a.no_cache;
  t.watermark_keys = a.watermark_keys;
  std::vector<std::string> specs;
  for (const ProbePackPolicy& pp : p.probes->packs) specs.push_back(pp.pack);
  std::vector<probes::Pack> packs(specs.size());
  for (size_t i = 0; i < specs.size(); ++i)
    if (!probes::load_pack(specs[i], &packs[i], err)) return fail(err, p.path, std::nullopt, "rules.probes: " + err->str());
  probes::RunResult r;
  Error e;
  if (!run_probe_packs(specs, t, &r, &e)) {
    if (!a.endpoint.empty()) return *err = e, false;
    ev->probes_unavailable = "could not run the local model: " + e.str();
    return true;
  }
  std::string base = a.endpoint.empty() ? "pedigree probe " + a.path
                                        : "pedigree probe --endpoint " + a.endpoint + " --model " + a.model;
  ev->probes.emplace();
  for (size_t i = 0; i < r.packs.size(); ++i) {
    const probes::PackResult& pr = r.packs[i];
    EvidenceSource src{pack_what(pr), a.endpoint.empty() ? a.path : a.endpoint, ev->manifest_root,
                       base + " --pack " + specs[i]};
    ev->probes->push_back({specs[i], std::pow(10.0, pr.log10_p), pack_score(pr), src});
  }
  return true;
}

std::string render(const CheckArgs& a, const CheckReport& r) {
  if (a.format == "json") return json_text(report_json(r));
  if (a.format == "junit") return report_junit(r);
  if (a.format == "sarif") {
    SarifOptions o;
    std::error_code ec;
    o.base_dir = fs::current_path(ec).string();
    return json_text(report_sarif(r, o));
  }
  return report_text(r);
}

}  // namespace

int run_check(const CheckArgs& a) {
  if (a.format != "text" && a.format != "json" && a.format != "sarif" && a.format != "junit")
    return report_error("--format '" + a.format + "' is not one of text, json, sarif, junit");
  Error err;
  Policy policy;
  if (!load_policy(a.policy, &policy, &err) || !check_trust_files(policy, &err)) return report_error(err);
  if (!a.endpoint.empty() && a.model.empty()) return report_error("--endpoint needs --model NAME");
  std::string today;
  const char* now = std::getenv("PEDIGREE_NOW");
  if (!today_utc(now ? now : "", &today, &err)) return report_error(err.message);
  CheckEvidence ev;
  ev.model_path = a.path;
  if (!gather_model(a, policy, &ev, &err)) return report_error(err);
  gather_signature(a, policy, &ev.signature);
  if (!gather_check_lineage(a, policy, &ev, &err) || !gather_check_probes(a, policy, &ev, &err)) return report_error(err);
  CheckReport r = evaluate_policy(policy, ev, today);
  if (!write_output(a.output, render(a, r), &err)) return report_error(err);
  return r.passed() ? kOk : kFlagged;
}

}  // namespace pedigree::cli
