"""Writes the tiny per-architecture models of the lineage tests
(samples/lineage-archs/<arch>/), one set for each of mistral (GQA), qwen2
(q/k/v biases), gemma (tied embeddings), gpt2 (fused Conv1D c_attn) and phi3
(fused qkv_proj and gate_up_proj):

  hf/config.json + hf/model.safetensors   base model, seed 1, Hugging Face names
  base.gguf                               the same weights as llama.cpp's converter
                                          writes them (gguf-py names and writer)
  permuted.safetensors                    base with its hidden units permuted (and
                                          sign-flipped where the norm allows), no config
  independent.gguf                        an independent model, seed 2

The models are untrained (normal init); the permuted copy is checked to compute
the same logits as the base with a small forward pass of each architecture
(causal attention without rotary positions: rotary acts on head dimensions,
which the hidden-unit permutation does not touch). Matrices are F16, norms and
biases F32.
"""
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import GGUF_PY, StagingDir  # noqa: E402
import safetensors_writer  # noqa: E402

sys.path.insert(0, GGUF_PY)
import gguf  # noqa: E402

V, D, F, L, H, CTX = 128, 32, 64, 2, 4, 32
HD = D // H
ARCHS = {
    # name: (HF class, model_type, gguf arch, kv heads)
    "mistral": ("MistralForCausalLM", "mistral", "llama", 2),
    "qwen2": ("Qwen2ForCausalLM", "qwen2", "qwen2", 2),
    "gemma": ("GemmaForCausalLM", "gemma", "gemma", 1),
    "gpt2": ("GPT2LMHeadModel", "gpt2", "gpt2", H),
    "phi3": ("Phi3ForCausalLM", "phi3", "phi3", H),
}


def normal(g, *shape, std=None):
    std = std if std is not None else 1.0 / math.sqrt(shape[-1])
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * std).numpy()


def gated_weights(arch, seed):
    g = torch.Generator().manual_seed(seed)
    kv = ARCHS[arch][3] * HD
    w = {"model.embed_tokens.weight": normal(g, V, D, std=1.0), "model.norm.weight": 1 + normal(g, D, std=0.1)}
    if arch != "gemma":
        w["lm_head.weight"] = normal(g, V, D)
    for i in range(L):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = 1 + normal(g, D, std=0.1)
        w[p + "post_attention_layernorm.weight"] = 1 + normal(g, D, std=0.1)
        q, k, v = normal(g, D, D), normal(g, kv, D), normal(g, kv, D)
        if arch == "phi3":
            w[p + "self_attn.qkv_proj.weight"] = np.concatenate([q, k, v])
            w[p + "mlp.gate_up_proj.weight"] = np.concatenate([normal(g, F, D), normal(g, F, D)])
        else:
            w[p + "self_attn.q_proj.weight"], w[p + "self_attn.k_proj.weight"] = q, k
            w[p + "self_attn.v_proj.weight"] = v
            w[p + "mlp.gate_proj.weight"], w[p + "mlp.up_proj.weight"] = normal(g, F, D), normal(g, F, D)
        if arch == "qwen2":
            for r, n in (("q", D), ("k", kv), ("v", kv)):
                w[p + f"self_attn.{r}_proj.bias"] = normal(g, n, std=0.1)
        w[p + "self_attn.o_proj.weight"] = normal(g, D, D)
        w[p + "mlp.down_proj.weight"] = normal(g, D, F)
    return w


def gpt2_weights(seed):
    g = torch.Generator().manual_seed(seed)
    w = {"transformer.wte.weight": normal(g, V, D, std=1.0), "transformer.wpe.weight": normal(g, CTX, D, std=0.1),
         "transformer.ln_f.weight": 1 + normal(g, D, std=0.1), "transformer.ln_f.bias": normal(g, D, std=0.1)}
    for i in range(L):  # Conv1D weights are stored [in, out]
        p = f"transformer.h.{i}."
        for n in ("ln_1", "ln_2"):
            w[p + n + ".weight"], w[p + n + ".bias"] = 1 + normal(g, D, std=0.1), normal(g, D, std=0.1)
        w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"] = normal(g, 3 * D, D).T.copy(), normal(g, 3 * D, std=0.1)
        w[p + "attn.c_proj.weight"], w[p + "attn.c_proj.bias"] = normal(g, D, D).T.copy(), normal(g, D, std=0.1)
        w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"] = normal(g, F, D).T.copy(), normal(g, F, std=0.1)
        w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"] = normal(g, D, F).T.copy(), normal(g, D, std=0.1)
    return w


def weights(arch, seed):
    w = gpt2_weights(seed) if arch == "gpt2" else gated_weights(arch, seed)
    # F16 matrices (rounded once, so every format holds the same values), F32 vectors.
    return {n: (a.astype(np.float16) if a.ndim == 2 else a.astype(np.float32)) for n, a in w.items()}


