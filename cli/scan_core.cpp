// This file implements scan_model (cli/scan_core.h): read the model, hash its
// files and tensors, verify a signature found beside it, look it up in the
// lineage registry, run probe packs when a backend exists, and build the
// AI-BOM with every result as a property. Evidence that cannot be gathered is
// a "not-evaluated" check with the reason, never a pass.
#include "cli/scan_core.h"

#include <algorithm>
#include <fstream>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "cli/cli.h"
#include "cli/lineage_cli.h"
#include "cli/model_view.h"
#include "fingerprint/digest.h"
#include "fingerprint/formats/reader.h"
#include "fingerprint/manifest.h"
#include "fingerprint/tensor_digest.h"
#include "probes/open_backend.h"
#include "probes/pack.h"
#include "sbom/bom.h"
#include "signing/sign.h"
#include "signing/verify.h"

namespace pedigree::cli {
namespace {

namespace fs = std::filesystem;

const char* plural(size_t n) { return n == 1 ? "" : "s"; }

ScanCheck reader_check(const ModelArtifact& art) {
  size_t errors = 0;
  for (const Finding& f : art.findings) errors += f.severity == "error";
  ScanCheck c{"reader", errors ? "flagged" : "pass", "", "pedigree inspect " + art.root};
  c.detail = errors ? fmt::format("{} error finding{}", errors, plural(errors))
                    : fmt::format("{} finding{}, none an error", art.findings.size(), plural(art.findings.size()));
  return c;
}

std::vector<std::pair<std::string, std::string>> summary_lines(const ModelArtifact& art, const TensorIndex& idx,
                                                               const Manifest& m, const std::vector<uint8_t>& root,
                                                               const TensorFingerprint& fp) {
  ModelTotals t = summarize(idx);
  std::string primary = art.metadata.contains("hf") ? art.metadata["hf"].value("primary_format", "") : "";
  return {
      {"format", art.format + (primary.empty() ? "" : " (" + primary + " weights)")},
      {"weights", fmt::format("{} tensor{}, {} parameters; {}", group_digits(t.tensors), plural(t.tensors),
                              group_digits(t.parameters), dtype_summary(t))},
      {"files", fmt::format("{} ({}), manifest root sha256:{}", m.resources.size(), human_bytes(m.total_bytes),
                            to_hex(root))},
      {"tensors", "named root sha256:" + to_hex(fp.named_root.data(), 32)},
      {"", "content root sha256:" + to_hex(fp.content_root.data(), 32)},
  };
}

nlohmann::json checks_json(const std::vector<ScanCheck>& checks) {
  nlohmann::json a = nlohmann::json::array();
  for (const ScanCheck& c : checks)
    a.push_back({{"name", c.name}, {"status", c.status}, {"detail", c.detail}, {"evidence", c.evidence}});
  return a;
}

// A name usable as a file name: the directory's name or the file's stem, or the endpoint's model.
std::string output_name(const ScanRequest& req) {
  std::string raw;
  if (!req.path.empty()) {
    fs::path p = fs::path(req.path).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    std::error_code ec;
    raw = fs::is_directory(p, ec) ? p.filename().string() : p.stem().string();
  } else {
    raw = req.model.empty() ? "endpoint" : req.model;
  }
  std::string out;
  for (char c : raw) out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '_';
  if (out.empty() || out == "." || out == "..") out = "model";
  return out;
}

// --- signature ----------------------------------------------------------------

std::string trust_label(const ScanRequest& req) {
  if (!req.key.empty()) return "key " + req.key;
  if (!req.cert_roots.empty()) return "certificate root " + req.cert_roots.front();
  return "keyless " + req.identity + " from " + req.issuer;
}

bool signature_check(const ScanRequest& req, ScanCheck* c, nlohmann::json* j, Error* err) {
  std::string bundle = req.signature.empty() ? default_signature_path(req.path) : req.signature;
  std::error_code ec;
  *c = {"signature", "not-evaluated", "", ""};
  if (req.signature.empty() && !fs::exists(bundle, ec)) {
    c->detail = "no signature beside the model (" + bundle + ")";
    *j = {{"status", c->status}, {"bundle", bundle}, {"present", false}};
    return true;
  }
  bool trusted = !req.key.empty() || !req.cert_roots.empty() || !req.trust_root.empty();
  VerifyRequest vr;
  vr.model_path = req.path;
  vr.bundle_path = bundle;
  vr.key_path = req.key;
  vr.root_paths = req.cert_roots;
  vr.chain_paths = req.cert_chain;
  vr.trust_root_path = req.trust_root;
  vr.identity = req.identity;
  vr.issuer = req.issuer;
  vr.integrity_only = !trusted;
  vr.jobs = req.jobs;
  VerifyResult r = verify_model(vr);
  if (r.status == VerifyStatus::kCannotRun) return fail(err, r.reason.path, r.reason.offset, "signature: " + r.reason.message);
  // A model.sig found beside a single file may sign a neighbour: then it says nothing about this file.
  std::string own = fs::path(req.path).filename().string();
  if (req.signature.empty() && !fs::is_directory(req.path, ec) && !r.model_name.empty() && r.model_name != own) {
    c->detail = "the bundle beside it (" + bundle + ") signs '" + r.model_name + "', not '" + own + "'";
    *j = {{"status", c->status}, {"bundle", bundle}, {"present", true}, {"signs", r.model_name}};
    return true;
  }
  c->evidence = verify_command(vr) + (trusted ? "" : " --key <the signer's public key>");
  *j = {{"bundle", bundle}, {"present", true}, {"method", r.method}, {"material", r.material}};
  if (!r.signer.empty()) (*j)["signer"] = r.signer;
  if (r.status == VerifyStatus::kRejected) {
    c->status = "flagged";
    c->detail = r.reason.message;
  } else if (trusted) {
    c->status = "pass";
    c->detail = "verified with " + trust_label(req) + (r.signer.empty() ? "" : "; signer " + r.signer);
  } else {
    c->status = "pass";
    c->detail = fmt::format("integrity only: the {} file{} match the signed manifest; signer not verified ({}{}; "
                            "give --key, --cert-root or --trust-root to verify it)",
                            r.resources, plural(r.resources), r.material,
                            r.signer.empty() ? "" : ", claims " + r.signer);
  }
  (*j)["status"] = c->status;
  (*j)["detail"] = c->detail;
  return true;
}

// --- lineage ------------------------------------------------------------------

std::string match_text(const RegistryMatch& m) {
  if (m.relation == "compared")
    return fmt::format("{} ({}, primary {:.3f})", m.model.name, m.report.verdict, m.report.primary);
  return m.model.name + " (" + m.relation + ")";
}

nlohmann::json lineage_json(const LineageEvidence& ev) {
  nlohmann::json list = nlohmann::json::array();
  for (const RegistryMatch& m : ev.matches) {
    nlohmann::json j = {{"name", m.model.name}, {"protected", m.model.is_protected}, {"relation", m.relation}};
    if (m.relation == "not-comparable") j["reason"] = m.note;
    if (m.relation == "compared")
      j.update({{"primary_score", m.report.primary}, {"verdict", m.report.verdict}});
    list.push_back(j);
  }
  return {{"registry", ev.registry}, {"matches", list}, {"flagged", ev.flagged}};
}

ScanCheck lineage_check(const LineageEvidence& ev, const std::string& path) {
  ScanCheck c{"lineage", ev.flagged.empty() ? "pass" : "flagged", "", "pedigree lineage " + path + " --registry " + ev.registry};
  if (!ev.flagged.empty()) {
    std::string names;
    for (const std::string& n : ev.flagged) names += (names.empty() ? "" : ", ") + n;
    c.detail = "identical to or derived from protected model" + std::string(plural(ev.flagged.size())) + ": " + names;
  } else {
    c.detail = fmt::format("not derived from any protected model ({} registered model{}{})", ev.matches.size(),
                           plural(ev.matches.size()), ev.matches.empty() ? "" : "; nearest " + match_text(ev.matches[0]));
  }
  return c;
}

// --- probes -------------------------------------------------------------------

std::string pvalue_text(double log10_p) {
  return log10_p > -4.0 ? fmt::format("{:.4g}", std::pow(10.0, log10_p)) : fmt::format("1e{:.2f}", log10_p);
}

std::string probe_command(const ScanRequest& req, const std::string& pack, bool watermark) {
  std::string c = req.endpoint.empty() ? "pedigree probe " + req.path
                                       : "pedigree probe --endpoint " + req.endpoint + " --model " + req.model;
  c += " --pack " + pack;
  if (watermark)
    for (const std::string& k : req.watermark_keys) c += " --watermark-key " + k;
  return c;
}

void probe_checks(const ScanRequest& req, const probes::RunResult& r, std::vector<ScanCheck>* out) {
  for (size_t i = 0; i < r.packs.size(); ++i) {
    const probes::PackResult& p = r.packs[i];
    ScanCheck c{"probe:" + p.id, p.flagged ? "flagged" : "pass", pack_summary(p), probe_command(req, req.packs[i], p.watermark.has_value())};
    out->push_back(c);
  }
}

ProbeTarget probe_target(const ScanRequest& req) {
  ProbeTarget t;
  t.endpoint = req.endpoint;
  t.model = req.model;
  if (req.endpoint.empty()) t.gguf = req.path;
  t.llama_server = req.llama_server;
  t.cache_dir = req.cache_dir;
  t.declared = req.declared;
  t.no_cache = req.no_cache;
  t.concurrency = req.concurrency;
  t.watermark_keys = req.watermark_keys;
  return t;
}

bool load_packs(const std::vector<std::string>& specs, std::vector<probes::Pack>* packs, Error* err) {
  packs->resize(specs.size());
  for (size_t i = 0; i < specs.size(); ++i)
    if (!probes::load_pack(specs[i], &(*packs)[i], err)) return false;
  return true;
}

bool run_loaded_packs(const std::vector<probes::Pack>& packs, const ProbeTarget& t, probes::RunResult* out, Error* err) {
  if (t.concurrency < 1 || t.concurrency > 64)
    return fail(err, "", std::nullopt, fmt::format("--concurrency {} out of range (want 1..64)", t.concurrency));
  probes::BackendOptions o;
  o.endpoint = t.endpoint;
  o.model = t.model;
  o.gguf_path = t.gguf;
  o.llama_server = t.llama_server;
  o.cache_dir = t.cache_dir;
  o.no_cache = t.no_cache;
  o.concurrency = t.concurrency;
  std::unique_ptr<probes::Backend> backend;
  if (!probes::open_backend(o, &backend, err)) return false;
  return probes::run_packs(packs, *backend, {t.concurrency, t.declared, t.watermark_keys}, out, err);
}

// Runs the packs when a backend exists. An endpoint that fails is "could not run"; a local
// llama-server that cannot be started leaves the probes not evaluated, with the reason.
bool gather_probes(const ScanRequest& req, ScanOutcome* out, Error* err) {
  if (req.packs.empty()) {
    out->checks.push_back({"probes", "not-evaluated", "no --pack given", ""});
    return true;
  }
  if (req.endpoint.empty() && !is_gguf_file(req.path)) {
    out->checks.push_back({"probes", "not-evaluated",
                           "probes need --endpoint URL or a GGUF model (llama-server); " + out->format + " given", ""});
    return true;
  }
  std::vector<probes::Pack> packs;
  if (!load_packs(req.packs, &packs, err)) return false;
  probes::RunResult r;
  Error e;
  if (!run_loaded_packs(packs, probe_target(req), &r, &e)) {
    if (!req.endpoint.empty()) return *err = e, false;
    out->checks.push_back({"probes", "not-evaluated", "could not run the local model: " + e.str(), ""});
    return true;
  }
  probe_checks(req, r, &out->checks);
  out->probes = std::move(r);
  return true;
}

// --- AI-BOM -------------------------------------------------------------------

// Adds pedigree:scan:* properties to the model component, keeping properties sorted.
void add_scan_properties(const ScanOutcome& o, nlohmann::json* bom) {
  nlohmann::json& props = (*bom)["metadata"]["component"]["properties"];
  std::vector<std::pair<std::string, std::string>> p;
  for (const auto& x : props) p.emplace_back(x["name"], x["value"]);
  p.emplace_back("pedigree:scan:verdict", o.flagged ? "flagged" : "pass");
  for (const ScanCheck& c : o.checks) {
    p.emplace_back("pedigree:scan:" + c.name, c.status + ": " + c.detail);
    if (!c.evidence.empty()) p.emplace_back("pedigree:scan:" + c.name + ":evidence", c.evidence);
  }
  if (o.lineage)
    for (const RegistryMatch& m : o.lineage->matches)
      if (m.model.is_protected) p.emplace_back("pedigree:scan:lineage:protected:" + m.model.name, m.relation == "compared"
          ? fmt::format("{} (primary {:.4f})", m.report.verdict, m.report.primary) : m.relation);
  if (o.probes)
    for (const probes::PackResult& pk : o.probes->packs) {
      p.emplace_back("pedigree:scan:probe:" + pk.id + ":log10-p", fmt::format("{:.6g}", pk.log10_p));
      p.emplace_back("pedigree:scan:probe:" + pk.id + ":sha256", pk.sha256);
    }
  std::sort(p.begin(), p.end());
  props = nlohmann::json::array();
  for (auto& [n, v] : p) props.push_back({{"name", n}, {"value", v}});
}

struct Hashed {
  ModelArtifact art;
  TensorIndex idx;
  Manifest listing;
  BomInputs in;
  TensorFingerprint fp;
};

bool read_and_hash(const ScanRequest& req, Hashed* h, Error* err) {
  if (!read_model(req.path, &h->art, &h->idx, err)) return false;
  ManifestOptions opts;
  opts.jobs = req.jobs;
  if (!enumerate_model(req.path, opts, &h->listing, err)) return false;
  uint64_t tensor_bytes = 0;
  for (const TensorInfo& t : h->idx.tensors) tensor_bytes += t.length;
  ProgressCounter* progress = req.start_progress ? req.start_progress(h->listing.total_bytes + tensor_bytes) : nullptr;
  h->in = BomInputs{&h->art, &h->idx, nullptr, {}, {}, req.path};
  if (!hash_bom_files(req.path, h->art, req.jobs, &h->in.files, &h->in.manifest_root, progress, err)) return false;
  if (!compute_tensor_fingerprint(h->art, h->idx, &h->fp, err, req.jobs, progress)) return false;
  h->in.fp = &h->fp;
  return true;
}

bool scan_endpoint(const ScanRequest& req, ScanOutcome* out, Error* err) {
  if (req.model.empty()) return fail(err, req.endpoint, std::nullopt, "--endpoint needs --model NAME");
  if (req.packs.empty()) return fail(err, req.endpoint, std::nullopt, "scanning an endpoint needs --pack (its only evidence is probes)");
  const char* why = "endpoint scan: no model files";
  for (const char* n : {"reader", "signature", "lineage"}) out->checks.push_back({n, "not-evaluated", why, ""});
  if (!gather_probes(req, out, err)) return false;
  for (const ScanCheck& c : out->checks) out->flagged = out->flagged || c.status == "flagged";
  out->summary = {{"endpoint", req.endpoint + " (model " + req.model + ")"},
                  {"not done", "reading, hashing, signature and lineage need the model files"}};
  out->report = {{"endpoint", req.endpoint}, {"model", req.model}, {"verdict", out->flagged ? "flagged" : "pass"},
                 {"checks", checks_json(out->checks)}};
  if (out->probes) out->report["probes"] = probes::result_json(*out->probes);
  return true;
}

}  // namespace

std::string find_registry(const std::string& given) {
  if (!given.empty()) return given;
  std::string d = default_registry_path();
  std::error_code ec;
  return fs::is_regular_file(d, ec) ? d : "";
}

bool lineage_flags(const RegistryMatch& m) {
  return m.model.is_protected && (m.relation == "identity" || m.relation == "identity-renamed" ||
                                  (m.relation == "compared" && m.report.verdict == "derived"));
}

bool gather_lineage(const std::string& path, const std::string& registry, unsigned jobs, LineageEvidence* out,
                    Error* err) {
  std::error_code ec;
  if (!fs::is_regular_file(registry, ec))
    return fail(err, "", std::nullopt, "cannot open registry " + registry + ": no such file");
  auto reg = Registry::open(registry, err);
  if (!reg) return false;
  out->registry = registry;
  if (!match_registry(path, *reg, &out->matches, err, jobs)) return false;
  for (const RegistryMatch& m : out->matches)
    if (lineage_flags(m)) out->flagged.push_back(m.model.name);
  return true;
}

bool run_probe_packs(const std::vector<std::string>& specs, const ProbeTarget& t, probes::RunResult* out, Error* err) {
  std::vector<probes::Pack> packs;
  return load_packs(specs, &packs, err) && run_loaded_packs(packs, t, out, err);
}

std::string verify_command(const VerifyRequest& r) {
  std::string c = "pedigree verify " + r.model_path + " --sig " + r.bundle_path;
  if (!r.key_path.empty()) c += " --key " + r.key_path;
  for (const std::string& p : r.root_paths) c += " --cert-root " + p;
  for (const std::string& p : r.chain_paths) c += " --cert-chain " + p;
  if (!r.trust_root_path.empty())
    c += " --trust-root " + r.trust_root_path + " --identity " + r.identity + " --issuer " + r.issuer;
  return c;
}

std::string pack_summary(const probes::PackResult& p) {
  double threshold = p.kind == "identity" ? p.vendor_threshold : p.threshold;
  if (!p.watermark) {
    return fmt::format("{} pack: {} of {} trials matched, p = {} (threshold {:g})", p.kind, p.matches, p.trials,
                       pvalue_text(p.log10_p), threshold);
  }
  std::string modes;
  for (const probes::wm::WatermarkReport& r : p.watermark->reports) {
    uint64_t n = 0;
    for (const probes::wm::KeyReport& k : r.keys) n = std::max(n, k.summary.n);
    modes += fmt::format("{}{} {} tuples", modes.empty() ? "" : ", ", r.mode, n);
  }
  return fmt::format("watermark pack: {}; Bonferroni p = {} over {} test{} (threshold {:g})", modes,
                     pvalue_text(p.log10_p), p.watermark->tests, p.watermark->tests == 1 ? "" : "s", threshold);
}

bool is_gguf_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[4] = {};
  return f.read(magic, 4) && std::string(magic, 4) == "GGUF";
}

