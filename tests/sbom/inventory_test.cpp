// Tests the audit inventory renderers: row JSON round trip and its exact
// errors, RFC 4180 CSV quoting, the self-contained HTML page (data block
// escaping, no external resources) and the fleet BOM against the CycloneDX schema.
#include "sbom/inventory.h"

#include <gtest/gtest.h>

#include "sbom/bom.h"
#include "sbom/validate.h"

namespace pedigree {
namespace {

InventoryRow sample_row() {
  InventoryRow r;
  r.id = "path:/fleet/a.gguf";
  r.subject = "fleet/a.gguf";
  r.kind = "path";
  r.verdict = "flagged";
  r.format = "gguf";
  r.findings = {{"unsafe-import", "error", "imports os.system"}, {"unsafe-import", "error", "imports posix.system"},
                {"odd-metadata", "warning", "x"}};
  r.checks = {{"reader", "flagged", "1 error finding"}, {"signature", "not-evaluated", ""}};
  r.manifest_root = "sha256:" + std::string(64, 'a');
  r.tensor_named_root = "sha256:" + std::string(64, 'b');
  r.tensor_content_root = "sha256:" + std::string(64, 'c');
  r.parameters = 12;
  r.files = 1;
  r.bytes = 345;
  r.scanned_at = "2023-11-14T22:13:20Z";
  return r;
}

InventoryRow error_row() {
  InventoryRow r;
  r.id = "endpoint:http://127.0.0.1:8080/v1 model:m";
  r.subject = "http://127.0.0.1:8080/v1";
  r.kind = "endpoint";
  r.model = "m";
  r.verdict = "error";
  r.error = "http://127.0.0.1:8080/v1: scanning an endpoint is not implemented yet";
  r.scanned_at = "2023-11-14T22:13:20Z";
  return r;
}

TEST(Inventory, RowJsonRoundTrips) {
  InventoryRow r = sample_row(), back;
  Error err;
  ASSERT_TRUE(row_from_json(row_to_json(r), &back, &err)) << err.str();
  EXPECT_EQ(row_to_json(back), row_to_json(r));
  EXPECT_EQ(back.findings.size(), 3u);
  EXPECT_EQ(back.checks[1].status, "not-evaluated");
  EXPECT_EQ(back.checks[0].detail, "1 error finding");
}

TEST(Inventory, RowFromJsonNamesTheBadField) {
  nlohmann::json j = row_to_json(sample_row());
  j["parameters"] = -1;
  InventoryRow r;
  Error err;
  EXPECT_FALSE(row_from_json(j, &r, &err));
  EXPECT_EQ(err.str(), "row: 'parameters' is not a non-negative integer");
  j = row_to_json(sample_row());
  j.erase("verdict");
  EXPECT_FALSE(row_from_json(j, &r, &err));
  EXPECT_EQ(err.str(), "row: 'verdict' is not a string");
  j = row_to_json(sample_row());
  j["findings"] = nlohmann::json::array({{{"id", "x"}}});
  InventoryRow r2;
  EXPECT_FALSE(row_from_json(j, &r2, &err));
  EXPECT_EQ(err.str(), "row: a finding is not {id, severity, message}");
}

TEST(Inventory, JsonSummarizesVerdictsFormatsAndFindings) {
  InventoryMeta meta;
  meta.generated_at = "2023-11-14T22:13:20Z";
  meta.inputs = {"fleet"};
  nlohmann::json j = inventory_json({sample_row(), error_row()}, meta);
  EXPECT_EQ(j["summary"], (nlohmann::json{{"subjects", 2}, {"pass", 0}, {"flagged", 1}, {"error", 1}}));
  EXPECT_EQ(j["formats"], (nlohmann::json{{"gguf", 1}}));
  EXPECT_EQ(j["findings"]["unsafe-import"], (nlohmann::json{{"findings", 2}, {"models", 1}, {"severity", "error"}}));
  EXPECT_EQ(j["findings"]["odd-metadata"]["severity"], "warning");
  EXPECT_EQ(j["subjects"].size(), 2u);
  EXPECT_EQ(j["inputs"], nlohmann::json::array({"fleet"}));
}

TEST(Inventory, CsvQuotesPerRfc4180AndDefusesFormulas) {
  InventoryRow r = sample_row();
  r.subject = "fleet/a,\"b\"\nc.gguf";
  InventoryRow e = error_row();
  e.model = "=cmd|' /C calc'!A0";
  std::string csv = inventory_csv({r, e});
  size_t first = csv.find("\r\n");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(csv.substr(0, first),
            "subject,kind,model,verdict,format,parameters,files,bytes,findings,finding_ids,manifest_root,"
            "tensor_named_root,tensor_content_root,bom,error,scanned_at");
  EXPECT_NE(csv.find("\r\n\"fleet/a,\"\"b\"\"\nc.gguf\",path,,flagged,gguf,12,1,345,3,odd-metadata;unsafe-import,"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",endpoint,'=cmd|' /C calc'!A0,error,"), std::string::npos) << csv;
  EXPECT_EQ(csv.substr(csv.size() - 2), "\r\n");
}

TEST(Inventory, HtmlIsSelfContainedAndEscapesTheDataBlock) {
  InventoryRow r = sample_row();
  r.subject = "fleet/</script><script>alert(1)</script><!--.gguf";
  InventoryMeta meta;
  meta.generated_at = "2023-11-14T22:13:20Z";
  std::string html = inventory_html({r}, meta);
  const std::string open = "<script type=\"application/json\" id=\"audit-data\">\n";
  size_t b = html.find(open);
  ASSERT_NE(b, std::string::npos);
  size_t e = html.find("</script>", b);
  std::string data = html.substr(b + open.size(), e - b - open.size());
  EXPECT_EQ(data.find('<'), std::string::npos);
  nlohmann::json parsed = nlohmann::json::parse(data);
  EXPECT_EQ(parsed, inventory_json({r}, meta));
  EXPECT_EQ(parsed["subjects"][0]["subject"], r.subject);
  for (const char* ext : {"src=\"http", "href=\"http", "src='http", "url(", "@import", "<link", "<iframe"})
    EXPECT_EQ(html.find(ext), std::string::npos) << ext;
  EXPECT_NE(html.find("<table id=\"inventory\">"), std::string::npos);
}

TEST(Inventory, FleetBomPassesTheCycloneDxSchema) {
  FleetBomOptions o;
  o.timestamp = 1700000000;
  nlohmann::json bom;
  Error err;
  InventoryRow withbom = sample_row();
  withbom.id = "path:/fleet/b";
  withbom.subject = "fleet/b";
  withbom.bom = "boms/b-000000000000.cdx.json";
  withbom.hashes = nlohmann::json::array({{{"alg", "SHA-256"}, {"content", std::string(64, 'd')}}});
  ASSERT_TRUE(fleet_bom({sample_row(), error_row(), withbom}, o, &bom, &err)) << err.str();
  BomValidation v;
  ASSERT_TRUE(validate_bom(bom, "fleet.cdx.json", &v, &err)) << err.str();
  EXPECT_TRUE(v.schema_errors.empty()) << v.schema_errors[0].path << ": " << v.schema_errors[0].message;
  EXPECT_TRUE(v.errors.empty()) << v.errors[0].path << ": " << v.errors[0].message;
  EXPECT_EQ(bom["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
  ASSERT_EQ(bom["components"].size(), 3u);
  EXPECT_EQ(bom["components"][1]["name"], "m at http://127.0.0.1:8080/v1");
  EXPECT_EQ(bom["components"][2]["hashes"], withbom.hashes);
  EXPECT_EQ(bom["dependencies"][0]["dependsOn"].size(), 3u);
  nlohmann::json props = bom["components"][0]["properties"];
  auto prop = [&](const std::string& name) {
    for (const auto& p : props)
      if (p["name"] == name) return p["value"].get<std::string>();
    return std::string("(absent)");
  };
  EXPECT_EQ(prop("pedigree:verdict"), "flagged");
  EXPECT_EQ(prop("pedigree:manifest-root"), sample_row().manifest_root);
  EXPECT_EQ(prop("pedigree:format"), "gguf");
  EXPECT_EQ(prop("pedigree:finding:odd-metadata"), "warning: x");
  EXPECT_EQ(prop("pedigree:error"), "(absent)");
}

TEST(Inventory, FleetBomSerialFollowsTheContent) {
  FleetBomOptions o;
  o.timestamp = 1700000000;
  nlohmann::json a, b, c;
  Error err;
  ASSERT_TRUE(fleet_bom({sample_row()}, o, &a, &err));
  ASSERT_TRUE(fleet_bom({sample_row()}, o, &b, &err));
  InventoryRow r = sample_row();
  r.verdict = "pass";
  ASSERT_TRUE(fleet_bom({r}, o, &c, &err));
  EXPECT_EQ(a, b);
  EXPECT_NE(a["serialNumber"], c["serialNumber"]);
  EXPECT_TRUE(valid_serial(a["serialNumber"].get<std::string>()));
}

TEST(Inventory, FleetBomRejectsADuplicateSubject) {
  nlohmann::json bom;
  Error err;
  EXPECT_FALSE(fleet_bom({sample_row(), sample_row()}, FleetBomOptions{}, &bom, &err));
  EXPECT_EQ(err.str(), "subject path:/fleet/a.gguf appears twice");
}

TEST(Inventory, BomFileNamesAreSafeAndDistinct) {
  InventoryRow a = sample_row(), b = sample_row();
  b.id = "path:/other/a.gguf";
  EXPECT_EQ(bom_file_name(a).substr(0, 7), "a.gguf-");
  EXPECT_NE(bom_file_name(a), bom_file_name(b));
  InventoryRow e = error_row();
  e.model = "org/../we ird";
  std::string n = bom_file_name(e);
  EXPECT_EQ(n.find('/'), std::string::npos);
  EXPECT_EQ(n.substr(0, 7), "we_ird-");
}

}  // namespace
}  // namespace pedigree
