// This file implements `pedigree registry add|list|show|remove|export|import`:
// opens the registry (default under $XDG_DATA_HOME), stamps additions with
// SOURCE_DATE_EPOCH or the system clock, prints text or JSON.
#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "cli/cli.h"
#include "sbom/bom.h"
#include "cli/lineage_cli.h"
#include "fingerprint/registry.h"

namespace pedigree::cli {
namespace {

// mkdir -p of the directories above `file`.
void make_parents(const std::string& file) {
  for (size_t i = 1; i < file.size(); ++i)
    if (file[i] == '/') ::mkdir(file.substr(0, i).c_str(), 0755);
}

std::string utc(int64_t t) {
  std::string s;
  return iso8601_utc(t, &s) ? s : "?";
}

nlohmann::json model_json(const RegistryModel& m) {
  return {{"name", m.name},
          {"license", m.license},
          {"protected", m.is_protected},
          {"manifest_root", "sha256:" + m.manifest_root},
          {"tensor_named_root", "sha256:" + m.named_root},
          {"tensor_content_root", "sha256:" + m.content_root},
          {"format", m.format},
          {"parameters", m.parameters},
          {"vocab", m.vocab},
          {"hidden", m.hidden},
          {"layers", m.layers},
          {"added_at", utc(m.added_at)}};
}

std::string model_text(const RegistryModel& m, size_t fp_bytes) {
  std::string out = fmt::format("name:                {}\n", m.name);
  out += fmt::format("license:             {}\n", m.license.empty() ? "-" : m.license);
  out += fmt::format("protected:           {}\n", m.is_protected ? "yes" : "no");
  out += fmt::format("format:              {}\n", m.format);
  out += fmt::format("parameters:          {}\n", group_digits(m.parameters));
  out += fmt::format("shape:               vocab {}, hidden {}, {} layers\n", m.vocab, m.hidden, m.layers);
  out += fmt::format("manifest root:       sha256:{}\n", m.manifest_root);
  out += fmt::format("tensor named root:   sha256:{}\n", m.named_root);
  out += fmt::format("tensor content root: sha256:{}\n", m.content_root);
  out += fmt::format("fingerprint:         {} bytes\n", fp_bytes);
  out += fmt::format("added:               {}\n", utc(m.added_at));
  return out;
}

int do_add(Registry& reg, const RegistryArgs& a) {
  if (a.name.empty()) return report_error("registry add: --name is required");
  Error err;
  bool taken = false;  // checked again inside the insert transaction
  if (!reg.contains(a.name, &taken, &err)) return report_error(err);
  if (taken) return report_error("model '" + a.name + "' is already registered");
  RegistryEntry e;
  if (!describe_model(a.path, &e, &err, a.jobs)) return report_error("cannot register: " + err.str());
  e.model.name = a.name;
  e.model.license = a.license;
  e.model.is_protected = a.is_protected;
  if (!clock_now(&e.model.added_at, &err) || !reg.add(e, &err)) return report_error(err);
  std::printf("registered %s (%s parameters, fingerprint %zu bytes)\n", a.name.c_str(),
              group_digits(e.model.parameters).c_str(), e.fingerprint.size());
  return kOk;
}

int do_list(Registry& reg, const RegistryArgs& a) {
  std::vector<RegistryModel> ms;
  Error err;
  if (!reg.list(&ms, &err)) return report_error(err);
  std::string text;
  if (a.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const RegistryModel& m : ms) arr.push_back(model_json(m));
    text = json_text({{"registry", reg.path()}, {"models", arr}});
  } else {
    text = fmt::format("{:<24} {:>9} {:<14} {:>16} {:<12}  {}\n", "name", "protected", "license", "parameters",
                       "format", "added");
    for (const RegistryModel& m : ms)
      text += fmt::format("{:<24} {:>9} {:<14} {:>16} {:<12}  {}\n", m.name, m.is_protected ? "yes" : "no",
                          m.license.empty() ? "-" : m.license, group_digits(m.parameters), m.format, utc(m.added_at));
  }
  return write_output("", text, &err) ? kOk : report_error(err);
}

int do_show(Registry& reg, const RegistryArgs& a) {
  RegistryEntry e;
  Error err;
  if (!reg.get(a.name, &e, &err)) return report_error(err);
  nlohmann::json j = model_json(e.model);
  j["fingerprint_bytes"] = e.fingerprint.size();
  std::string text = a.json ? json_text(j) : model_text(e.model, e.fingerprint.size());
  return write_output("", text, &err) ? kOk : report_error(err);
}

}  // namespace

std::string default_registry_path() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  const char* home = std::getenv("HOME");
  std::string base = xdg && *xdg ? xdg : std::string(home ? home : ".") + "/.local/share";
  return base + "/pedigree/registry.db";
}

int run_registry(const RegistryArgs& a) {
  std::string db = a.db;
  if (db.empty()) {
    db = default_registry_path();
    make_parents(db);
  }
  Error err;
  auto reg = Registry::open(db, &err);
  if (!reg) return report_error(err);
  if (a.action == "add") return do_add(*reg, a);
  if (a.action == "list") return do_list(*reg, a);
  if (a.action == "show") return do_show(*reg, a);
  if (a.action == "remove") {
    if (!reg->remove(a.name, &err)) return report_error(err);
    std::printf("removed %s\n", a.name.c_str());
    return kOk;
  }
  if (a.action == "export") {
    if (!reg->export_to(a.path, &err)) return report_error(err);
    std::printf("exported %s to %s\n", db.c_str(), a.path.c_str());
    return kOk;
  }
  if (a.action == "import") {
    if (!reg->import_from(a.path, &err)) return report_error(err);
    std::printf("imported %s into %s\n", a.path.c_str(), db.c_str());
    return kOk;
  }
  return report_error("registry: give a subcommand: add, list, show, remove, export or import");
}

}  // namespace pedigree::cli
