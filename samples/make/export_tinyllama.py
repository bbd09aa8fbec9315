"""Exports the trained tiny Llama (samples/tinyllama/tinyllama.pt) to the other
sample formats and cross-checks each one against the torch weights:
  tinyllama-hf/          single-file safetensors + HF config/tokenizer/model card
  tinyllama-sharded/     2 safetensors shards + model.safetensors.index.json
  tinyllama-onnx/        ONNX with inline initializers
  tinyllama-onnx-external/ ONNX with all initializers in tinyllama.onnx.data
  tinyllama-gguf/        GGUF F32 and F16 (llama.cpp tensor names, Q/K permuted)
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import GGUF_PY, MAKE_DIR, SAMPLES_DIR, StagingDir, set_determinism  # noqa: E402
import safetensors_writer  # noqa: E402
import tinyllama  # noqa: E402

sys.path.insert(0, GGUF_PY)
import gguf  # noqa: E402
from gguf.utility import SafetensorsLocal  # noqa: E402

C = tinyllama.CONFIG
LICENSE = "mit"
MODEL_NAME = "pedigree-tinyllama"


def state_numpy():
    model = tinyllama.load_trained()
    return model, {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


# ---------------------------------------------------------------- HF files
def hf_config():
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": C["vocab_size"],
        "hidden_size": C["hidden_size"],
        "intermediate_size": C["intermediate_size"],
        "num_hidden_layers": C["num_hidden_layers"],
        "num_attention_heads": C["num_attention_heads"],
        "num_key_value_heads": C["num_key_value_heads"],
        "head_dim": C["head_dim"],
        "hidden_act": "silu",
        "max_position_embeddings": C["max_position_embeddings"],
        "rms_norm_eps": C["rms_norm_eps"],
        "rope_theta": C["rope_theta"],
        "rope_scaling": None,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "initializer_range": 0.02,
        "pretraining_tp": 1,
        "tie_word_embeddings": False,
        "use_cache": True,
        "bos_token_id": C["bos_token_id"],
        "eos_token_id": C["eos_token_id"],
        "torch_dtype": "float32",
    }


def tokenizer_json():
    """HF `tokenizers` JSON in the Llama-2 style: BPE with no merges and
    byte_fallback, spaces normalised to U+2581, no prepended space. Written by
    hand; the `tokenizers` library is not installed here, so it is unverified."""
    pieces = tinyllama.vocab_pieces()
    special = [{"id": i, "content": p, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True} for i, (p, t) in enumerate(pieces) if t in (2, 3)]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": special,
        "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
        ]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                  "vocab": {p: i for i, (p, _) in enumerate(pieces)}, "merges": []},
    }


def tokenizer_config():
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": None,
        "add_bos_token": True,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": C["max_position_embeddings"],
        "legacy": False,
        "_comment": ("Byte-level vocabulary in the Llama-2 SentencePiece layout: 0 <unk>, 1 <s>, 2 </s>, "
                     "3..258 byte tokens <0x00>..<0xFF>, 259 U+2581 (space). No learned merges. "
                     "tokenizer.json was written by hand (samples/make/export_tinyllama.py) and has not been "
                     "loaded with the tokenizers library."),
    }


def model_card(log):
    return f"""---
license: {LICENSE}
language:
- en
library_name: transformers
pipeline_tag: text-generation
tags:
- llama
- tiny
- test-fixture
- byte-level
datasets:
- debian-common-licenses/CC0-1.0
---

# {MODEL_NAME}

A deliberately tiny Llama-architecture causal language model (~132k parameters)
made as a test fixture for the Pedigree model-fingerprinting tool. It is not
useful for any real text generation.

- Architecture: Llama (RMSNorm, rotary embeddings, 4-head attention with
  separate q/k/v/o projections, SwiGLU MLP, untied lm_head), 2 layers,
  hidden size 64, MLP size 172, context 128 (trained on 64-token windows).
- Vocabulary: 260 ids in the Llama-2 SentencePiece layout: `<unk>`, `<s>`,
  `</s>`, 256 byte tokens `<0x00>`..`<0xFF>`, and `\u2581` for the space
  character. No learned merges.
- Training data: the text of the CC0 1.0 Universal legal code as shipped by
  Debian in `/usr/share/common-licenses/CC0-1.0` ({log['train_text_bytes']} bytes;
  Creative Commons dedicates its legal code text to the public domain under CC0).
  The "dataset" name in the metadata above is a descriptive label, not a Hugging
  Face Hub dataset id.
- Training: written from scratch in plain PyTorch {log['torch']}, trained from
  random initialisation (no base model), {log['steps']} steps of AdamW, batch
  {log['batch']} x {log['seq_len']} tokens, seed {log['seed']}, single thread.
  Mean loss over the last 50 steps: {log['mean_loss_last_50_steps']} nats/token
  (first step: {log['first_step_loss']}). The model has essentially memorised this
  one short text.
