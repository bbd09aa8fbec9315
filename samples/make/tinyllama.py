"""Tiny Llama-style causal LM in plain torch (RMSNorm, rotary embeddings in the
Hugging Face rotate_half layout, MHA with separate q/k/v/o, SwiGLU MLP, untied
lm_head) plus its byte-level vocabulary, and a deterministic training run on a
small freely licensed text. Writes samples/tinyllama/tinyllama.pt and
samples/make/train_log.json.

Vocabulary (260 ids, Llama-2 SentencePiece layout so llama.cpp's "llama"/SPM
tokenizer can load it):
  0 <unk>, 1 <s> (BOS), 2 </s> (EOS), 3..258 byte tokens <0x00>..<0xFF>,
  259 "\u2581" (the SentencePiece whitespace piece). A space (0x20) is encoded
  as 259, exactly as llama.cpp's SPM tokenizer does after escaping spaces;
  every other byte b is encoded as 3 + b.
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SAMPLES_DIR, MAKE_DIR, SEED, StagingDir, set_determinism  # noqa: E402

CONFIG = dict(
    vocab_size=260,
    hidden_size=64,
    intermediate_size=172,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=4,
    head_dim=16,
    max_position_embeddings=128,
    rms_norm_eps=1e-5,
    rope_theta=10000.0,
    bos_token_id=1,
    eos_token_id=2,
    unk_token_id=0,
)

TRAIN_TEXT = "/usr/share/common-licenses/CC0-1.0"
SPACE_ID = 259
BYTE_OFFSET = 3


def encode(data: bytes):
    return [SPACE_ID if b == 0x20 else BYTE_OFFSET + b for b in data]


def decode(ids):
    out = bytearray()
    for i in ids:
        if i == SPACE_ID:
            out.append(0x20)
        elif BYTE_OFFSET <= i < BYTE_OFFSET + 256:
            out.append(i - BYTE_OFFSET)
    return bytes(out)


def vocab_pieces():
    """(piece, sentencepiece-type) for every id; types follow gguf TokenType."""
    pieces = [("<unk>", 2), ("<s>", 3), ("</s>", 3)]
    pieces += [("<0x%02X>" % b, 6) for b in range(256)]
    pieces.append(("\u2581", 1))
    assert len(pieces) == CONFIG["vocab_size"]
    return pieces


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_head = c["num_attention_heads"]
        self.head_dim = c["head_dim"]
        d = c["hidden_size"]
        self.q_proj = nn.Linear(d, self.n_head * self.head_dim, bias=False)
        self.k_proj = nn.Linear(d, self.n_head * self.head_dim, bias=False)
        self.v_proj = nn.Linear(d, self.n_head * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.n_head * self.head_dim, d, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        shp = (B, T, self.n_head, self.head_dim)
        q = self.q_proj(x).view(shp).transpose(1, 2)
        k = self.k_proj(x).view(shp).transpose(1, 2)
        v = self.v_proj(x).view(shp).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim) + mask
        att = torch.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, self.n_head * self.head_dim)
        return self.o_proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = nn.Linear(d, h, bias=False)
        self.up_proj = nn.Linear(d, h, bias=False)
        self.down_proj = nn.Linear(h, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Backbone(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class TinyLlamaForCausalLM(nn.Module):
    """Parameter names match transformers' LlamaForCausalLM."""

    def __init__(self, c=CONFIG):
        super().__init__()
        self.config = dict(c)
        self.model = Backbone(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        hd = c["head_dim"]
        inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        pos = torch.arange(c["max_position_embeddings"], dtype=torch.float32)
        freqs = torch.outer(pos, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        # Non-persistent: not part of the state_dict (as in transformers).
        self.register_buffer("rope_cos", emb.cos(), persistent=False)
        self.register_buffer("rope_sin", emb.sin(), persistent=False)
        n = c["max_position_embeddings"]
        causal = torch.full((n, n), float("-inf")).triu(1)
        self.register_buffer("causal_mask", causal, persistent=False)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def forward(self, input_ids):
        T = input_ids.shape[1]
        cos = self.rope_cos[:T]
        sin = self.rope_sin[:T]
        mask = self.causal_mask[:T, :T]
        x = self.model.embed_tokens(input_ids)
        for layer in self.model.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.model.norm(x))


def load_trained():
    m = TinyLlamaForCausalLM()
    sd = torch.load(os.path.join(SAMPLES_DIR, "tinyllama", "tinyllama.pt"))
    m.load_state_dict(sd)
    m.eval()
    return m


def train(steps=800, batch=8, seq=64, lr=3e-3):
    set_determinism(SEED)
    data = torch.tensor(encode(open(TRAIN_TEXT, "rb").read()), dtype=torch.long)
    model = TinyLlamaForCausalLM()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(SEED)
    t0 = time.time()
    losses = []
    bos = torch.full((batch, 1), CONFIG["bos_token_id"], dtype=torch.long)
    for step in range(steps):
        cur_lr = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        for g in opt.param_groups:
            g["lr"] = cur_lr
        starts = torch.randint(0, len(data) - seq, (batch,), generator=gen)
        chunk = torch.stack([data[s:s + seq] for s in starts.tolist()])
        inp = torch.cat([bos, chunk[:, :-1]], dim=1)
        logits = model(inp)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step:5d} loss {loss.item():.4f} lr {cur_lr:.2e} {time.time() - t0:.1f}s", flush=True)
    elapsed = time.time() - t0
    model.eval()
    with torch.no_grad():
        # Whole-text loss, windows of seq tokens, BOS-prefixed, no overlap.
        tot, n = 0.0, 0
        for s in range(0, len(data) - seq + 1, seq):
            chunk = data[s:s + seq].unsqueeze(0)
            inp = torch.cat([bos[:1], chunk[:, :-1]], dim=1)
            lg = model(inp)
            tot += F.cross_entropy(lg[0], chunk[0], reduction="sum").item()
            n += seq
        # Greedy sample for the model card.
        ids = [CONFIG["bos_token_id"]] + encode(b"Creative Commons")
        for _ in range(60):
            lg = model(torch.tensor([ids[-seq:]]))
            ids.append(int(lg[0, -1].argmax()))
    log = dict(
        train_text=TRAIN_TEXT,
        train_text_bytes=len(data),
        steps=steps, batch=batch, seq_len=seq, peak_lr=lr, optimizer="AdamW(wd=0), cosine decay",
        seed=SEED,
        final_step_loss=round(losses[-1], 4),
        mean_loss_last_50_steps=round(sum(losses[-50:]) / 50, 4),
        first_step_loss=round(losses[0], 4),
        whole_text_loss_eval=round(tot / n, 4),
        train_seconds=round(elapsed, 1),
        greedy_sample=decode(ids[1:]).decode("utf-8", "replace"),
        torch=torch.__version__,
    )
    with StagingDir("tinyllama") as st:
        torch.save(model.state_dict(), st.path("tinyllama.pt"))
    tmp = os.path.join(MAKE_DIR, ".train_log.json.tmp")
    with open(tmp, "w") as f:
        json.dump({k: v for k, v in log.items() if k != "train_seconds"}, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(MAKE_DIR, "train_log.json"))
    print(json.dumps(log, indent=2))


if __name__ == "__main__":
    train()
