// This file implements the tests of probes/tokenizer.cpp: the bytes tokenizer,
// SentencePiece-style GGUF vocabularies (score-ordered merges, byte fallback,
// the byte-level Llama layout of the sample models), byte-level BPE from GGUF
// merges and from tokenizer.json, a GGUF file on disk, and malformed input.
#include "probes/tokenizer.h"

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace pedigree::probes {
namespace {

using Ids = std::vector<uint32_t>;

Ids tok(const Tokenizer& t, std::string_view text) {
  Ids ids;
  Error err;
  EXPECT_TRUE(t.tokenize(text, &ids, &err)) << err.str();
  return ids;
}

const std::string kSp = "\xe2\x96\x81";

/// The byte-level Llama layout of samples/tinyllama: <unk> <s> </s>, <0x00>..<0xFF>, U+2581.
GgufVocab byte_llama() {
  GgufVocab v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>"};
  char buf[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    v.tokens.push_back(buf);
  }
  v.tokens.push_back(kSp);
  v.scores.assign(v.tokens.size(), 0.0f);
  return v;
}

TEST(Tokenizer, BytesAreIds) {
  auto t = make_bytes_tokenizer();
  EXPECT_EQ(tok(*t, "A\xff "), (Ids{65, 255, 32}));
  EXPECT_EQ(t->vocab_size(), 256u);
  EXPECT_EQ(t->decode(Ids{104, 105, 300}), "hi");
}

TEST(Tokenizer, GgufByteLlamaMatchesTheSampleEncoding) {
  Error err;
  auto t = make_gguf_tokenizer(byte_llama(), "m.gguf", &err);
  ASSERT_TRUE(t) << err.str();
  EXPECT_EQ(t->kind(), "gguf-spm");
  // tinyllama.encode: space -> 259, byte b -> 3 + b.
  EXPECT_EQ(tok(*t, "a b\n"), (Ids{3 + 'a', 259, 3 + 'b', 3 + '\n'}));
  EXPECT_EQ(t->decode(tok(*t, "Creative Commons\n")), "Creative Commons\n");
  uint32_t id = 0;
  ASSERT_TRUE(t->piece_to_id(" ", &id));
  EXPECT_EQ(id, 259u);
  ASSERT_TRUE(t->piece_to_id("x", &id));
  EXPECT_EQ(id, 3u + 'x');
  EXPECT_FALSE(t->piece_to_id("", &id));
}

TEST(Tokenizer, GgufSpmMergesByScore) {
  GgufVocab v;
  v.model = "llama";
  v.add_space_prefix = true;
  v.tokens = {"<unk>", kSp, "a", "b", "ab", kSp + "a", "<0x63>"};
  v.scores = {0, 0, 0, 0, -1, -2, 0};
  Error err;
  auto t = make_gguf_tokenizer(v, "m.gguf", &err);
  ASSERT_TRUE(t) << err.str();
  // "▁ab": ab (-1) beats ▁a (-2).
  EXPECT_EQ(tok(*t, "ab"), (Ids{1, 4}));
  // "▁a▁b": ▁a merges; c falls back to <0x63>; d has no byte token -> <unk>.
  EXPECT_EQ(tok(*t, "a bcd"), (Ids{5, 1, 3, 6, 0}));
  EXPECT_EQ(t->decode(Ids{5, 1, 3}), "a b");
}

GgufVocab gpt2_vocab() {
  GgufVocab v;
  v.model = "gpt2";
  v.tokens = {"a", "b", "c", "\xc4\xa0", "ab", "abc", "\xc4\xa0" "a", "!"};  // Ġ = U+0120 (space)
  v.merges = {"a b", "ab c", "\xc4\xa0 a"};
  return v;
}

TEST(Tokenizer, GgufByteLevelBpeMergesByRank) {
  Error err;
  auto t = make_gguf_tokenizer(gpt2_vocab(), "m.gguf", &err);
  ASSERT_TRUE(t) << err.str();
  EXPECT_EQ(t->kind(), "gguf-bpe");
  // Pre-tokenized as "abc" and " abc"; in "Ġabc", "a b" (rank 0) wins over "Ġ a" (rank 2).
  EXPECT_EQ(tok(*t, "abc abc"), (Ids{5, 3, 5}));
  EXPECT_EQ(tok(*t, " a!"), (Ids{6, 7}));
  EXPECT_EQ(t->decode(Ids{5, 3, 5}), "abc abc");
}

TEST(Tokenizer, TokenizerJsonByteLevelBpe) {
  std::string j = R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"c":2,"Ġ":3,"ab":4,"abc":5,"Ġa":6,"!":7},
    "merges":["a b",["ab","c"],"Ġ a"]},"pre_tokenizer":{"type":"ByteLevel"}})";
  Error err;
  auto t = parse_tokenizer_json(j, "tokenizer.json", &err);
  ASSERT_TRUE(t) << err.str();
  EXPECT_EQ(t->kind(), "hf-bpe");
  EXPECT_EQ(tok(*t, "abc abc"), (Ids{5, 3, 5}));
  uint32_t id = 0;
  ASSERT_TRUE(t->piece_to_id(" a", &id));
  EXPECT_EQ(id, 6u);
}

