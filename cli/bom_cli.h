// This file implements the declarations of the `bom` command group's
// generate, score, diff, sign and verify entry points (kept apart from cli.h so that
// other `bom` subcommands can be added beside them).
#pragma once

#include <string>
#include <vector>

namespace pedigree::cli {

/// `pedigree bom PATH ...`
struct BomArgs {
  std::string path;
  std::string output;
  std::string spec_version = "1.6";
  std::string name, version, purl, supplier, serial;
  std::vector<std::string> base_models;
  unsigned jobs = 0;
};

/// `pedigree bom score FILE [--json]`
struct BomScoreArgs {
  std::string file;
  bool json = false;
};

/// `pedigree bom diff A B [--json]`
struct BomDiffArgs {
  std::string a, b;
  bool json = false;
};

/// `pedigree bom sign FILE --key KEY.pem... [--cert LEAF.pem...] [--chain CHAIN.pem...]
/// [--mode signers|chain] [--append] [--algorithm PS256] [--password-file F] [-o FILE]`
struct BomSignArgs {
  std::string file, output, algorithm, mode, password_file;
  std::vector<std::string> keys, certs, chain;
  bool append = false;
};

/// `pedigree bom verify FILE [--key PUB.pem...] [--cert-root ROOT.pem...] [--json]`
struct BomVerifyArgs {
  std::string file;
  std::vector<std::string> keys, cert_roots;
  bool json = false;
};

int run_bom(const BomArgs& a);
int run_bom_sign(const BomSignArgs& a);
int run_bom_verify(const BomVerifyArgs& a);
int run_bom_score(const BomScoreArgs& a);
int run_bom_diff(const BomDiffArgs& a);

}  // namespace pedigree::cli