# ---------------------------------------------------------------- permutation

def permute(arch, w, perm, sign):
    """Hidden unit i of the result is unit perm[i] of `w` times sign[i]."""
    out = {}
    for n, a in w.items():
        a = a.astype(np.float64)
        if a.ndim == 1:
            hidden = n.endswith(("norm.weight", "ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias",
                                 "ln_f.weight", "ln_f.bias", "attn.c_proj.bias", "mlp.c_proj.bias"))
            b = a[perm] if hidden else a
            if n.endswith(("attn.c_proj.bias", "mlp.c_proj.bias")):
                b = b * sign
        elif n.endswith(("o_proj.weight", "down_proj.weight")):  # writers [hidden, in]
            b = a[perm, :] * sign[:, None]
        elif n.endswith(("attn.c_attn.weight", "mlp.c_fc.weight")):  # Conv1D readers [hidden, out]
            b = a[perm, :] * sign[:, None]
        elif n.endswith(("attn.c_proj.weight", "mlp.c_proj.weight")):  # Conv1D writers [in, hidden]
            b = a[:, perm] * sign[None, :]
        else:  # embeddings and readers [out, hidden]
            b = a[:, perm] * sign[None, :]
        out[n] = b.astype(w[n].dtype)
    return out


# ---------------------------------------------------------------- forward pass