TEST(Tokenizer, TokenizerJsonLlamaStyleByteFallback) {
  std::string j = R"({"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},
    {"type":"Replace","pattern":{"String":" "},"content":"▁"}]},
    "model":{"type":"BPE","byte_fallback":true,"unk_token":"<unk>",
    "vocab":{"<unk>":0,"▁":1,"h":2,"i":3,"hi":4,"<0x21>":5},"merges":["h i"]}})";
  Error err;
  auto t = parse_tokenizer_json(j, "tokenizer.json", &err);
  ASSERT_TRUE(t) << err.str();
  EXPECT_EQ(tok(*t, "hi hi!"), (Ids{1, 4, 1, 4, 5}));
}

TEST(Tokenizer, MalformedInputsNameTheProblem) {
  struct Case {
    std::string json, msg;
  };
  std::vector<Case> cases = {
      {"[]", "t.json: not a json object"},
      {"{}", "t.json: model: missing or not an object"},
      {R"({"model":{"type":"Unigram"}})", "t.json: model.type 'Unigram' is not supported (want BPE)"},
      {R"({"model":{"type":"BPE","vocab":{"a":5}}})", "t.json: model.vocab['a']: id is not a unique integer below 1"},
      {R"({"model":{"type":"BPE","vocab":{"a":0,"b":0}}})", "t.json: model.vocab['b']: id is not a unique integer below 2"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["ab"]}})", "t.json: merges[0]: not two space-separated pieces"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[1]}})", "t.json: model.merges[0]: not a string or a pair of strings"},
      {R"({"model":{"type":"BPE","vocab":{}}})", "t.json: vocabulary is empty"},
  };
  for (const Case& c : cases) {
    Error err;
    EXPECT_EQ(parse_tokenizer_json(c.json, "t.json", &err), nullptr) << c.json;
    EXPECT_EQ(err.str(), c.msg);
  }
  GgufVocab v = byte_llama();
  v.model = "rwkv";
  Error err;
  EXPECT_EQ(make_gguf_tokenizer(v, "m.gguf", &err), nullptr);
  EXPECT_EQ(err.str(), "m.gguf: tokenizer.ggml.model 'rwkv' is not supported (want llama or gpt2)");
  v = byte_llama();
  v.scores.pop_back();
  EXPECT_EQ(make_gguf_tokenizer(v, "m.gguf", &err), nullptr);
  EXPECT_EQ(err.str(), "m.gguf: tokenizer.ggml.scores has 259 entries for 260 tokens");
  EXPECT_EQ(load_tokenizer("vocab.txt", &err), nullptr);
  EXPECT_EQ(err.str(), "vocab.txt: unknown tokenizer (want bytes, a .gguf model or a tokenizer.json)");
}

// A minimal GGUF v3 file: metadata only, no tensors.
std::string gguf_with_vocab(const GgufVocab& v) {
  auto u32 = [](uint32_t x) { std::string s(4, '\0'); std::memcpy(s.data(), &x, 4); return s; };
  auto u64 = [](uint64_t x) { std::string s(8, '\0'); std::memcpy(s.data(), &x, 8); return s; };
  auto str = [&](const std::string& s) { return u64(s.size()) + s; };
  std::string kv;
  kv += str("tokenizer.ggml.model") + u32(8) + str(v.model);
  kv += str("tokenizer.ggml.tokens") + u32(9) + u32(8) + u64(v.tokens.size());
  for (const auto& t : v.tokens) kv += str(t);
  kv += str("tokenizer.ggml.add_space_prefix") + u32(7) + std::string(1, '\0');
  std::string out = "GGUF" + u32(3) + u64(0) + u64(3) + kv;
  out.resize((out.size() + 31) / 32 * 32, '\0');
  return out;
}

TEST(Tokenizer, LoadsAGgufFile) {
  test::TempDir dir;
  std::string p = dir.write("vocab.gguf", gguf_with_vocab(byte_llama()));
  Error err;
  auto t = load_tokenizer(p, &err);
  ASSERT_TRUE(t) << err.str();
  EXPECT_EQ(tok(*t, "hi there"), (Ids{3 + 'h', 3 + 'i', 259, 3 + 't', 3 + 'h', 3 + 'e', 3 + 'r', 3 + 'e'}));
  EXPECT_EQ(t->vocab_size(), 260u);
}

TEST(Tokenizer, SampleModelVocabularyWhenPresent) {
  std::string p = std::string(PEDIGREE_SOURCE_DIR) + "/samples/tinyllama-gguf/tinyllama-f32.gguf";
  Error err;
  auto t = load_gguf_tokenizer(p, &err);
  if (!t) GTEST_SKIP() << "no sample GGUF: " << err.str();
  EXPECT_EQ(tok(*t, "Creative Commons"), (Ids{3 + 'C', 3 + 'r', 3 + 'e', 3 + 'a', 3 + 't', 3 + 'i', 3 + 'v', 3 + 'e',
                                              259, 3 + 'C', 3 + 'o', 3 + 'm', 3 + 'm', 3 + 'o', 3 + 'n', 3 + 's'}));
}

}  // namespace
}  // namespace pedigree::probes
