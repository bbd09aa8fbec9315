// This file implements the tokenizers of probes/tokenizer.h: one merge engine
// (a priority queue over adjacent symbols, ordered by score for SentencePiece
// vocabularies and by merge rank for BPE) shared by the GGUF and tokenizer.json
// loaders, plus the GPT-2 style pre-tokenizer and byte-to-unicode map.
#include "probes/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <queue>

#include <nlohmann/json.hpp>

#include "fingerprint/artifact.h"
#include "fingerprint/formats/reader.h"

namespace pedigree::probes {
namespace {

const std::string kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's space

size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xe) return 3;
  if ((c >> 3) == 0x1e) return 4;
  return 1;  // invalid lead byte: one symbol per byte
}

void append_utf8(std::string* s, uint32_t cp) {
  if (cp < 0x80) {
    s->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    s->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

/// GPT-2's reversible byte -> printable code point map, as UTF-8 strings.
const std::vector<std::string>& byte_to_unicode() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
      append_utf8(&t[b], printable ? b : 256 + extra++);
    }
    return t;
  }();
  return table;
}

const std::unordered_map<std::string, uint8_t>& unicode_to_byte() {
  static const std::unordered_map<std::string, uint8_t> inv = [] {
    std::unordered_map<std::string, uint8_t> m;
    for (int b = 0; b < 256; ++b) m.emplace(byte_to_unicode()[b], static_cast<uint8_t>(b));
    return m;
  }();
  return inv;
}

