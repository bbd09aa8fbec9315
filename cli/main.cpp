// This file implements the `pedigree` entry point: build the command line,
// catch unknown subcommands early (suggesting the nearest), parse, dispatch to
// the subcommand, and map every outcome to exit code 0, 1 or 2.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/audit_cli.h"
#include "cli/bom_cli.h"
#include "cli/check_cli.h"
#include "cli/cli.h"
#include "cli/lineage_cli.h"
#include "cli/probe_cli.h"

namespace pedigree::cli {
namespace {

const std::vector<std::string> kCommands = {"scan", "inspect", "hash", "bom", "sign", "verify", "lineage", "registry", "probe", "check", "audit", "help"};

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

int unknown_command(const std::string& name) {
  std::string best;
  size_t best_d = 99;
  for (const std::string& c : kCommands) {
    size_t d = edit_distance(name, c);
    if (d < best_d) best_d = d, best = c;
  }
  std::string msg = "unknown command '" + name + "'";
  if (best_d <= std::max<size_t>(2, name.size() / 3)) msg += "; did you mean '" + best + "'?";
  return report_error(msg + " (see 'pedigree --help')");
}

struct Args {
  ScanArgs scan;
  InspectArgs inspect;
  HashArgs hash;
  BomArgs bom;
  BomScoreArgs bom_score;
  BomDiffArgs bom_diff;
  SignArgs sign;
  VerifyArgs verify;
  BomValidateArgs bom_validate;
  BomSignArgs bom_sign;
  BomVerifyArgs bom_verify;
  LineageArgs lineage;
  ProbeArgs probe;
  RegistryArgs registry;
  std::string global_registry;  ///< top-level --registry, for `registry` and `lineage --registry`
  CheckArgs check;
  AuditArgs audit;
  std::string help_topic;
};

void add_scan(CLI::App& app, Args& a) {
  CLI::App* c = app.add_subcommand(
      "scan", "Detect, inspect, hash, verify, look up lineage and probe a model; write the AI-BOM; print a verdict");
  c->add_option("PATH", a.scan.path, "Model file or directory (or --endpoint)");
  c->add_option("--endpoint", a.scan.endpoint, "OpenAI-compatible endpoint URL to probe (with --model and --pack)");
  c->add_option("--model", a.scan.model, "Model name at the endpoint (API key only from $PEDIGREE_API_KEY)");
  c->add_option("--pack", a.scan.packs, "Probe pack: built-in id or pack file (repeatable)")->allow_extra_args(false);
  c->add_flag("--json", a.scan.json, "Print the JSON report instead of the summary");
  c->add_option("-o,--output", a.scan.output_dir, "Write DIR/NAME.cdx.json (AI-BOM) and DIR/NAME.scan.json (report)");
  c->add_option("--sig", a.scan.sig, "Signature bundle (default: model.sig beside the model)");
  c->add_option("--key", a.scan.key, "Verify the signature with this public key (PEM/DER)");
  c->add_option("--cert-root", a.scan.cert_root, "Verify the signature's certificate chain to this root (repeatable)")
      ->allow_extra_args(false);
  c->add_option("--cert-chain", a.scan.cert_chain, "Intermediate certificates not in the bundle (repeatable)")
      ->allow_extra_args(false);
  c->add_option("--trust-root", a.scan.trust_root, "Verify a keyless signature offline with this Sigstore trusted_root.json");
  c->add_option("--identity", a.scan.identity, "Keyless: expected certificate identity (email or URI)");
  c->add_option("--issuer", a.scan.issuer, "Keyless: expected OIDC issuer");
  c->add_option("--registry", a.scan.registry, "Lineage registry (default: the default registry when it exists)");
  c->add_option("--llama-server", a.scan.llama_server, "llama-server binary to probe a GGUF (default $PEDIGREE_LLAMA_SERVER, else PATH)");
  c->add_option("--cache-dir", a.scan.cache_dir, "Probe response cache directory");
  c->add_flag("--no-cache", a.scan.no_cache, "Do not read or write the probe response cache");
  c->add_option("--watermark-key", a.scan.watermark_keys, "Watermark key file for the watermark packs (repeatable; never printed)")
      ->allow_extra_args(false);
  c->add_option("--concurrency", a.scan.concurrency, "Probe requests in flight (default 4, at most 64)");
  c->add_option("--declared", a.scan.declared, "The model's declared vendor (identity packs never flag it)");
  c->add_option("--serial", a.scan.serial, "AI-BOM serialNumber (urn:uuid:...; default random)");
  c->add_option("-j,--jobs", a.scan.jobs, "Worker threads (default: all cores)");
}

void add_inspect(CLI::App& app, Args& a) {
  CLI::App* c = app.add_subcommand("inspect", "Show format, metadata, tensors, totals and findings of a model");
  c->add_option("PATH", a.inspect.path, "Model file or directory")->required();
  c->add_flag("--json", a.inspect.json, "Print JSON (includes every tensor)");
  c->add_flag("--all-tensors", a.inspect.all_tensors, "List every tensor (text output shows 40)");
}

void add_hash(CLI::App& app, Args& a) {
  CLI::App* c = app.add_subcommand("hash", "Compute OMS v1.0 file digests and manifest root (and tensor digests)");
  c->add_option("PATH", a.hash.path, "Model file or directory")->required();
  c->add_option("--algorithm", a.hash.algorithm, "sha256 (default) or blake2b");
  c->add_option("--method", a.hash.method, "files (default) or shards");
  c->add_option("--shard-size", a.hash.shard_size, "Bytes per shard for --method shards (default 1000000000)");
  c->add_option("--ignore-paths", a.hash.ignore_paths, "Paths relative to the model to leave out (repeatable)");
  c->add_flag("--allow-symlinks", a.hash.allow_symlinks, "Follow symbolic links instead of refusing them");
  c->add_flag("--tensors", a.hash.tensors, "Also compute tensor digests and the named and content roots");
  c->add_flag("--json", a.hash.json, "Print JSON");
  c->add_option("-o,--output", a.hash.output, "Write to FILE (atomically) instead of stdout");
  c->add_option("-j,--jobs", a.hash.jobs, "Worker threads (default: all cores)");
}

void add_bom_validate(CLI::App* bom, Args& a) {
  CLI::App* c = bom->add_subcommand("validate", "Validate a CycloneDX BOM against its specVersion's schema and more");
  c->add_option("FILE", a.bom_validate.path, "CycloneDX JSON document")->required();
  c->add_flag("--json", a.bom_validate.json, "Print the result as JSON");
}

void add_bom_sign(CLI::App* bom, Args& a) {
  CLI::App* c = bom->add_subcommand("sign", "Sign a CycloneDX JSON BOM with JSF (JSON Signature Format)");
  c->add_option("FILE", a.bom_sign.file, "CycloneDX JSON BOM")->required();
  c->add_option("--key", a.bom_sign.keys, "PEM private key (EC P-256/P-384/P-521, Ed25519 or RSA); repeatable")
      ->required()
      ->allow_extra_args(false);
  c->add_option("--mode", a.bom_sign.mode, "signers (default with several keys) or chain; one key: single signature");
  c->add_flag("--append", a.bom_sign.append, "Add the keys to the BOM's existing signers or chain");
  c->add_option("--cert", a.bom_sign.certs, "PEM certificate of each --key, in --key order (writes certificatePath)")
      ->allow_extra_args(false);
  c->add_option("--chain", a.bom_sign.chain, "PEM intermediate certificates for the certificatePath (repeatable)")
      ->allow_extra_args(false);
  c->add_option("--password-file", a.bom_sign.password_file,
                "File whose first line decrypts the keys (else $PEDIGREE_KEY_PASSWORD)");
  c->add_option("--algorithm", a.bom_sign.algorithm, "PS256 for RSA-PSS (default for RSA keys: RS256)");
  c->add_option("-o,--output", a.bom_sign.output, "Write the signed BOM to FILE (atomically) instead of stdout");
}

void add_bom_verify(CLI::App* bom, Args& a) {
  CLI::App* c = bom->add_subcommand("verify", "Verify every JSF signature of a CycloneDX JSON BOM");
  c->add_option("FILE", a.bom_verify.file, "Signed CycloneDX JSON BOM")->required();
  c->add_option("--key", a.bom_verify.keys, "Public key (PEM or DER) that must be among the signers; repeatable")
      ->allow_extra_args(false);
  c->add_option("--cert-root", a.bom_verify.cert_roots, "PEM trusted root(s) for certificatePath; repeatable")
      ->allow_extra_args(false);
  c->add_flag("--json", a.bom_verify.json, "Print the result as JSON");
}

// `bom PATH` generates; nested subcommands (validate, score, diff) work on BOM files.
void add_bom(CLI::App& app, Args& a) {
  CLI::App* c = app.add_subcommand("bom", "Generate a CycloneDX AI-BOM for a model; score or diff AI-BOMs");
  c->add_option("PATH", a.bom.path, "Model file or directory");
  c->add_option("-o,--output", a.bom.output, "Write the BOM to FILE (atomically) instead of stdout");
  c->add_option("--spec-version", a.bom.spec_version, "CycloneDX spec version: 1.6 (default) or 1.7");
  c->add_option("--name", a.bom.name, "Model name (default: from the model's metadata or path)");
  c->add_option("--version", a.bom.version, "Model version (default: from the metadata when known)");
  c->add_option("--purl", a.bom.purl, "Package URL of the model, e.g. pkg:huggingface/ORG/NAME@REVISION");
  c->add_option("--supplier", a.bom.supplier, "Supplier (organization) of the model");
  c->add_option("--base-model", a.bom.base_models, "Base model (ORG/NAME[@REV], URL or purl); repeatable")
      ->allow_extra_args(false);
  c->add_option("--serial", a.bom.serial, "Serial number urn:uuid:... (default: random v4 UUID)");
  c->add_option("-j,--jobs", a.bom.jobs, "Worker threads (default: all cores)");
  CLI::App* s = c->add_subcommand("score", "Completeness score of an AI-BOM per field group, with what is missing");
  s->add_option("FILE", a.bom_score.file, "CycloneDX JSON BOM")->required();
  s->add_flag("--json", a.bom_score.json, "Print JSON");
  CLI::App* d = c->add_subcommand("diff", "What changed between two AI-BOMs (exit 1 when they differ)");
  d->add_option("A", a.bom_diff.a, "CycloneDX JSON BOM (before)")->required();
  d->add_option("B", a.bom_diff.b, "CycloneDX JSON BOM (after)")->required();
  d->add_flag("--json", a.bom_diff.json, "Print JSON");
  add_bom_validate(c, a);
  add_bom_sign(c, a);
  add_bom_verify(c, a);
}

int dispatch_bom(CLI::App& bom, Args& a) {
  if (bom.got_subcommand("validate")) return run_bom_validate(a.bom_validate);
  if (bom.got_subcommand("sign")) return run_bom_sign(a.bom_sign);
  if (bom.got_subcommand("verify")) return run_bom_verify(a.bom_verify);
  if (bom.got_subcommand("score")) return run_bom_score(a.bom_score);
  if (bom.got_subcommand("diff")) return run_bom_diff(a.bom_diff);
  return run_bom(a.bom);
}

void add_sign(CLI::App& app, Args& a) {
  CLI::App* c = app.add_subcommand("sign", "Sign a model into an OpenSSF Model Signing v1.0 bundle (key or certificate)");
  c->add_option("PATH", a.sign.hash.path, "Model file or directory")->required();
  c->add_option("--key", a.sign.key, "PEM private key (ECDSA P-256/P-384/P-521; Ed25519 as an extension)")->required();
  c->add_option("--password-file", a.sign.password_file, "File whose first line decrypts the key (else $PEDIGREE_KEY_PASSWORD)");
  c->add_option("--cert", a.sign.cert, "PEM signing certificate for the key (certificate method)");
  c->add_option("--chain", a.sign.chain, "PEM intermediate certificates, leaf's issuer first (repeatable; needs --cert)");
  c->add_option("-o,--output", a.sign.hash.output, "Bundle file (default: model.sig in the model directory)");
  c->add_option("--algorithm", a.sign.hash.algorithm, "sha256 (default) or blake2b");
  c->add_option("--method", a.sign.hash.method, "files (default) or shards");
  c->add_option("--shard-size", a.sign.hash.shard_size, "Bytes per shard for --method shards (default 1000000000)");
  c->add_option("--ignore-paths", a.sign.hash.ignore_paths, "Paths relative to the model to leave out (repeatable)");
  c->add_flag("--allow-symlinks", a.sign.hash.allow_symlinks, "Follow symbolic links instead of refusing them");
  c->add_option("-j,--jobs", a.sign.hash.jobs, "Worker threads (default: all cores)");
}

void add_verify(CLI::App& app, Args& a) {
  CLI::App* c = app.add_subcommand("verify", "Verify a model against an OpenSSF Model Signing bundle (key, certificate or Sigstore keyless)");
  c->add_option("PATH", a.verify.path, "Model file or directory")->required();
  c->add_option("--sig", a.verify.sig, "Bundle file (default: model.sig in the model directory)");
  c->add_option("--key", a.verify.key, "PEM or DER public key (key method)");
  c->add_option("--cert-root", a.verify.cert_root, "PEM trusted root certificate(s) (certificate method; repeatable)");
  c->add_option("--cert-chain", a.verify.cert_chain, "PEM intermediate certificates not in the bundle (repeatable)");
  c->add_option("--trust-root", a.verify.trust_root, "Sigstore trusted root JSON (keyless method; offline)");
  c->add_option("--identity", a.verify.identity, "Expected signer identity: certificate SAN email or URI (keyless)");
  c->add_option("--issuer", a.verify.issuer, "Expected OIDC issuer URL in the certificate (keyless)");
  c->add_flag("--ignore-unsigned-files", a.verify.ignore_unsigned_files, "Accept files on disk that the signature does not list");
  c->add_flag("--at-signing-time", a.verify.at_signing_time, "Check certificate validity at the leaf's notBefore (reference rule)");
  c->add_flag("--json", a.verify.json, "Print a JSON result");
  c->add_option("-j,--jobs", a.verify.jobs, "Worker threads (default: all cores)");
}

void add_lineage(CLI::App& app, Args& a) {
  CLI::App* c = app.add_subcommand(
      "lineage", "Is B derived from A? Permutation-robust weight similarity (exit 1 when derived)");
  c->add_option("A", a.lineage.a, "Model file or directory, or a stored lineage fingerprint file")->required();
  c->add_option("B", a.lineage.b, "Model or fingerprint file, or directory (or use --registry)");
  c->add_option("--registry", a.lineage.registry,
                "Compare A with every model of registry DB (default: the default registry); exit 1 when A is "
                "identical to or derived from a protected model")
      ->expected(0, 1);
  c->add_flag("--exact", a.lineage.exact, "Compare the full weights (slow for large models) instead of fingerprints");
  c->add_option("--save-fingerprint", a.lineage.save_fingerprint,
                "Write A's lineage fingerprint to FILE (atomically) instead of comparing");
  c->add_flag("--json", a.lineage.json, "Print JSON");
  c->add_option("-j,--jobs", a.lineage.jobs, "Worker threads (default: all cores)");
}

void add_probe(CLI::App& app, Args& a) {
  CLI::App* c = app.add_subcommand(
      "probe", "Run behavioural probe packs (canary, trigger, identity, watermark) against a model (exit 1 when flagged)");
  c->add_option("MODEL", a.probe.gguf, "Local GGUF model, served by llama-server (instead of --endpoint)");
  c->add_option("--endpoint", a.probe.endpoint, "OpenAI-compatible endpoint URL, e.g. http://127.0.0.1:8080/v1");
  c->add_option("--model", a.probe.model, "Model name at the endpoint (API key only from $PEDIGREE_API_KEY)");
  c->add_option("--pack", a.probe.packs, "Built-in pack id or pack file (repeatable)")->allow_extra_args(false);
  c->add_option("--watermark-key", a.probe.watermark_keys,
                "Watermark key file for watermark packs (repeatable; several keys: Bonferroni)")
      ->allow_extra_args(false);
  c->add_flag("--json", a.probe.json, "Print JSON (every probe, per-vendor statistics)");
  c->add_option("-o,--output", a.probe.output, "Write the result to FILE (atomically) instead of stdout");
  c->add_option("--concurrency", a.probe.concurrency, "Requests in flight (default 4, at most 64)");
  c->add_flag("--no-cache", a.probe.no_cache, "Do not read or write the response cache");
  c->add_option("--cache-dir", a.probe.cache_dir, "Response cache directory (default ${XDG_CACHE_HOME:-~/.cache}/pedigree/responses)");
  c->add_option("--llama-server", a.probe.llama_server, "llama-server binary for a GGUF model (default $PEDIGREE_LLAMA_SERVER, else PATH)");
  c->add_option("--declared", a.probe.declared, "The model's declared vendor (identity packs never flag it)");
  c->add_flag("--list-packs", a.probe.list_packs, "List the built-in packs and exit");
  c->add_option("--validate-pack", a.probe.validate_pack, "Check a pack file and exit (2 naming the bad field)");
}

// `registry ACTION ...`; --registry DB is accepted before or after the action.
void add_registry(CLI::App& app, Args& a) {
  CLI::App* c = app.add_subcommand("registry", "Keep a registry of known models and their lineage fingerprints");
  c->add_option("--registry", a.registry.db,
                "Registry database (default: ${XDG_DATA_HOME:-~/.local/share}/pedigree/registry.db)");
  c->require_subcommand(1);
  auto sub = [&](const char* name, const char* what) {
    CLI::App* s = c->add_subcommand(name, what);
    s->fallthrough();
    s->callback([&a, name] { a.registry.action = name; });
    return s;
  };
  CLI::App* add = sub("add", "Register the model at PATH under NAME (digests and lineage fingerprint)");
  add->add_option("PATH", a.registry.path, "Model file or directory")->required();
  add->add_option("--name", a.registry.name, "Unique name of the model")->required();
  add->add_option("--license", a.registry.license, "Licence of the model (e.g. an SPDX id)");
  add->add_flag("--protected", a.registry.is_protected, "Flag models derived from this one (lineage exit 1)");
  add->add_option("-j,--jobs", a.registry.jobs, "Worker threads (default: all cores)");
  sub("list", "List registered models")->add_flag("--json", a.registry.json, "Print JSON");
  CLI::App* show = sub("show", "Show one registered model");
  show->add_option("NAME", a.registry.name, "Registered name")->required();
  show->add_flag("--json", a.registry.json, "Print JSON");
  sub("remove", "Remove a registered model")->add_option("NAME", a.registry.name, "Registered name")->required();
  sub("export", "Write a consistent SQLite copy of the registry to FILE (atomically)")
      ->add_option("FILE", a.registry.path, "Output file")
      ->required();
  sub("import", "Add every model of the registry FILE (all or nothing)")
      ->add_option("FILE", a.registry.path, "Registry file (from export)")
      ->required();
}

void add_check(CLI::App& app, Args& a) {
  CLI::App* c = app.add_subcommand(
      "check", "CI gate: evaluate a YAML policy on a model (exit 1 on a violation); text, JSON, SARIF or JUnit");
  c->add_option("PATH", a.check.path, "Model file or directory")->required();
  c->add_option("--policy", a.check.policy, "Policy file (YAML; see docs/policy.md)")->required();
  c->add_option("--format", a.check.format, "Output format: text (default), json, sarif (2.1.0) or junit");
  c->add_option("-o,--output", a.check.output, "Write the report to FILE (atomically) instead of stdout");
  c->add_option("--sig", a.check.sig, "Signature bundle (default: model.sig beside the model)");
  c->add_option("--registry", a.check.registry,
                "Lineage registry when the policy names none (default: the default registry when it exists)");
  c->add_option("--endpoint", a.check.endpoint, "OpenAI-compatible endpoint to run the policy's probe packs against");
  c->add_option("--model", a.check.model, "Model name at the endpoint (API key only from $PEDIGREE_API_KEY)");
  c->add_option("--llama-server", a.check.llama_server, "llama-server binary to probe a GGUF PATH (default $PEDIGREE_LLAMA_SERVER, else PATH)");
  c->add_option("--cache-dir", a.check.cache_dir, "Probe response cache directory");
  c->add_flag("--no-cache", a.check.no_cache, "Do not read or write the probe response cache");
  c->add_option("--watermark-key", a.check.watermark_keys, "Watermark key file for the watermark packs (repeatable; never printed)")
      ->allow_extra_args(false);
  c->add_option("-j,--jobs", a.check.jobs, "Worker threads (default: all cores)");
}

void add_audit(CLI::App& app, Args& a) {
  CLI::App* c = app.add_subcommand(
      "audit", "Scan a fleet of models (directories or an inventory) into a resumable store; JSON, CSV, HTML reports "
               "and a fleet CycloneDX BOM");
  c->add_option("DIR", a.audit.dirs, "Directory (or model file) to walk for models; repeatable");
  c->add_option("--inventory", a.audit.inventory, "File listing model paths and endpoints, one per line");
  c->add_option("-j,--jobs", a.audit.jobs, "Models scanned at once (default: all cores)");
  c->add_option("--format", a.audit.formats, "Reports to write: json, csv, html (repeatable or comma-separated; "
                                              "default all)")
      ->delimiter(',')
      ->allow_extra_args(false);
  c->add_option("-o,--output", a.audit.output, "Output directory (default pedigree-audit)");
  c->add_option("--store", a.audit.store, "Audit store database (default: OUTPUT/audit.db)");
  c->add_option("--pack", a.audit.packs, "Probe pack for each scan (built-in id or file; repeatable)")
      ->allow_extra_args(false);
  c->add_option("--registry", a.audit.registry, "Lineage registry database for each scan");
  c->add_option("--llama-server", a.audit.llama_server, "llama-server binary for probing GGUF models");
  c->add_option("--cache-dir", a.audit.cache_dir, "Probe response cache directory");
  c->add_flag("--no-cache", a.audit.no_cache, "Do not read or write the probe response cache");
  c->add_option("--watermark-key", a.audit.watermark_keys, "Watermark key file for the watermark packs (repeatable; never printed)")
      ->allow_extra_args(false);
  c->add_option("--name", a.audit.name, "Name of the fleet in the fleet BOM (default 'model fleet')");
  c->add_flag("--retry-errors", a.audit.retry_errors, "Scan again the subjects whose earlier scan failed");
}

void add_help(CLI::App& app, Args& a) {
  CLI::App* c = app.add_subcommand("help", "Show help for a command");
  c->add_option("COMMAND", a.help_topic, "Command to describe");
}

int dispatch(CLI::App& app, Args& a) {
  if (app.got_subcommand("scan")) {
    if (a.scan.registry.empty()) a.scan.registry = a.global_registry;
    return run_scan(a.scan);
  }
  if (app.got_subcommand("inspect")) return run_inspect(a.inspect);
  if (app.got_subcommand("hash")) return run_hash(a.hash);
  if (app.got_subcommand("bom")) return dispatch_bom(*app.get_subcommand("bom"), a);
  if (app.got_subcommand("sign")) return run_sign(a.sign);
  if (app.got_subcommand("verify")) return run_verify(a.verify);
  if (app.got_subcommand("probe")) return run_probe(a.probe);
  if (app.got_subcommand("lineage")) {
    a.lineage.use_registry = app.get_subcommand("lineage")->count("--registry") > 0;
    if (a.lineage.registry.empty()) a.lineage.registry = a.global_registry;
    return run_lineage(a.lineage);
  }
  if (app.got_subcommand("registry")) {
    if (a.registry.db.empty()) a.registry.db = a.global_registry;
    return run_registry(a.registry);
  }
  if (app.got_subcommand("check")) {
    if (a.check.registry.empty()) a.check.registry = a.global_registry;
    return run_check(a.check);
  }
  if (app.got_subcommand("audit")) return run_audit(a.audit);
  if (app.got_subcommand("help")) {
    if (a.help_topic.empty()) {
      std::fputs(app.help().c_str(), stdout);
      return kOk;
    }
    if (std::find(kCommands.begin(), kCommands.end(), a.help_topic) == kCommands.end())
      return unknown_command(a.help_topic);
    std::fputs(app.get_subcommand(a.help_topic)->help().c_str(), stdout);
    return kOk;
  }
  std::fputs(app.help().c_str(), stderr);
  return kCannotRun;
}

}  // namespace
}  // namespace pedigree::cli

