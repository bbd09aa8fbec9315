// This file implements `pedigree audit`: gather the subjects (models found
// under directories, or listed in an inventory file), skip those the store
// already has a result for, scan the rest with a bounded pool of workers
// (each result committed to the store as soon as its scan ends), then write
// the inventory reports, the per-model AI-BOMs and the fleet BOM.
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "cli/audit_cli.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/scan_core.h"
#include "fingerprint/discover.h"
#include "sbom/audit_store.h"
#include "sbom/bom.h"
#include "sbom/inventory.h"
#include "sbom/inventory_file.h"

namespace pedigree::cli {
namespace {
namespace fs = std::filesystem;

constexpr unsigned kMaxAuditJobs = 256;

std::string iso(int64_t t) {
  std::string s;
  return iso8601_utc(t, &s) ? s : std::string();
}

AuditSubject path_subject(const std::string& path) {
  std::error_code ec;
  fs::path c = fs::canonical(path, ec);
  if (ec) c = fs::absolute(path, ec).lexically_normal();
  return {"path:" + c.string(), "path", path, ""};
}

bool check_args(const AuditArgs& a, std::set<std::string>* formats, Error* err) {
  if (a.dirs.empty() && a.inventory.empty())
    return fail(err, "", std::nullopt, "audit: give directories to walk or --inventory FILE (see 'pedigree help audit')");
  for (const std::string& f : a.formats) {
    if (f != "json" && f != "csv" && f != "html")
      return fail(err, "", std::nullopt, "audit: --format '" + f + "' is not json, csv or html");
    formats->insert(f);
  }
  if (formats->empty()) *formats = {"json", "csv", "html"};
  if (a.jobs > kMaxAuditJobs)
    return fail(err, "", std::nullopt, fmt::format("audit: --jobs {} exceeds limit {}", a.jobs, kMaxAuditJobs));
  return true;
}

// Every subject of this audit, each once, sorted by id.
bool gather(const AuditArgs& a, std::vector<AuditSubject>* out, Error* err) {
  std::map<std::string, AuditSubject> by_id;
  for (const std::string& d : a.dirs) {
    std::vector<DiscoveredModel> found;
    if (!discover_models(d, &found, err)) return false;
    for (const DiscoveredModel& m : found) {
      AuditSubject s = path_subject(m.path);
      by_id.emplace(s.id, s);
    }
  }
  if (!a.inventory.empty()) {
    std::vector<InventoryEntry> entries;
    if (!read_inventory(a.inventory, &entries, err)) return false;
    for (const InventoryEntry& e : entries) {
      AuditSubject s = e.endpoint.empty() ? path_subject(e.path)
                                          : AuditSubject{"endpoint:" + e.endpoint + " model:" + e.model, "endpoint",
                                                         e.endpoint, e.model};
      by_id.emplace(s.id, s);
    }
  }
  for (auto& [id, s] : by_id) out->push_back(std::move(s));
  return true;
}

std::string str_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

uint64_t u64_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

uint64_t parameters_of(const nlohmann::json& report) {
  auto t = report.find("totals");
  return t != report.end() && t->is_object() ? u64_field(*t, "parameters") : 0;
}

// The inventory row (and the AI-BOM text, when the scan made one) of one finished scan.
void outcome_row(const ScanOutcome& o, InventoryRow* r, std::string* bom) {
  r->verdict = o.flagged ? "flagged" : "pass";
  r->format = o.format;
  for (const Finding& f : o.findings) r->findings.push_back({f.id, f.severity, f.message});
  for (const ScanCheck& c : o.checks) r->checks.push_back({c.name, c.status, c.detail});
  r->manifest_root = str_field(o.report, "manifest_root");
  r->tensor_named_root = str_field(o.report, "tensor_named_root");
  r->tensor_content_root = str_field(o.report, "tensor_content_root");
  r->files = u64_field(o.report, "manifest_files");
  r->bytes = u64_field(o.report, "manifest_bytes");
  r->parameters = parameters_of(o.report);
  if (!o.bom.is_object()) return;
  const nlohmann::json* comp = nullptr;
  if (o.bom.contains("metadata") && o.bom["metadata"].is_object() && o.bom["metadata"].contains("component"))
    comp = &o.bom["metadata"]["component"];
  if (comp && comp->is_object() && comp->contains("hashes") && (*comp)["hashes"].is_array()) r->hashes = (*comp)["hashes"];
  r->bom = "boms/" + bom_file_name(*r);
  *bom = o.bom.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// Scans one subject; a scan that cannot run becomes the subject's "error" result.
AuditResult scan_subject(const AuditSubject& s, const AuditArgs& a, bool* flagged) {
  ScanRequest req;
  (s.kind == "endpoint" ? req.endpoint : req.path) = s.subject;
  req.model = s.model;
  Error clock;
  if (source_date_epoch(&req.bom_timestamp, &clock) && req.bom_timestamp)  // reproducible: serial from the subject
    req.bom_serial = name_uuid_urn("pedigree-audit:" + s.id + "@" + std::to_string(*req.bom_timestamp));
  req.packs = a.packs;
  req.registry = a.registry;
  req.llama_server = a.llama_server;
  req.cache_dir = a.cache_dir;
  req.no_cache = a.no_cache;
  req.watermark_keys = a.watermark_keys;
  req.jobs = 1;
  InventoryRow r;
  r.id = s.id;
  r.subject = s.subject;
  r.kind = s.kind;
  r.model = s.model;
  AuditResult res;
  ScanOutcome o;
  Error err;
  if (scan_model(req, &o, &err)) {
    outcome_row(o, &r, &res.bom);
    res.status = "done";
    *flagged = o.flagged;
  } else {
    r.verdict = "error";
    r.error = err.str();
    res.status = "error";
  }
  Error clock_err;
  if (!clock_now(&res.finished_at, &clock_err)) res.finished_at = 0;
  r.scanned_at = iso(res.finished_at);
  res.row = row_to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return res;
}

// Scans `todo` with `jobs` workers, recording each result in `store` as it ends.
bool scan_all(const std::vector<AuditSubject>& todo, const AuditArgs& a, unsigned jobs, AuditStore* store,
              CountProgress* progress, Error* err) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  auto worker = [&] {
    for (size_t i; !failed && (i = next++) < todo.size();) {
      bool flagged = false;
      AuditResult r = scan_subject(todo[i], a, &flagged);
      std::lock_guard<std::mutex> lock(mu);
      if (failed) return;
      Error e;
      if (!store->record(todo[i].id, r, &e)) {
        *err = e;
        failed = true;
        return;
      }
      progress->advance(flagged, r.status == "error");
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < jobs; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
  return !failed;
}

struct Collected {
  std::vector<InventoryRow> rows;
  std::vector<std::pair<std::string, std::string>> boms;  ///< {file relative to the output dir, text}
};

// This audit's rows (and AI-BOMs) from the store.
bool collect(AuditStore* store, const std::vector<AuditSubject>& subjects, Collected* out, Error* err) {
  std::set<std::string> ids;
  for (const AuditSubject& s : subjects) ids.insert(s.id);
  bool ok = true;
  if (!store->each(
          [&](const AuditRecord& rec) {
            if (!ids.count(rec.subject.id)) return true;
            if (rec.status == "pending") {
              ok = fail(err, "", std::nullopt, "audit store " + store->path() + ": subject " + rec.subject.id + " has no result");
              return false;
            }
            InventoryRow r;
            nlohmann::json j = nlohmann::json::parse(rec.result.row, nullptr, false);
            if (!row_from_json(j, &r, err)) {
              err->message = "audit store " + store->path() + ": subject " + rec.subject.id + ": " + err->message;
              return ok = false;
            }
            if (!r.bom.empty()) out->boms.emplace_back(r.bom, rec.result.bom);
            out->rows.push_back(std::move(r));
            return true;
          },
          err))
    return false;
  sort_rows(&out->rows);
  return ok;
}

bool write_reports(const AuditArgs& a, const std::set<std::string>& formats, const Collected& c, int64_t now,
                   std::vector<std::string>* written, Error* err) {
  InventoryMeta meta;
  meta.generated_at = iso(now);
  meta.inputs = a.dirs;
  if (!a.inventory.empty()) meta.inputs.push_back(a.inventory);
  auto put = [&](const std::string& name, const std::string& text) {
    std::string p = (fs::path(a.output) / name).string();
    written->push_back(p);
    return write_output(p, text, err);
  };
  std::error_code ec;
  if (!c.boms.empty()) fs::create_directories(fs::path(a.output) / "boms", ec);
  if (ec) return fail(err, (fs::path(a.output) / "boms").string(), std::nullopt, "cannot create directory: " + ec.message());
  for (const auto& [file, text] : c.boms)
    if (!write_output((fs::path(a.output) / file).string(), text, err)) return false;
  if (formats.count("json") && !put("inventory.json", json_text(inventory_json(c.rows, meta)))) return false;
  if (formats.count("csv") && !put("inventory.csv", inventory_csv(c.rows))) return false;
  if (formats.count("html") && !put("inventory.html", inventory_html(c.rows, meta))) return false;
  FleetBomOptions bo;
  bo.name = a.name;
  bo.timestamp = now;
  nlohmann::json bom;
  return fleet_bom(c.rows, bo, &bom, err) && put("fleet.cdx.json", json_text(bom));
}

int exit_code(const std::vector<InventoryRow>& rows) {
  int code = kOk;
  for (const InventoryRow& r : rows) {
    if (r.verdict == "error") return kCannotRun;
    if (r.verdict == "flagged") code = kFlagged;
  }
  return code;
}

std::string summary_text(const Collected& c, size_t scanned_now, size_t boms, const std::vector<std::string>& written) {
  std::map<std::string, size_t> n;
  for (const InventoryRow& r : c.rows) ++n[r.verdict];
  std::string out = fmt::format("pedigree audit: {} subject{} ({} scanned now, {} from the store): {} pass, {} flagged, "
                                "{} error\n",
                                c.rows.size(), c.rows.size() == 1 ? "" : "s", scanned_now, c.rows.size() - scanned_now,
                                n["pass"], n["flagged"], n["error"]);
  for (const InventoryRow& r : c.rows)
    if (r.verdict != "pass")
      out += fmt::format("  {:<8} {}{}{}\n", r.verdict, r.subject, r.model.empty() ? "" : " model " + r.model,
                         r.error.empty() ? "" : ": " + r.error);
  for (const std::string& w : written) out += "  wrote " + w + "\n";
  if (boms) out += fmt::format("  wrote {} AI-BOM{} in {}\n", boms, boms == 1 ? "" : "s", "boms/");
  return out;
}

}  // namespace

int run_audit(const AuditArgs& a) {
  Error err;
  std::set<std::string> formats;
  int64_t now = 0;
  if (!check_args(a, &formats, &err) || !clock_now(&now, &err)) return report_error(err.message);
  std::vector<AuditSubject> subjects;
  if (!gather(a, &subjects, &err)) return report_error(err);
  if (subjects.empty()) return report_error("audit: no models found (see 'man pedigree-audit' for what counts as a model)");
  std::error_code ec;
  fs::create_directories(a.output, ec);
  if (ec) return report_error(a.output + ": cannot create directory: " + ec.message());
  std::string store_path = a.store.empty() ? (fs::path(a.output) / "audit.db").string() : a.store;
  std::unique_ptr<AuditStore> store = AuditStore::open(store_path, &err);
  uint64_t added = 0, requeued = 0;
  std::map<std::string, std::string> status;
  if (!store || !store->add(subjects, now, &added, &err) || (a.retry_errors && !store->requeue_errors(&requeued, &err)) ||
      !store->statuses(&status, &err))
    return report_error(err);
  std::vector<AuditSubject> todo;
  for (const AuditSubject& s : subjects)
    if (status[s.id] == "pending") todo.push_back(s);
  if (todo.size() < subjects.size())
    std::fprintf(stderr, "pedigree audit: resumed: %zu done, %zu to go\n", subjects.size() - todo.size(), todo.size());
  unsigned jobs = a.jobs ? a.jobs : std::max(1u, std::thread::hardware_concurrency());
  jobs = static_cast<unsigned>(std::min<size_t>(jobs, std::max<size_t>(todo.size(), 1)));
  {
    CountProgress progress("audit", "models", subjects.size(), subjects.size() - todo.size());
    if (!scan_all(todo, a, jobs, store.get(), &progress, &err)) return report_error(err);
  }
  Collected c;
  std::vector<std::string> written;
  if (!collect(store.get(), subjects, &c, &err) || !write_reports(a, formats, c, now, &written, &err))
    return report_error(err);
  std::string text = summary_text(c, todo.size(), c.boms.size(), written);
  if (!write_output("", text, &err)) return report_error(err);
  return exit_code(c.rows);
}

}  // namespace pedigree::cli
