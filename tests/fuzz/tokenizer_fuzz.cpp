// This file implements the libFuzzer target of the tokenizers and the
// watermark inputs: the input is parsed as a tokenizer.json and as a key file,
// split into a GGUF-style vocabulary (one piece per line; the first line picks
// llama or gpt2, lines "a b" double as merges), and used as text for every
// tokenizer that loads. Nothing may crash; failures must carry a message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "probes/tokenizer.h"
#include "probes/watermark.h"

namespace {

void exercise(const pedigree::probes::Tokenizer& t, std::string_view text) {
  std::vector<uint32_t> ids;
  pedigree::Error err;
  if (!t.tokenize(text, &ids, &err)) return;
  for (uint32_t id : ids)
    if (id >= t.vocab_size()) __builtin_trap();
  (void)t.decode(ids);
  uint32_t id = 0;
  if (t.piece_to_id(text.substr(0, 4), &id) && id >= t.vocab_size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pedigree;
  using namespace pedigree::probes;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Error err;
  if (auto t = parse_tokenizer_json(in, "fuzz.json", &err)) exercise(*t, in);
  else if (err.message.empty()) __builtin_trap();
  wm::WatermarkKey key;
  Error kerr;
  if (!wm::parse_key_file(in, "key.json", &key, &kerr) && kerr.message.empty()) __builtin_trap();
  GgufVocab v;
  v.model = !in.empty() && (in[0] & 1) ? "gpt2" : "llama";
  v.add_space_prefix = !in.empty() && (in[0] & 2);
  size_t start = 0;
  while (start <= in.size() && v.tokens.size() < 4096) {
    size_t nl = in.find('\n', start);
    if (nl == std::string_view::npos) nl = in.size();
    std::string piece(in.substr(start, nl - start));
    if (piece.find(' ') != std::string::npos) v.merges.push_back(piece);
    v.tokens.push_back(std::move(piece));
    v.scores.push_back(static_cast<float>(v.tokens.size() % 7) - 3.0f);
    start = nl + 1;
  }
  Error gerr;
  if (auto t = make_gguf_tokenizer(v, "fuzz.gguf", &gerr)) exercise(*t, in);
  else if (gerr.message.empty()) __builtin_trap();
  exercise(*make_bytes_tokenizer(), in);
  return 0;
}