int main(int argc, char** argv) {
  using namespace pedigree::cli;
  if (argc > 1 && argv[1][0] != '-' &&
      std::find(kCommands.begin(), kCommands.end(), std::string(argv[1])) == kCommands.end())
    return unknown_command(argv[1]);
  CLI::App app("pedigree: tell what an open-weight model really is (fingerprints, AI-BOMs, signatures)", "pedigree");
  app.set_version_flag("--version", "pedigree " PEDIGREE_VERSION);
  app.require_subcommand(0, 1);
  app.footer("Exit codes: 0 success and nothing flagged; 1 a check failed or the model is flagged; 2 could not run.\n"
             "See 'pedigree help COMMAND' and man pedigree(1).");
  Args a;
  add_scan(app, a);
  add_inspect(app, a);
  add_hash(app, a);
  add_bom(app, a);
  add_sign(app, a);
  add_verify(app, a);
  add_lineage(app, a);
  add_probe(app, a);
  add_registry(app, a);
  app.add_option("--registry", a.global_registry,
                 "Registry database for 'registry' and 'lineage --registry' (default: "
                 "${XDG_DATA_HOME:-~/.local/share}/pedigree/registry.db)");
  add_check(app, a);
  add_audit(app, a);
  add_help(app, a);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion&) {
    std::puts("pedigree " PEDIGREE_VERSION);
    return kOk;
  } catch (const CLI::ParseError& e) {
    return report_error(std::string(e.what()) + " (see 'pedigree --help')");
  }
  return dispatch(app, a);
}
