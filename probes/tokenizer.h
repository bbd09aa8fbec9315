// This file implements the tokenizers the watermark detector declares its token
// ids with: `bytes` (one id per UTF-8 byte), SentencePiece-style and byte-level
// BPE vocabularies read from a GGUF file (tokenizer.ggml.*), and byte-level or
// byte-fallback BPE from a Hugging Face tokenizer.json. Every input is bounds-checked.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fingerprint/error.h"

namespace pedigree::probes {

inline constexpr size_t kMaxVocab = size_t{1} << 22;      ///< tokens in one vocabulary
inline constexpr size_t kMaxTokenBytes = 1024;            ///< bytes in one token piece
inline constexpr size_t kMaxMerges = size_t{1} << 22;     ///< BPE merges
inline constexpr size_t kMaxTokenizeBytes = size_t{1} << 24;  ///< text given to tokenize()
inline constexpr size_t kMaxTokenizerJsonBytes = size_t{256} << 20;

/// Text to token ids.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  /// "bytes", "gguf-spm", "gguf-bpe", "hf-bpe".
  virtual std::string_view kind() const = 0;
  /// Number of ids (the vocabulary size).
  virtual size_t vocab_size() const = 0;
  /// Token ids of `text` (no BOS/EOS). Fails only when `text` exceeds kMaxTokenizeBytes.
  virtual bool tokenize(std::string_view text, std::vector<uint32_t>* out, Error* err) const = 0;
  /// The id of one generated token given as its text piece (as a server
  /// reports it); falls back to the first id of tokenize(piece). False when empty.
  virtual bool piece_to_id(std::string_view piece, uint32_t* id) const;
  /// Text of `ids` (ids out of range are skipped); decode(tokenize(t)) == t
  /// for text the vocabulary covers.
  virtual std::string decode(std::span<const uint32_t> ids) const = 0;
};

/// One id per byte of the text (ids 0..255).
std::unique_ptr<Tokenizer> make_bytes_tokenizer();

/// A vocabulary as GGUF declares it: tokenizer.ggml.{model,tokens,scores,merges,token_type}.
struct GgufVocab {
  std::string model;                  ///< "llama" (SentencePiece) or "gpt2" (byte-level BPE)
  std::vector<std::string> tokens;
  std::vector<float> scores;          ///< may be empty
  std::vector<std::string> merges;    ///< "a b" strings (gpt2)
  std::vector<int32_t> token_types;   ///< may be empty; 6 = byte token
  bool add_space_prefix = false;
};

/// Builds a tokenizer from a GGUF vocabulary; `path` names the source in errors.
std::unique_ptr<Tokenizer> make_gguf_tokenizer(const GgufVocab& vocab, const std::string& path, Error* err);

/// Reads the vocabulary of a GGUF model file with the fingerprint GGUF reader.
std::unique_ptr<Tokenizer> load_gguf_tokenizer(const std::string& path, Error* err);

/// Parses a Hugging Face tokenizer.json holding a BPE model (byte-level, or
/// with byte_fallback and the U+2581 space convention).
std::unique_ptr<Tokenizer> parse_tokenizer_json(std::string_view bytes, const std::string& path, Error* err);

/// Reads and parses a tokenizer.json file.
std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& path, Error* err);

/// "bytes", a .gguf file, or a tokenizer.json file (by name or content).
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& spec, Error* err);

}  // namespace pedigree::probes