- Files: `model.safetensors` was written by Pedigree's own small writer
  (`samples/make/safetensors_writer.py`), not by the `safetensors` package.
  `tokenizer.json` was written by hand and has not been tested with the
  `tokenizers` library.

Limitations: trained on about 7 KB of legal text; output is mostly recitation
of fragments of that text.
"""


def write_hf(sd, log):
    with StagingDir("tinyllama-hf") as st:
        safetensors_writer.save_file(sd, st.path("model.safetensors"), metadata={"format": "pt"})
        dump_json(hf_config(), st.path("config.json"))
        dump_json({"bos_token_id": C["bos_token_id"], "eos_token_id": C["eos_token_id"],
                   "do_sample": False, "max_length": C["max_position_embeddings"]},
                  st.path("generation_config.json"))
        dump_json(tokenizer_config(), st.path("tokenizer_config.json"))
        dump_json({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
                  st.path("special_tokens_map.json"))
        dump_json(tokenizer_json(), st.path("tokenizer.json"))
        with open(st.path("README.md"), "w") as f:
            f.write(model_card(log))
    check_safetensors([os.path.join(SAMPLES_DIR, "tinyllama-hf", "model.safetensors")], sd)


def write_sharded(sd):
    names = list(sd)
    first = [n for n in names if n.startswith("model.embed_tokens.") or n.startswith("model.layers.0.")]
    shards = [("model-00001-of-00002.safetensors", first),
              ("model-00002-of-00002.safetensors", [n for n in names if n not in first])]
    weight_map = {}
    with StagingDir("tinyllama-sharded") as st:
        for fname, members in shards:
            safetensors_writer.save_file({n: sd[n] for n in members}, st.path(fname), metadata={"format": "pt"})
            weight_map.update({n: fname for n in members})
        total = int(sum(a.nbytes for a in sd.values()))
        dump_json({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))},
                  st.path("model.safetensors.index.json"))
        dump_json(hf_config(), st.path("config.json"))
    d = os.path.join(SAMPLES_DIR, "tinyllama-sharded")
    check_safetensors([os.path.join(d, f) for f, _ in shards], sd)


def check_safetensors(paths, sd):
    """Reads back with gguf-py's SafetensorsLocal and compares to torch."""
    seen = {}
    for p in paths:
        with SafetensorsLocal(Path(p)) as tensors:
            for name, t in tensors.items():
                assert t.dtype == "F32", (p, name, t.dtype)
                arr = np.frombuffer(bytes(t.mmap_bytes()), dtype="<f4").reshape(t.shape)
                seen[name] = arr
    assert set(seen) == set(sd), (sorted(seen), sorted(sd))
    for n, a in sd.items():
        assert np.array_equal(seen[n], a), n
    print(f"safetensors ok: {len(seen)} tensors in {[os.path.basename(p) for p in paths]}")


# ---------------------------------------------------------------- ONNX
def write_onnx(model):
    import onnx
    with StagingDir("tinyllama-onnx") as st:
        dummy = torch.tensor([[1] + tinyllama.encode(b"Creative Commons")], dtype=torch.long)
        torch.onnx.export(
            model, (dummy,), st.path("tinyllama.onnx"),
            input_names=["input_ids"], output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}},
            opset_version=14, do_constant_folding=False, keep_initializers_as_inputs=False,
            export_params=True)
        m = onnx.load(st.path("tinyllama.onnx"))
        onnx.checker.check_model(m, full_check=True)
    path = os.path.join(SAMPLES_DIR, "tinyllama-onnx", "tinyllama.onnx")
    m = onnx.load(path)
    check_onnx_initializers(m, model)
    with StagingDir("tinyllama-onnx-external") as st:
        onnx.save_model(m, st.path("tinyllama.onnx"), save_as_external_data=True,
                        all_tensors_to_one_file=True, location="tinyllama.onnx.data", size_threshold=0)
        onnx.checker.check_model(st.path("tinyllama.onnx"), full_check=True)
    ext = onnx.load(os.path.join(SAMPLES_DIR, "tinyllama-onnx-external", "tinyllama.onnx"))
    check_onnx_initializers(ext, model)
    print("onnx ok (checker full_check on both)")


def check_onnx_initializers(m, model):
    from onnx import numpy_helper
    sd = model.state_dict()
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    missing = [n for n in sd if n not in inits]
    assert not missing, f"state_dict names not kept as ONNX initializers: {missing}"
    for n, t in sd.items():
        assert np.array_equal(inits[n], t.numpy()), n


