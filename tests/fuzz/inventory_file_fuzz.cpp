// This file implements the libFuzzer target for `pedigree audit --inventory`
// files: bytes -> parse_inventory; when it parses, the entries are rendered
// as inventory rows (JSON, CSV, HTML, fleet BOM). Must never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sbom/inventory.h"
#include "sbom/inventory_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::vector<pedigree::InventoryEntry> entries;
  pedigree::Error err;
  if (!pedigree::parse_inventory(bytes, "fuzz.txt", &entries, &err)) return 0;
  std::vector<pedigree::InventoryRow> rows;
  for (size_t i = 0; i < entries.size() && i < 64; ++i) {
    pedigree::InventoryRow r;
    const pedigree::InventoryEntry& e = entries[i];
    r.id = std::to_string(i) + (e.endpoint.empty() ? "path:" + e.path : "endpoint:" + e.endpoint + " model:" + e.model);
    r.kind = e.endpoint.empty() ? "path" : "endpoint";
    r.subject = e.endpoint.empty() ? e.path : e.endpoint;
    r.model = e.model;
    r.verdict = i % 3 == 0 ? "error" : "pass";
    r.error = r.verdict == "error" ? "cannot read: " + r.subject : "";
    r.findings = {{"id-" + e.model, "warning", r.subject}};
    rows.push_back(r);
  }
  pedigree::sort_rows(&rows);
  pedigree::InventoryMeta meta;
  (void)pedigree::inventory_json(rows, meta).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)pedigree::inventory_csv(rows);
  (void)pedigree::inventory_html(rows, meta);
  for (const pedigree::InventoryRow& r : rows) (void)pedigree::bom_file_name(r);
  nlohmann::json bom;
  (void)pedigree::fleet_bom(rows, pedigree::FleetBomOptions{}, &bom, &err);
  return 0;
}
