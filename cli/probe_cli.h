// This file implements the declaration of the `probe` command's entry point
// (kept apart from cli.h like the other newer commands).
#pragma once

#include <string>
#include <vector>

namespace pedigree::cli {

/// `pedigree probe (--endpoint URL --model NAME | MODEL.gguf) --pack P ...`
struct ProbeArgs {
  std::string gguf;
  std::string endpoint;
  std::string model;
  std::vector<std::string> packs;
  std::vector<std::string> watermark_keys;  ///< key files for watermark packs (never printed)
  bool json = false;
  std::string output;
  int concurrency = 4;
  bool no_cache = false;
  std::string cache_dir;
  std::string llama_server;
  std::string declared;
  bool list_packs = false;
  std::string validate_pack;
};

/// Runs the packs against the model; exit 1 when any pack is flagged, 2 when
/// it cannot run (bad pack, backend unreachable or failing).
int run_probe(const ProbeArgs& a);

}  // namespace pedigree::cli