# ---------------------------------------------------------------- GGUF
def hf_to_gguf_name(n):
    if n == "model.embed_tokens.weight":
        return "token_embd.weight"
    if n == "model.norm.weight":
        return "output_norm.weight"
    if n == "lm_head.weight":
        return "output.weight"
    parts = n.split(".")  # model.layers.N.<module>.<proj>.weight
    bid = parts[2]
    sub = ".".join(parts[3:-1])
    table = {
        "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
        "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output",
        "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
    }
    return f"blk.{bid}.{table[sub]}.weight"


def permute_qk(w, n_head):
    """Same row permutation as llama.cpp convert_hf_to_gguf.py LlamaModel.permute:
    converts HF rotate_half rows to ggml's interleaved-pair rope layout."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute_qk(w, n_head):
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gguf_tensors(sd, f16):
    out = []
    for n, a in sd.items():
        if n.endswith(("q_proj.weight", "k_proj.weight")):
            a = permute_qk(a, C["num_attention_heads"])
        gname = hf_to_gguf_name(n)
        if f16 and a.ndim > 1 and not gname.endswith("_norm.weight"):
            a = a.astype(np.float16)
        out.append((gname, np.ascontiguousarray(a)))
    return out


def add_llama_hparams(w, C):
    """Writes the llama.* hyperparameters of config C, in the order every sample uses."""
    w.add_context_length(C["max_position_embeddings"])
    w.add_embedding_length(C["hidden_size"])
    w.add_block_count(C["num_hidden_layers"])
    w.add_feed_forward_length(C["intermediate_size"])
    w.add_head_count(C["num_attention_heads"])
    w.add_head_count_kv(C["num_key_value_heads"])
    w.add_layer_norm_rms_eps(C["rms_norm_eps"])
    w.add_rope_freq_base(C["rope_theta"])
    w.add_rope_dimension_count(C["head_dim"])
    w.add_vocab_size(C["vocab_size"])


def write_gguf_file(path, sd, f16):
    w = gguf.GGUFWriter(path, "llama")
    w.add_name(MODEL_NAME)
    w.add_license(LICENSE)
    add_llama_hparams(w, C)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    pieces = tinyllama.vocab_pieces()
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list([p for p, _ in pieces])
    w.add_token_scores([0.0] * len(pieces))
    w.add_token_types([t for _, t in pieces])
    w.add_bos_token_id(C["bos_token_id"])
    w.add_eos_token_id(C["eos_token_id"])
    w.add_unk_token_id(C["unk_token_id"])
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
    for name, arr in gguf_tensors(sd, f16):
        w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_gguf(sd):
    with StagingDir("tinyllama-gguf") as st:
        write_gguf_file(st.path("tinyllama-f32.gguf"), sd, f16=False)
        write_gguf_file(st.path("tinyllama-f16.gguf"), sd, f16=True)
    for fname, f16 in (("tinyllama-f32.gguf", False), ("tinyllama-f16.gguf", True)):
        check_gguf(os.path.join(SAMPLES_DIR, "tinyllama-gguf", fname), sd, f16)


def check_gguf(path, sd, f16):
    r = gguf.GGUFReader(path)
    got = {t.name: t for t in r.tensors}
    want = {hf_to_gguf_name(n): n for n in sd}
    assert set(got) == set(want), sorted(set(got) ^ set(want))
    for gname, hname in want.items():
        t = got[gname]
        ref = sd[hname]
        assert tuple(int(x) for x in reversed(t.shape.tolist())) == ref.shape, (gname, t.shape, ref.shape)
        data = np.array(t.data).reshape(ref.shape)
        if hname.endswith(("q_proj.weight", "k_proj.weight")):
            data = unpermute_qk(data, C["num_attention_heads"])
        if f16 and ref.ndim > 1:
            assert t.tensor_type == gguf.GGMLQuantizationType.F16, gname
            assert np.array_equal(data, ref.astype(np.float16)), gname
        else:
            assert t.tensor_type == gguf.GGMLQuantizationType.F32, gname
            assert np.array_equal(data, ref), gname
    kv = {f.name: f for f in r.fields.values()}
    assert "tokenizer.ggml.tokens" in kv and "llama.context_length" in kv
    print(f"gguf ok: {os.path.basename(path)} ({len(got)} tensors)")


def dump_json(obj, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    set_determinism()
    log = json.load(open(os.path.join(MAKE_DIR, "train_log.json")))
    model, sd = state_numpy()
    # Sanity: the permutation round-trips.
    q = sd["model.layers.0.self_attn.q_proj.weight"]
    assert np.array_equal(unpermute_qk(permute_qk(q, 4), 4), q)
    write_hf(sd, log)
    write_sharded(sd)
    write_onnx(model)
    write_gguf(sd)


if __name__ == "__main__":
    main()
