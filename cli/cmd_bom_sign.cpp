// This file implements `pedigree bom sign` and `pedigree bom verify`: JSF
// signatures over the RFC 8785 form of a CycloneDX JSON BOM. Verify exits 0
// when every signature verifies, 1 when one does not (or the signature object
// is malformed), 2 when the BOM or key cannot be read (see docs/signing.md).
#include "cli/bom_cli.h"
#include "cli/cli.h"
#include "sbom/validate.h"
#include "signing/jsf.h"

namespace pedigree::cli {
namespace {

std::string text_report(const std::string& file, const JsfReport& r) {
  std::string out;
  for (const JsfSignerResult& s : r.signers) {
    out += file + ": " + s.pointer + " (" + s.algorithm + "): ";
    if (!s.valid) out += "signature NOT valid: " + s.problem + "\n";
    else if (s.embedded_key) out += "signature valid (embedded key, signer not authenticated)\n";
    else out += "signature valid (signed by the given key)\n";
  }
  out += file + ": " + (r.valid() ? "verified" : "NOT verified") + "\n";
  return out;
}

nlohmann::json json_report(const std::string& file, const JsfReport& r) {
  nlohmann::json signers = nlohmann::json::array();
  for (const JsfSignerResult& s : r.signers)
    signers.push_back({{"pointer", s.pointer},
                       {"algorithm", s.algorithm},
                       {"valid", s.valid},
                       {"signer_authenticated", s.valid && !s.embedded_key},
                       {"problem", s.problem}});
  return {{"file", file}, {"verified", r.valid()}, {"form", r.form}, {"signers", signers}};
}

// Re-reads the text about to be written and checks that it verifies.
bool self_check(const std::string& text, EVP_PKEY* key, Error* err) {
  nlohmann::json back;
  JsfReport r;
  if (!parse_bom(text, "(signed output)", &back, err) || !jsf_verify(back, key, &r, err)) return false;
  if (!r.valid()) return fail(err, "", std::nullopt, "signed output does not verify: " + r.signers[0].problem);
  return true;
}

}  // namespace

int run_bom_sign(const BomSignArgs& a) {
  if (!a.algorithm.empty() && a.algorithm != "PS256" && a.algorithm != "RS256")
    return report_error("--algorithm: '" + a.algorithm + "' is not PS256 or RS256 (other algorithms follow the key)");
  nlohmann::json doc;
  JsfKey key;
  Error err;
  if (!read_bom_file(a.file, &doc, &err) || !load_jsf_private_key(a.key, &key, &err)) return report_error(err);
  if (!jsf_sign(&doc, key.get(), a.algorithm == "PS256", &err)) {
    if (err.path.empty()) err.path = a.file;
    return report_error(err);
  }
  std::string text = json_text(doc);
  if (!self_check(text, key.get(), &err) || !write_output(a.output, text, &err)) return report_error(err);
  return kOk;
}

int run_bom_verify(const BomVerifyArgs& a) {
  nlohmann::json doc;
  JsfKey key;
  Error err;
  if (!read_bom_file(a.file, &doc, &err)) return report_error(err);
  if (!a.key.empty() && !load_jsf_public_key(a.key, &key, &err)) return report_error(err);
  JsfReport r;
  if (!jsf_verify(doc, key.get(), &r, &err)) {
    if (err.path.empty()) err.path = a.file;
    report_error(err);
    return kFlagged;
  }
  std::string text = a.json ? json_text(json_report(a.file, r)) : text_report(a.file, r);
  if (!write_output("", text, &err)) return report_error(err);
  return r.valid() ? kOk : kFlagged;
}

}  // namespace pedigree::cli