bool is_letter(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? true : c >= 0x80; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/// GPT-2 pre-tokenization with ASCII character classes (bytes >= 0x80 count
/// as letters): 's 't 're 've 'm 'll 'd | ?letters | ?digits | ?other | spaces.
std::vector<std::string_view> gpt2_split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  auto run = [&](size_t from, auto pred) {
    size_t j = from;
    while (j < s.size() && pred(static_cast<unsigned char>(s[j]))) ++j;
    return j;
  };
  while (i < s.size()) {
    size_t start = i;
    if (s[i] == '\'') {
      static const char* kSuffixes[] = {"re", "ve", "ll", "s", "t", "m", "d"};
      bool done = false;
      for (const char* suf : kSuffixes) {
        std::string_view sv(suf);
        if (s.substr(i + 1, sv.size()) == sv) {
          out.push_back(s.substr(i, 1 + sv.size()));
          i += 1 + sv.size();
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    size_t j = i + (s[i] == ' ' && i + 1 < s.size() && !is_space(static_cast<unsigned char>(s[i + 1])) ? 1 : 0);
    unsigned char c = static_cast<unsigned char>(s[j]);
    if (is_space(c)) {
      size_t e = run(j, is_space);
      // \s+(?!\S): leave the last space to prefix the following word.
      if (e < s.size() && e - j > 1) --e;
      i = e;
    } else if (is_letter(c)) {
      i = run(j, is_letter);
    } else if (is_digit(c)) {
      i = run(j, is_digit);
    } else {
      i = run(j, [](unsigned char x) { return !is_space(x) && !is_letter(x) && !is_digit(x); });
    }
    out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string pair_key(std::string_view a, std::string_view b) {
  std::string k = std::to_string(a.size());
  k.push_back(':');
  k.append(a);
  k.append(b);
  return k;
}

/// A BPE or SentencePiece vocabulary with one merge engine.
class MergeTokenizer : public Tokenizer {
 public:
  enum class Order { kScore, kRank };

  std::string kind_;
  Order order_ = Order::kScore;
  bool byte_level_ = false;    ///< GPT-2 byte map + pre-tokenizer
  bool space_prefix_ = false;  ///< SentencePiece: prepend U+2581
  std::vector<std::string> pieces_;
  std::unordered_map<std::string, uint32_t> vocab_;
  std::vector<float> scores_;
  std::unordered_map<std::string, uint32_t> ranks_;
  std::vector<int32_t> byte_ids_ = std::vector<int32_t>(256, -1);  ///< <0xNN> tokens
  int64_t unk_ = -1;

  std::string_view kind() const override { return kind_; }
  size_t vocab_size() const override { return pieces_.size(); }

  bool tokenize(std::string_view text, std::vector<uint32_t>* out, Error* err) const override {
    out->clear();
    if (text.size() > kMaxTokenizeBytes)
      return fail(err, "", std::nullopt,
                  "text of " + human_bytes(text.size()) + " exceeds the " + human_bytes(kMaxTokenizeBytes) +
                      " tokenizer limit");
    if (byte_level_) {
      const auto& map = byte_to_unicode();
      for (std::string_view word : gpt2_split(text)) {
        std::string mapped;
        for (unsigned char c : word) mapped += map[c];
        encode_word(mapped, out);
      }
      return true;
    }
    std::string s = space_prefix_ && !text.empty() ? kSpace : "";
    for (char c : text) {
      if (c == ' ') s += kSpace;
      else s.push_back(c);
    }
    encode_word(s, out);
    return true;
  }

  std::string decode(std::span<const uint32_t> ids) const override {
    std::string s;
    for (uint32_t id : ids) {
      if (id >= pieces_.size()) continue;
      const std::string& p = pieces_[id];
      if (byte_level_) {
        for (size_t i = 0; i < p.size();) {
          size_t n = std::min(utf8_len(static_cast<unsigned char>(p[i])), p.size() - i);
          auto it = unicode_to_byte().find(p.substr(i, n));
          if (it != unicode_to_byte().end()) s.push_back(static_cast<char>(it->second));
          i += n;
        }
      } else if (byte_of_id(id) >= 0) {
        s.push_back(static_cast<char>(byte_of_id(id)));
      } else {
        for (size_t i = 0; i < p.size();) {
          if (p.compare(i, kSpace.size(), kSpace) == 0) {
            s.push_back(' ');
            i += kSpace.size();
          } else {
            s.push_back(p[i++]);
          }
        }
      }
    }
    if (space_prefix_ && !s.empty() && s[0] == ' ') s.erase(0, 1);
    return s;
  }

  int byte_of_id(uint32_t id) const {
    for (int b = 0; b < 256; ++b)
      if (byte_ids_[b] == static_cast<int32_t>(id)) return b;
    return -1;
  }

  bool piece_to_id(std::string_view piece, uint32_t* id) const override {
    std::string key;
    if (byte_level_) {
      for (unsigned char c : piece) key += byte_to_unicode()[c];
    } else {
      for (char c : piece) {
        if (c == ' ') key += kSpace;
        else key.push_back(c);
      }
    }
    if (auto it = vocab_.find(key); it != vocab_.end()) {
      *id = it->second;
      return true;
    }
    if (!byte_level_ && piece.size() == 1 && byte_ids_[static_cast<unsigned char>(piece[0])] >= 0) {
      *id = static_cast<uint32_t>(byte_ids_[static_cast<unsigned char>(piece[0])]);
      return true;
    }
    return Tokenizer::piece_to_id(piece, id);
  }

 private:
  struct Sym {
    size_t off, len;
    int64_t prev, next;
  };
  struct Cand {
    double prio;
    int64_t left;
    size_t size;
    bool operator<(const Cand& o) const { return prio != o.prio ? prio < o.prio : left > o.left; }
  };

  bool candidate(std::string_view s, const std::vector<Sym>& sy, int64_t l, int64_t r, Cand* c) const {
    if (l < 0 || r < 0) return false;
    std::string_view a = s.substr(sy[l].off, sy[l].len), b = s.substr(sy[r].off, sy[r].len);
    if (order_ == Order::kRank) {
      auto it = ranks_.find(pair_key(a, b));
      if (it == ranks_.end()) return false;
      *c = {-static_cast<double>(it->second), l, a.size() + b.size()};
      return true;
    }
    auto it = vocab_.find(std::string(s.substr(sy[l].off, a.size() + b.size())));
    if (it == vocab_.end()) return false;
    *c = {it->second < scores_.size() ? scores_[it->second] : 0.0, l, a.size() + b.size()};
    return true;
  }

  void encode_word(std::string_view s, std::vector<uint32_t>* out) const {
    std::vector<Sym> sy;
    for (size_t i = 0; i < s.size();) {
      size_t n = std::min(utf8_len(static_cast<unsigned char>(s[i])), s.size() - i);
      sy.push_back({i, n, static_cast<int64_t>(sy.size()) - 1, static_cast<int64_t>(sy.size()) + 1});
      i += n;
    }
    if (sy.empty()) return;
    sy.back().next = -1;
    std::priority_queue<Cand> q;
    Cand c;
    for (size_t i = 0; i + 1 < sy.size(); ++i)
      if (candidate(s, sy, static_cast<int64_t>(i), static_cast<int64_t>(i + 1), &c)) q.push(c);
    while (!q.empty()) {
      Cand top = q.top();
      q.pop();
      Sym& l = sy[top.left];
      if (l.len == 0 || l.next < 0 || sy[l.next].len == 0 || l.len + sy[l.next].len != top.size) continue;
      Sym& r = sy[l.next];
      l.len += r.len;
      r.len = 0;
      l.next = r.next;
      if (l.next >= 0) sy[l.next].prev = top.left;
      if (candidate(s, sy, l.prev, top.left, &c)) q.push(c);
      if (candidate(s, sy, top.left, l.next, &c)) q.push(c);
    }
    for (int64_t i = 0; i >= 0; i = sy[i].next) emit(s.substr(sy[i].off, sy[i].len), out);
  }

  void emit(std::string_view piece, std::vector<uint32_t>* out) const {
    if (auto it = vocab_.find(std::string(piece)); it != vocab_.end()) {
      out->push_back(it->second);
      return;
    }
    for (unsigned char c : piece) {
      if (!byte_level_ && byte_ids_[c] >= 0) out->push_back(static_cast<uint32_t>(byte_ids_[c]));
      else if (unk_ >= 0) out->push_back(static_cast<uint32_t>(unk_));
    }
  }

 public:
  /// Fills vocab_ and byte_ids_ from pieces_; false on a duplicate or oversized piece.
  bool index(const std::string& path, Error* err) {
    if (pieces_.empty()) return fail(err, path, std::nullopt, "vocabulary is empty");
    if (pieces_.size() > kMaxVocab)
      return fail(err, path, std::nullopt,
                  "vocabulary of " + std::to_string(pieces_.size()) + " tokens exceeds limit " +
                      std::to_string(kMaxVocab));
    vocab_.reserve(pieces_.size());
    for (size_t i = 0; i < pieces_.size(); ++i) {
      const std::string& p = pieces_[i];
      if (p.size() > kMaxTokenBytes)
        return fail(err, path, std::nullopt,
                    "token " + std::to_string(i) + " is " + std::to_string(p.size()) + " bytes (limit " +
                        std::to_string(kMaxTokenBytes) + ")");
      vocab_.emplace(p, static_cast<uint32_t>(i));  // first id wins for duplicates
      if (p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>') {
        int v = 0;
        bool ok = true;
        for (char c : p.substr(3, 2)) {
          int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
          if (d < 0) ok = false;
          v = v * 16 + d;
        }
        if (ok && byte_ids_[v] < 0) byte_ids_[v] = static_cast<int32_t>(i);
      }
    }
    return true;
  }

  bool add_merge(std::string_view m, const std::string& path, size_t i, Error* err) {
    size_t sp = m.find(' ');
    if (sp == std::string_view::npos || sp == 0 || sp + 1 >= m.size())
      return fail(err, path, std::nullopt, "merges[" + std::to_string(i) + "]: not two space-separated pieces");
    ranks_.emplace(pair_key(m.substr(0, sp), m.substr(sp + 1)), static_cast<uint32_t>(i));
    return true;
  }
};

class BytesTokenizer : public Tokenizer {
 public:
  std::string_view kind() const override { return "bytes"; }
  size_t vocab_size() const override { return 256; }
  bool tokenize(std::string_view text, std::vector<uint32_t>* out, Error* err) const override {
    out->clear();
    if (text.size() > kMaxTokenizeBytes)
      return fail(err, "", std::nullopt,
                  "text of " + human_bytes(text.size()) + " exceeds the " + human_bytes(kMaxTokenizeBytes) +
                      " tokenizer limit");
    for (unsigned char c : text) out->push_back(c);
    return true;
  }
  std::string decode(std::span<const uint32_t> ids) const override {
    std::string s;
    for (uint32_t id : ids)
      if (id < 256) s.push_back(static_cast<char>(id));
    return s;
  }
};

bool read_file(const std::string& path, size_t cap, std::string* out, Error* err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail(err, path, std::nullopt, "cannot open file");
  out->assign(cap + 1, '\0');
  f.read(out->data(), static_cast<std::streamsize>(out->size()));
  out->resize(static_cast<size_t>(f.gcount()));
  if (out->size() > cap)
    return fail(err, path, std::nullopt, "file exceeds the " + human_bytes(cap) + " limit");
  return true;
}

bool has_type(const nlohmann::json& node, std::string_view type) {
  if (!node.is_object()) return false;
  if (node.contains("type") && node["type"].is_string() && node["type"].get_ref<const std::string&>() == type)
    return true;
  for (const char* list : {"pretokenizers", "decoders", "normalizers"})
    if (node.contains(list) && node[list].is_array())
      for (const auto& sub : node[list])
        if (has_type(sub, type)) return true;
  return false;
}

}  // namespace

bool Tokenizer::piece_to_id(std::string_view piece, uint32_t* id) const {
  std::vector<uint32_t> ids;
  if (!tokenize(piece, &ids, nullptr) || ids.empty()) return false;
  *id = ids[0];
  return true;
}

std::unique_ptr<Tokenizer> make_bytes_tokenizer() { return std::make_unique<BytesTokenizer>(); }

std::unique_ptr<Tokenizer> make_gguf_tokenizer(const GgufVocab& v, const std::string& path, Error* err) {
  auto t = std::make_unique<MergeTokenizer>();
  t->pieces_ = v.tokens;
  if (v.model == "llama") {
    t->kind_ = "gguf-spm";
    t->order_ = MergeTokenizer::Order::kScore;
    t->space_prefix_ = v.add_space_prefix;
    if (!v.scores.empty() && v.scores.size() != v.tokens.size()) {
      fail(err, path, std::nullopt,
           "tokenizer.ggml.scores has " + std::to_string(v.scores.size()) + " entries for " +
               std::to_string(v.tokens.size()) + " tokens");
      return nullptr;
    }
    t->scores_ = v.scores;
  } else if (v.model == "gpt2") {
    t->kind_ = "gguf-bpe";
    t->order_ = MergeTokenizer::Order::kRank;
    t->byte_level_ = true;
  } else {
    fail(err, path, std::nullopt,
         "tokenizer.ggml.model '" + escape_bytes(v.model, true, 64) + "' is not supported (want llama or gpt2)");
    return nullptr;
  }
  if (!t->index(path, err)) return nullptr;
  if (v.merges.size() > kMaxMerges) {
    fail(err, path, std::nullopt, "tokenizer.ggml.merges exceeds limit " + std::to_string(kMaxMerges));
    return nullptr;
  }
  for (size_t i = 0; i < v.merges.size(); ++i)
    if (!t->add_merge(v.merges[i], path, i, err)) return nullptr;
  if (auto it = t->vocab_.find("<unk>"); it != t->vocab_.end()) t->unk_ = it->second;
  return t;
}

std::unique_ptr<Tokenizer> load_gguf_tokenizer(const std::string& path, Error* err) {
  ModelArtifact art;
  TensorIndex idx;
  if (!read_model(path, &art, &idx, err)) return nullptr;
  const auto& kv = art.metadata["gguf"]["kv"];
  GgufVocab v;
  auto strings = [&](const char* key, std::vector<std::string>* out, bool required) {
    if (!kv.contains(key)) {
      if (required) fail(err, path, std::nullopt, std::string(key) + ": missing");
      return !required;
    }
    if (!kv[key].is_array()) return fail(err, path, std::nullopt, std::string(key) + ": not an array");
    for (const auto& e : kv[key]) {
      if (!e.is_string()) return fail(err, path, std::nullopt, std::string(key) + ": element is not a string");
      out->push_back(e.get<std::string>());
    }
    return true;
  };
  if (!kv.contains("tokenizer.ggml.model") || !kv["tokenizer.ggml.model"].is_string()) {
    fail(err, path, std::nullopt, "tokenizer.ggml.model: missing or not a string");
    return nullptr;
  }
  v.model = kv["tokenizer.ggml.model"].get<std::string>();
  if (!strings("tokenizer.ggml.tokens", &v.tokens, true) || !strings("tokenizer.ggml.merges", &v.merges, false))
    return nullptr;
  if (kv.contains("tokenizer.ggml.scores") && kv["tokenizer.ggml.scores"].is_array())
    for (const auto& e : kv["tokenizer.ggml.scores"]) v.scores.push_back(e.is_number() ? e.get<float>() : 0.0f);
  if (kv.contains("tokenizer.ggml.add_space_prefix") && kv["tokenizer.ggml.add_space_prefix"].is_boolean())
    v.add_space_prefix = kv["tokenizer.ggml.add_space_prefix"].get<bool>();
  else
    v.add_space_prefix = v.model == "llama";  // llama.cpp's default for SentencePiece vocabularies
  return make_gguf_tokenizer(v, path, err);
}

std::unique_ptr<Tokenizer> parse_tokenizer_json(std::string_view bytes, const std::string& path, Error* err) {
  if (bytes.size() > kMaxTokenizerJsonBytes) {
    fail(err, path, std::nullopt, "tokenizer.json exceeds the " + human_bytes(kMaxTokenizerJsonBytes) + " limit");
    return nullptr;
  }
  nlohmann::json j = nlohmann::json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    fail(err, path, std::nullopt, "not a json object");
    return nullptr;
  }
  if (!j.contains("model") || !j["model"].is_object()) {
    fail(err, path, std::nullopt, "model: missing or not an object");
    return nullptr;
  }
  const auto& m = j["model"];
  std::string type = m.contains("type") && m["type"].is_string() ? m["type"].get<std::string>() : "";
  if (type != "BPE") {
    fail(err, path, std::nullopt, "model.type '" + escape_bytes(type, true, 64) + "' is not supported (want BPE)");
    return nullptr;
  }
  if (!m.contains("vocab") || !m["vocab"].is_object()) {
    fail(err, path, std::nullopt, "model.vocab: missing or not an object");
    return nullptr;
  }
  auto t = std::make_unique<MergeTokenizer>();
  t->kind_ = "hf-bpe";
  t->order_ = MergeTokenizer::Order::kRank;
  const auto& vocab = m["vocab"];
  if (vocab.size() > kMaxVocab) {
    fail(err, path, std::nullopt, "model.vocab has " + std::to_string(vocab.size()) + " tokens (limit " +
                                      std::to_string(kMaxVocab) + ")");
    return nullptr;
  }
  t->pieces_.resize(vocab.size());
  std::vector<bool> filled(vocab.size(), false);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_unsigned() || it.value().get<uint64_t>() >= vocab.size() ||
        filled[it.value().get<uint64_t>()]) {
      fail(err, path, std::nullopt,
           "model.vocab['" + escape_bytes(it.key(), true, 64) + "']: id is not a unique integer below " +
               std::to_string(vocab.size()));
      return nullptr;
    }
    t->pieces_[it.value().get<uint64_t>()] = it.key();
    filled[it.value().get<uint64_t>()] = true;
  }
  if (!t->index(path, err)) return nullptr;
  if (m.contains("merges") && m["merges"].is_array()) {
    const auto& merges = m["merges"];
    if (merges.size() > kMaxMerges) {
      fail(err, path, std::nullopt, "model.merges exceeds limit " + std::to_string(kMaxMerges));
      return nullptr;
    }
    for (size_t i = 0; i < merges.size(); ++i) {
      const auto& e = merges[i];
      std::string s;
      if (e.is_string()) {
        s = e.get<std::string>();
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        s = e[0].get<std::string>() + " " + e[1].get<std::string>();
      } else {
        fail(err, path, std::nullopt, "model.merges[" + std::to_string(i) + "]: not a string or a pair of strings");
        return nullptr;
      }
      if (!t->add_merge(s, path, i, err)) return nullptr;
    }
  }
  t->byte_level_ = has_type(j.value("pre_tokenizer", nlohmann::json()), "ByteLevel") ||
                   has_type(j.value("decoder", nlohmann::json()), "ByteLevel");
  if (!t->byte_level_) {
    const auto norm = j.value("normalizer", nlohmann::json());
    const auto pre = j.value("pre_tokenizer", nlohmann::json());
    t->space_prefix_ = has_type(norm, "Prepend") ||
                       (has_type(pre, "Metaspace") && pre.is_object() &&
                        (pre.value("prepend_scheme", std::string()) == "always" || pre.value("add_prefix_space", false)));
  }
  if (m.contains("unk_token") && m["unk_token"].is_string())
    if (auto it = t->vocab_.find(m["unk_token"].get<std::string>()); it != t->vocab_.end()) t->unk_ = it->second;
  return t;
}

std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& path, Error* err) {
  std::string data;
  if (!read_file(path, kMaxTokenizerJsonBytes, &data, err)) return nullptr;
  return parse_tokenizer_json(data, path, err);
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& spec, Error* err) {
  if (spec == "bytes") return make_bytes_tokenizer();
  if (spec.size() >= 5 && spec.compare(spec.size() - 5, 5, ".gguf") == 0) return load_gguf_tokenizer(spec, err);
  if (spec.size() >= 5 && spec.compare(spec.size() - 5, 5, ".json") == 0) return load_tokenizer_json(spec, err);
  fail(err, spec, std::nullopt, "unknown tokenizer (want bytes, a .gguf model or a tokenizer.json)");
  return nullptr;
}

}  // namespace pedigree::probes