def attention(q, k, v, kv_heads):
    t = q.shape[0]
    q = q.reshape(t, H, HD).transpose(0, 1)
    k = k.reshape(t, kv_heads, HD).transpose(0, 1).repeat_interleave(H // kv_heads, 0)
    v = v.reshape(t, kv_heads, HD).transpose(0, 1).repeat_interleave(H // kv_heads, 0)
    s = q @ k.transpose(1, 2) / math.sqrt(HD)
    s = s.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
    return (torch.softmax(s, -1) @ v).transpose(0, 1).reshape(t, H * HD)


def forward_gated(arch, w, ids):
    t = {n: torch.tensor(a.astype(np.float64)) for n, a in w.items()}
    kvh = ARCHS[arch][3]

    def rms(x, g):
        y = x / torch.sqrt((x * x).mean(-1, keepdim=True) + 1e-6)
        return y * (1 + g if arch == "gemma" else g)

    x = t["model.embed_tokens.weight"][ids] * (math.sqrt(D) if arch == "gemma" else 1.0)
    for i in range(L):
        p = f"model.layers.{i}."
        h = rms(x, t[p + "input_layernorm.weight"])
        if arch == "phi3":
            q, k, v = (h @ t[p + "self_attn.qkv_proj.weight"].T).split([D, kvh * HD, kvh * HD], -1)
        else:
            q, k, v = (h @ t[p + f"self_attn.{r}_proj.weight"].T + t.get(p + f"self_attn.{r}_proj.bias", 0)
                       for r in "qkv")
        x = x + attention(q, k, v, kvh) @ t[p + "self_attn.o_proj.weight"].T
        h = rms(x, t[p + "post_attention_layernorm.weight"])
        if arch == "phi3":
            gate, up = (h @ t[p + "mlp.gate_up_proj.weight"].T).chunk(2, -1)
        else:
            gate, up = h @ t[p + "mlp.gate_proj.weight"].T, h @ t[p + "mlp.up_proj.weight"].T
        act = torch.nn.functional.gelu(gate, approximate="tanh") if arch == "gemma" else torch.nn.functional.silu(gate)
        x = x + (act * up) @ t[p + "mlp.down_proj.weight"].T
    x = rms(x, t["model.norm.weight"])
    return x @ t.get("lm_head.weight", t["model.embed_tokens.weight"]).T


def forward_gpt2(w, ids):
    t = {n: torch.tensor(a.astype(np.float64)) for n, a in w.items()}

    def ln(x, p):
        return torch.nn.functional.layer_norm(x, (D,), t[p + ".weight"], t[p + ".bias"], 1e-5)

    x = t["transformer.wte.weight"][ids] + t["transformer.wpe.weight"][: len(ids)]
    for i in range(L):
        p = f"transformer.h.{i}."
        qkv = ln(x, p + "ln_1") @ t[p + "attn.c_attn.weight"] + t[p + "attn.c_attn.bias"]
        q, k, v = qkv.split(D, -1)
        x = x + attention(q, k, v, H) @ t[p + "attn.c_proj.weight"] + t[p + "attn.c_proj.bias"]
        h = torch.nn.functional.gelu(ln(x, p + "ln_2") @ t[p + "mlp.c_fc.weight"] + t[p + "mlp.c_fc.bias"],
                                     approximate="tanh")
        x = x + h @ t[p + "mlp.c_proj.weight"] + t[p + "mlp.c_proj.bias"]
    return ln(x, "transformer.ln_f") @ t["transformer.wte.weight"].T


def forward(arch, w, ids):
    return forward_gpt2(w, ids) if arch == "gpt2" else forward_gated(arch, w, ids)


# ---------------------------------------------------------------- writers

def hf_config(arch):
    cls, model_type, _, kvh = ARCHS[arch]
    if arch == "gpt2":
        return {"architectures": [cls], "model_type": model_type, "vocab_size": V, "n_embd": D, "n_layer": L,
                "n_head": H, "n_positions": CTX, "n_ctx": CTX, "n_inner": F, "activation_function": "gelu_new",
                "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True, "torch_dtype": "float16"}
    c = {"architectures": [cls], "model_type": model_type, "vocab_size": V, "hidden_size": D,
         "intermediate_size": F, "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": kvh,
         "head_dim": HD, "max_position_embeddings": CTX, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
         "tie_word_embeddings": arch == "gemma", "torch_dtype": "float16"}
    c["hidden_act"] = "gelu_pytorch_tanh" if arch == "gemma" else "silu"
    return c


def llama_permute(a, heads):
    """llama.cpp LlamaModel.permute: HF rotate_half rows to ggml's interleaved pairs."""
    return a.reshape(heads, 2, a.shape[0] // heads // 2, *a.shape[1:]).swapaxes(1, 2).reshape(a.shape)


def gguf_tensors(arch, w):
    garch = ARCHS[arch][2]
    tmap = gguf.get_tensor_name_map(next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == garch), L)
    out = []
    for n, a in sorted(w.items()):
        if garch == "llama" and n.endswith("q_proj.weight"):
            a = llama_permute(a, H)
        elif garch == "llama" and n.endswith("k_proj.weight"):
            a = llama_permute(a, ARCHS[arch][3])
        elif arch == "gpt2" and n.endswith((".c_attn.weight", ".c_proj.weight", ".c_fc.weight")):
            a = a.T
        elif arch == "gemma" and n.endswith("norm.weight"):
            a = a + 1
        name = tmap.get_name(n, try_suffixes=(".weight", ".bias"))
        assert name, n
        out.append((name, np.ascontiguousarray(a)))
    return out


def write_gguf(path, arch, w):
    _, _, garch, kvh = ARCHS[arch]
    g = gguf.GGUFWriter(path, garch)
    g.add_name(f"pedigree-lineage-{arch}")
    g.add_context_length(CTX)
    g.add_embedding_length(D)
    g.add_block_count(L)
    g.add_feed_forward_length(F)
    g.add_head_count(H)
    g.add_head_count_kv(kvh)
    if arch == "gpt2":
        g.add_layer_norm_eps(1e-5)
    else:
        g.add_layer_norm_rms_eps(1e-6)
        g.add_key_length(HD)
        g.add_value_length(HD)
    g.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    for name, a in gguf_tensors(arch, w):
        g.add_tensor(name, a)
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


def check_gguf(path, arch, w):
    r = gguf.GGUFReader(path)
    got = {t.name: np.array(t.data) for t in r.tensors}
    for name, a in gguf_tensors(arch, w):
        assert np.array_equal(got[name].reshape(a.shape), a), (path, name)


def make(arch):
    base, other = weights(arch, 1), weights(arch, 2)
    rng = np.random.default_rng(3)
    perm = rng.permutation(D)
    sign = np.ones(D) if arch == "gpt2" else np.where(rng.random(D) < 0.4, -1.0, 1.0)  # LayerNorm: no flips
    permuted = permute(arch, base, perm, sign)
    ids = torch.tensor(rng.integers(0, V, size=16))
    diff = (forward(arch, base, ids) - forward(arch, permuted, ids)).abs().max().item()
    assert diff < 1e-9, (arch, diff)
    with StagingDir(f"lineage-archs/{arch}/hf") as st:
        safetensors_writer.save_file(base, st.path("model.safetensors"), {"format": "pt"})
        with open(st.path("config.json"), "w") as f:
            json.dump(hf_config(arch), f, indent=2, sort_keys=True)
            f.write("\n")
    with StagingDir(f"lineage-archs/{arch}") as st:
        write_gguf(st.path("base.gguf"), arch, base)
        write_gguf(st.path("independent.gguf"), arch, other)
        safetensors_writer.save_file(permuted, st.path("permuted.safetensors"), {"format": "pt"})
        check_gguf(st.path("base.gguf"), arch, base)
    print(f"{arch}: permuted copy max |logit diff| {diff:.1e}, {int((sign < 0).sum())} sign flips")


def main():
    torch.set_num_threads(1)
    for arch in ARCHS:
        make(arch)


if __name__ == "__main__":
    main()