double pack_score(const probes::PackResult& p) {
  return p.trials ? static_cast<double>(p.matches) / static_cast<double>(p.trials) : 0.0;
}

bool scan_model(const ScanRequest& req, ScanOutcome* out, Error* err) {
  out->subject = req.path.empty() ? req.endpoint : req.path;
  out->name = output_name(req);
  if (req.path.empty()) return scan_endpoint(req, out, err);
  Hashed h;
  if (!read_and_hash(req, &h, err)) return false;
  out->format = h.art.format;
  out->findings = h.art.findings;
  out->checks.push_back(reader_check(h.art));
  nlohmann::json sig;
  ScanCheck sc;
  if (!signature_check(req, &sc, &sig, err)) return false;
  out->checks.push_back(sc);
  std::string registry = find_registry(req.registry);
  if (registry.empty()) {
    out->checks.push_back({"lineage", "not-evaluated", "no lineage registry (--registry, or " + default_registry_path() +
                                                           " does not exist)", ""});
  } else {
    LineageEvidence ev;
    if (!gather_lineage(req.path, registry, req.jobs, &ev, err)) return false;
    out->checks.push_back(lineage_check(ev, req.path));
    out->lineage = std::move(ev);
  }
  if (!gather_probes(req, out, err)) return false;
  for (const ScanCheck& c : out->checks) out->flagged = out->flagged || c.status == "flagged";
  out->summary = summary_lines(h.art, h.idx, h.listing, h.in.manifest_root, h.fp);
  nlohmann::json& j = out->report;
  j = model_json(h.art, h.idx, false);
  j["verdict"] = out->flagged ? "flagged" : "pass";
  j["manifest_root"] = "sha256:" + to_hex(h.in.manifest_root);
  j["manifest_bytes"] = h.listing.total_bytes;
  j["manifest_files"] = h.listing.resources.size();
  j["tensor_named_root"] = "sha256:" + to_hex(h.fp.named_root.data(), 32);
  j["tensor_content_root"] = "sha256:" + to_hex(h.fp.content_root.data(), 32);
  j["checks"] = checks_json(out->checks);
  j["signature"] = sig;
  if (out->lineage) j["lineage"] = lineage_json(*out->lineage);
  if (out->probes) j["probes"] = probes::result_json(*out->probes);
  BomOptions bo;
  bo.timestamp = req.bom_timestamp;
  bo.serial = req.bom_serial;
  if (!build_bom(h.in, bo, &out->bom, err)) return false;
  add_scan_properties(*out, &out->bom);
  return true;
}

}  // namespace pedigree::cli
