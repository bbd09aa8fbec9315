// This file implements the architecture mapping of lineage comparison: the
// naming scheme (Hugging Face llama-style, Hugging Face GPT-2, llama.cpp GGUF),
// the architecture (declared by GGUF metadata or config.json, else inferred
// from tensor names), head counts, and each layer's roles with fused QKV /
// gate_up tensors split and GPT-2's Conv1D weights read transposed.
#include "fingerprint/lineage_arch.h"

#include <map>

namespace pedigree {
namespace {

constexpr uint64_t kMaxLayers = 4096;

enum class Names { kHfLlama, kHfGpt2, kGguf };

const char* layer_pattern(Names n) {
  return n == Names::kGguf ? "blk.N.*" : n == Names::kHfGpt2 ? "h.N.*" : "model.layers.N.*";
}

// "model.layers.12.self_attn.q_proj.weight" -> (12, "self_attn.q_proj.weight").
bool split_layer(const std::string& name, const std::string& prefix, uint64_t* layer, std::string* rest) {
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  size_t i = prefix.size(), start = i;
  uint64_t n = 0;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9' && i - start < 6) n = n * 10 + (name[i++] - '0');
  if (i == start || i >= name.size() || name[i] != '.') return false;
  *layer = n;
  *rest = name.substr(i + 1);
  return true;
}

// The layer prefix of `name` under scheme `n` ("" when it is not a layer tensor).
std::string layer_prefix(const std::string& name, Names n) {
  uint64_t l;
  std::string rest;
  if (n == Names::kHfLlama) return split_layer(name, "model.layers.", &l, &rest) ? "model.layers." : "";
  if (n == Names::kGguf) return split_layer(name, "blk.", &l, &rest) ? "blk." : "";
  if (split_layer(name, "transformer.h.", &l, &rest)) return "transformer.h.";
  return split_layer(name, "h.", &l, &rest) ? "h." : "";
}

bool is_embedding(const std::string& name, Names n) {
  if (n == Names::kHfLlama) return name == "model.embed_tokens.weight";
  if (n == Names::kGguf) return name == "token_embd.weight";
  return name == "wte.weight" || name == "transformer.wte.weight";
}

bool detect_names(const ModelArtifact& art, const TensorIndex& idx, Names* out, Error* err) {
  bool seen[3] = {false, false, false};
  for (const TensorInfo& t : idx.tensors)
    for (Names n : {Names::kHfLlama, Names::kHfGpt2, Names::kGguf})
      if (is_embedding(t.name, n) || !layer_prefix(t.name, n).empty()) seen[static_cast<int>(n)] = true;
  int count = seen[0] + seen[1] + seen[2];
  if (count == 0)
    return fail(err, art.root, std::nullopt,
                "unsupported architecture: no decoder tensor names (model.layers.N.*, h.N.* or blk.N.*)");
  if (count > 1)
    return fail(err, art.root, std::nullopt,
                "unsupported architecture: tensor names mix the model.layers.N.*, h.N.* and blk.N.* schemes");
  *out = seen[0] ? Names::kHfLlama : seen[1] ? Names::kHfGpt2 : Names::kGguf;
  return true;
}

const nlohmann::json* gguf_kv(const ModelArtifact& art, const std::string& key) {
  auto g = art.metadata.find("gguf");
  if (g == art.metadata.end() || !g->contains("kv")) return nullptr;
  const nlohmann::json& kv = (*g)["kv"];
  auto it = kv.find(key);
  if (it == kv.end()) return nullptr;
  if (it->is_object() && it->contains("value")) return &(*it)["value"];
  return &*it;
}

// A positive count at most 65536 under `key` of `j`, else 0.
uint64_t count_of(const nlohmann::json* v) {
  if (!v || !v->is_number_integer() || v->get<int64_t>() <= 0 || v->get<int64_t>() > 65536) return 0;
  return static_cast<uint64_t>(v->get<int64_t>());
}

const nlohmann::json* hf_config(const ModelArtifact& art) {
  auto h = art.metadata.find("hf");
  if (h == art.metadata.end() || !h->contains("config") || !(*h)["config"].is_object()) return nullptr;
  return &(*h)["config"];
}

const nlohmann::json* config_key(const nlohmann::json* c, const char* key) {
  if (!c || !c->contains(key)) return nullptr;
  return &(*c)[key];
}

/// Head geometry (0 = unknown).
struct Heads {
  uint64_t n = 0, kv = 0, dim = 0;
};

bool gguf_arch(const ModelArtifact& art, DecoderModel* m, Heads* h, Error* err) {
  static const std::map<std::string, std::string> kArchs = {
      {"llama", "llama"}, {"qwen2", "qwen2"}, {"gemma", "gemma"}, {"gpt2", "gpt2"}, {"phi3", "phi3"}};
  const nlohmann::json* arch = gguf_kv(art, "general.architecture");
  if (!arch || !arch->is_string())
    return fail(err, art.root, std::nullopt, "missing metadata general.architecture (needed to read blk.N.* tensors)");
  std::string a = arch->get<std::string>();
  auto it = kArchs.find(a);
  if (it == kArchs.end())
    return fail(err, art.root, std::nullopt,
                "unsupported architecture '" + escape_bytes(a, true, 64) +
                    "' (lineage reads GGUF llama, qwen2, gemma, gpt2 and phi3)");
  m->arch = it->second;
  m->arch_declared = true;
  h->n = count_of(gguf_kv(art, a + ".attention.head_count"));
  h->kv = count_of(gguf_kv(art, a + ".attention.head_count_kv"));
  h->dim = count_of(gguf_kv(art, a + ".attention.key_length"));
  m->interleaved_qk = a == "llama";
  if (m->interleaved_qk && h->n == 0)
    return fail(err, art.root, std::nullopt,
                "missing or invalid metadata llama.attention.head_count (needed to undo llama.cpp's q/k row order)");
  return true;
}

bool hf_arch(const ModelArtifact& art, DecoderModel* m, Heads* h, Error* err) {
  static const std::map<std::string, std::string> kClasses = {
      {"LlamaForCausalLM", "llama"}, {"MistralForCausalLM", "mistral"}, {"Qwen2ForCausalLM", "qwen2"},
      {"GemmaForCausalLM", "gemma"}, {"GPT2LMHeadModel", "gpt2"},       {"GPT2Model", "gpt2"},
      {"Phi3ForCausalLM", "phi3"}};
  const nlohmann::json* c = hf_config(art);
  const nlohmann::json* archs = config_key(c, "architectures");
  if (!archs || !archs->is_array() || archs->empty() || !(*archs)[0].is_string()) return true;  // inferred later
  std::string cls = (*archs)[0].get<std::string>();
  auto it = kClasses.find(cls);
  if (it == kClasses.end())
    return fail(err, art.root, std::nullopt,
                "unsupported architecture '" + escape_bytes(cls, true, 64) +
                    "' in config.json (lineage reads LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, "
                    "GemmaForCausalLM, GPT2LMHeadModel and Phi3ForCausalLM)");
  m->arch = it->second;
  m->arch_declared = true;
  bool gpt2 = m->arch == "gpt2";
  h->n = count_of(config_key(c, gpt2 ? "n_head" : "num_attention_heads"));
  h->kv = gpt2 ? h->n : count_of(config_key(c, "num_key_value_heads"));
  h->dim = count_of(config_key(c, "head_dim"));
  return true;
}

/// The stored tensors of one layer, before fused tensors are split.
struct RawLayer {
  const TensorInfo *q = nullptr, *k = nullptr, *v = nullptr, *o = nullptr;
  const TensorInfo *gate = nullptr, *up = nullptr, *down = nullptr, *qkv = nullptr, *gate_up = nullptr;
};

const TensorInfo** raw_slot(RawLayer& l, const std::string& rest, Names n) {
  static const std::map<std::string, const TensorInfo* RawLayer::*> kHf = {
      {"self_attn.q_proj.weight", &RawLayer::q},   {"self_attn.k_proj.weight", &RawLayer::k},
      {"self_attn.v_proj.weight", &RawLayer::v},   {"self_attn.o_proj.weight", &RawLayer::o},
      {"mlp.gate_proj.weight", &RawLayer::gate},   {"mlp.up_proj.weight", &RawLayer::up},
      {"mlp.down_proj.weight", &RawLayer::down},   {"self_attn.qkv_proj.weight", &RawLayer::qkv},
      {"mlp.gate_up_proj.weight", &RawLayer::gate_up}};
  static const std::map<std::string, const TensorInfo* RawLayer::*> kGpt2 = {
      {"attn.c_attn.weight", &RawLayer::qkv}, {"attn.c_proj.weight", &RawLayer::o},
      {"mlp.c_fc.weight", &RawLayer::up},     {"mlp.c_proj.weight", &RawLayer::down}};
  static const std::map<std::string, const TensorInfo* RawLayer::*> kGguf = {
      {"attn_q.weight", &RawLayer::q},       {"attn_k.weight", &RawLayer::k},     {"attn_v.weight", &RawLayer::v},
      {"attn_output.weight", &RawLayer::o},  {"ffn_gate.weight", &RawLayer::gate}, {"ffn_up.weight", &RawLayer::up},
      {"ffn_down.weight", &RawLayer::down}, {"attn_qkv.weight", &RawLayer::qkv}};
  const auto& table = n == Names::kGguf ? kGguf : n == Names::kHfGpt2 ? kGpt2 : kHf;
  auto it = table.find(rest);
  return it == table.end() ? nullptr : &(l.*(it->second));
}

bool collect_raw(const ModelArtifact& art, const TensorIndex& idx, Names n, std::vector<RawLayer>* out,
                 bool* has_qkv_bias, Error* err) {
  for (const TensorInfo& t : idx.tensors) {
    std::string prefix = layer_prefix(t.name, n), rest;
    uint64_t layer = 0;
    if (prefix.empty() || !split_layer(t.name, prefix, &layer, &rest)) continue;
    if (layer >= kMaxLayers)
      return fail(err, art.root, std::nullopt,
                  "layer index " + std::to_string(layer) + " exceeds " + std::to_string(kMaxLayers));
    if (out->size() <= layer) out->resize(layer + 1);
    if (const TensorInfo** slot = raw_slot((*out)[layer], rest, n)) *slot = &t;
    *has_qkv_bias |= rest == "self_attn.q_proj.bias" || rest == "attn_q.bias";
  }
  if (out->empty()) return fail(err, art.root, std::nullopt, std::string("no decoder layers (") + layer_pattern(n) + ")");
  return true;
}

// The architecture of an undeclared model from its tensor names.
std::string infer_arch(Names n, const std::vector<RawLayer>& raw, bool has_qkv_bias) {
  if (n == Names::kHfGpt2) return "gpt2";
  for (const RawLayer& l : raw)
    if (l.qkv || l.gate_up) return "phi3";
  return has_qkv_bias ? "qwen2" : "llama";
}

bool whole(const ModelArtifact& art, const TensorInfo* t, bool transposed, RoleMatrix* out, Error* err) {
  if (!t) return true;
  if (t->shape.size() != 2)
    return fail(err, art.root, std::nullopt,
                "tensor '" + t->name + "' has rank " + std::to_string(t->shape.size()) + ", expected a matrix");
  *out = RoleMatrix{t, 0, t->shape[transposed ? 1 : 0], t->shape[transposed ? 0 : 1], transposed};
  return true;
}

RoleMatrix slice(const RoleMatrix& r, uint64_t row0, uint64_t rows) {
  RoleMatrix s = r;
  s.row0 = row0;
  s.rows = rows;
  return s;
}

bool split_qkv(const ModelArtifact& art, const DecoderModel& m, const Heads& h, const RoleMatrix& f, DecoderLayer* l,
               Error* err) {
  uint64_t dim = h.dim ? h.dim : (h.n ? m.hidden / h.n : 0);
  uint64_t q = h.n && dim ? h.n * dim : m.hidden;
  uint64_t want_kv = h.kv && dim ? h.kv * dim : 0;
  uint64_t kv = f.rows > q ? (f.rows - q) / 2 : 0;
  if (kv == 0 || q + 2 * kv != f.rows || (want_kv && kv != want_kv))
    return fail(err, art.root, std::nullopt,
                "fused tensor '" + role_name(f) + "' has " + std::to_string(f.rows) + " rows, not q (" +
                    std::to_string(q) + ") + k + v (" + (want_kv ? std::to_string(want_kv) + " each" : "equal") + ")");
  l->q = slice(f, 0, q);
  l->k = slice(f, q, kv);
  l->v = slice(f, q + kv, kv);
  return true;
}

bool split_gate_up(const ModelArtifact& art, const RoleMatrix& f, DecoderLayer* l, Error* err) {
  if (f.rows < 2 || f.rows % 2 != 0)
    return fail(err, art.root, std::nullopt,
                "fused tensor '" + role_name(f) + "' has " + std::to_string(f.rows) +
                    " rows, not two equal gate and up blocks");
  l->gate = slice(f, 0, f.rows / 2);
  l->up = slice(f, f.rows / 2, f.rows / 2);
  return true;
}

bool resolve_layer(const ModelArtifact& art, const DecoderModel& m, const Heads& h, size_t i, RawLayer raw,
                   DecoderLayer* l, Error* err) {
  bool tr = m.scheme == "hf" && m.arch == "gpt2";  // Conv1D: [in, out]
  if (m.arch == "phi3" && m.scheme == "gguf" && !raw.gate && !raw.gate_up) std::swap(raw.up, raw.gate_up);
  if (!whole(art, raw.q, tr, &l->q, err) || !whole(art, raw.k, tr, &l->k, err) || !whole(art, raw.v, tr, &l->v, err) ||
      !whole(art, raw.o, tr, &l->o, err) || !whole(art, raw.gate, tr, &l->gate, err) ||
      !whole(art, raw.up, tr, &l->up, err) || !whole(art, raw.down, tr, &l->down, err))
    return false;
  RoleMatrix fused;
  if (!(l->q && l->k) && raw.qkv && (!whole(art, raw.qkv, tr, &fused, err) || !split_qkv(art, m, h, fused, l, err)))
    return false;
  if (!l->gate && !l->up && raw.gate_up &&
      (!whole(art, raw.gate_up, tr, &fused, err) || !split_gate_up(art, fused, l, err)))
    return false;
  if (!l->q || !l->k)
    return fail(err, art.root, std::nullopt, "layer " + std::to_string(i) + " has no attention q/k projection");
  return true;
}

bool map_embedding(const ModelArtifact& art, const TensorIndex& idx, Names n, DecoderModel* m, Error* err) {
  const TensorInfo* e = nullptr;
  for (const TensorInfo& t : idx.tensors)
    if (is_embedding(t.name, n) && (!e || t.name.size() > e->name.size())) e = &t;
  std::string want = n == Names::kHfLlama ? "model.embed_tokens.weight" : n == Names::kGguf ? "token_embd.weight"
                                                                                             : "wte.weight";
  if (!e) return fail(err, art.root, std::nullopt, "missing token embedding '" + want + "'");
  if (e->shape.size() != 2 || e->shape[0] < 4 || e->shape[1] < 4)
    return fail(err, art.root, std::nullopt, "token embedding '" + e->name + "' is not a [vocab, hidden] matrix");
  m->embed = RoleMatrix{e, 0, e->shape[0], e->shape[1], false};
  m->vocab = e->shape[0];
  m->hidden = e->shape[1];
  return true;
}

// Declared GPT-2 needs h.N.* names, the others model.layers.N.* (HF) or blk.N.* (GGUF).
bool check_names_fit(const ModelArtifact& art, const DecoderModel& m, Names n, Error* err) {
  if (n == Names::kGguf || (m.arch == "gpt2") == (n == Names::kHfGpt2)) return true;
  return fail(err, art.root, std::nullopt,
              "config.json declares " + m.arch + " but the tensors are named " + layer_pattern(n) + " (" + m.arch +
                  " uses " + (m.arch == "gpt2" ? "h.N.*" : "model.layers.N.*") + ")");
}

// llama, mistral and gemma share one tensor layout; the others have their own.
std::string layout_of(const std::string& arch) {
  return arch == "mistral" || arch == "gemma" ? "llama" : arch;
}

}  // namespace

bool map_decoder(const ModelArtifact& art, const TensorIndex& idx, DecoderModel* m, Error* err) {
  Names n = Names::kHfLlama;
  if (!detect_names(art, idx, &n, err)) return false;
  *m = DecoderModel{};
  m->scheme = n == Names::kGguf ? "gguf" : "hf";
  Heads h;
  if (n == Names::kGguf ? !gguf_arch(art, m, &h, err) : !hf_arch(art, m, &h, err)) return false;
  if (m->arch_declared && !check_names_fit(art, *m, n, err)) return false;
  if (!map_embedding(art, idx, n, m, err)) return false;
  std::vector<RawLayer> raw;
  bool qkv_bias = false;
  if (!collect_raw(art, idx, n, &raw, &qkv_bias, err)) return false;
  if (!m->arch_declared) m->arch = infer_arch(n, raw, qkv_bias);
  if (h.n && !h.kv) h.kv = h.n;
  m->n_head = h.n;
  m->n_head_kv = h.kv;
  m->layers.resize(raw.size());
  for (size_t i = 0; i < raw.size(); ++i)
    if (!resolve_layer(art, *m, h, i, raw[i], &m->layers[i], err)) return false;
  return true;
}

std::string arch_label(const std::string& arch, bool declared) {
  return declared ? arch : arch + " (from tensor names)";
}

bool archs_comparable(const std::string& a, bool declared_a, const std::string& b, bool declared_b) {
  auto canonical = [](const std::string& x) { return x == "mistral" ? std::string("llama") : x; };
  if (declared_a && declared_b) return canonical(a) == canonical(b);
  return layout_of(a) == layout_of(b);
}

}  // namespace pedigree
