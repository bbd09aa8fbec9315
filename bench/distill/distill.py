"""Radioactivity experiment, training side: a word-level trigram teacher on
Debian's /usr/share/common-licenses, kgw-watermarked (gamma 0.25, delta 3,
h 2) and unwatermarked teacher outputs through the pedigree-wm-v1 PRF (wm.py),
students trained on mixtures with a watermarked fraction rho, GGUF export.

    PEDIGREE_SAMPLES_MAKE=samples/make python3 bench/distill/distill.py OUT_DIR [stage...]

Stages (default all): teacher, generate, pack, base, students, export. Not in
the default run: proxy (an in-process torch estimate of the detector's result
for the trained students), ceiling (the same estimate for a perfect
count-based student) and windows (green-list mass the students put per window
frequency), for analysis only.
Every stage is seeded and single-threaded; results and timings go to
OUT_DIR/log*.json. The student model (tinyllama.py) and the GGUF helpers
(export_tinyllama.py) are imported from samples/make/.

Tokens are whole lowercase words and punctuation marks (the 512 most frequent
of the corpus; rarer words are dropped from the text). Each word is written as
one CJK code point (word i -> U+4E00 + i) and the GGUF vocabulary is a
SentencePiece ("llama") one with one piece per code point, so llama.cpp's and
pedigree's tokenizers map every character to its word token with no merge:
any token sequence, written as text, tokenizes back to itself. (Real words
would need every prefix as a merge piece: 2056 pieces instead of 771, and the
output layer dominates the students' training cost on this CPU.)
"""
import json
import math
import os
import random
import re
import struct
import sys
import time
from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.environ.get("PEDIGREE_SAMPLES_MAKE", os.path.join(REPO, "samples", "make")))
import wm  # noqa: E402
import tinyllama  # noqa: E402

CJK = 0x4E00
N_WORDS = int(os.environ.get("DISTILL_WORDS", "512"))
PROMPT_LEN = 8  # words
GEN_LEN = 40  # words per teacher answer
SEQ = 1 + PROMPT_LEN + GEN_LEN  # BOS + prompt + answer
N_SEQS = int(os.environ.get("DISTILL_N_SEQS", "16384"))
N_HELDOUT = 1024
N_REFERENCE = int(os.environ.get("DISTILL_N_REFERENCE", "1024"))
BASE_STEPS = int(os.environ.get("DISTILL_BASE_STEPS", "1500"))
BASE_LR = float(os.environ.get("DISTILL_BASE_LR", "8e-3"))
STUDENT_STEPS = int(os.environ.get("DISTILL_STUDENT_STEPS", "300"))
STUDENT_BATCH = int(os.environ.get("DISTILL_STUDENT_BATCH", "64"))
STUDENT_LR = float(os.environ.get("DISTILL_STUDENT_LR", "3e-3"))
RHOS = [int(r) for r in os.environ.get("DISTILL_RHOS", "0,1,5,10,50,100").split(",")]
GAMMA, DELTA, H = 0.25, 3.0, 2
# The provider's secret: fixed here so the experiment is reproducible.
KEY = bytes.fromhex("5eed" * 16)
SEED = 20241


def corpus_words():
    """The corpus as a list of lowercase ASCII words, numbers and punctuation marks."""
    d = "/usr/share/common-licenses"
    names = sorted(n for n in os.listdir(d) if not os.path.islink(os.path.join(d, n)))
    text = "\n\n".join(open(os.path.join(d, n), "rb").read().decode("latin-1") for n in names).lower()
    return re.findall(r"[a-z]+|[0-9]+|[!-/:-@\[-`{-~]", text)


def vocabulary(words):
    """(word list, GGUF pieces with types, word index -> token id)."""
    counts = Counter(words)
    vocab = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:N_WORDS]]
    pieces = [("<unk>", 2), ("<s>", 3), ("</s>", 3)] + [("<0x%02X>" % b, 6) for b in range(256)]
    first = len(pieces)
    pieces += [(chr(CJK + i), 1) for i in range(len(vocab))]
    return vocab, pieces, np.arange(first, first + len(vocab), dtype=np.int64)


class Lexicon:
    def __init__(self):
        self.words_all = corpus_words()
        self.vocab, self.pieces, self.gid = vocabulary(self.words_all)
        index = {w: i for i, w in enumerate(self.vocab)}
        # Corpus as word indices; rare words dropped.
        self.data = np.array([index[w] for w in self.words_all if w in index], dtype=np.int64)
        self.n_vocab = len(self.pieces)
        self.first = int(self.gid[0])

    def text(self, gids):
        """Token ids as the text the served model reads and writes."""
        return "".join(chr(CJK + int(g) - self.first) for g in gids)

    def words(self, gids):
        """Token ids as readable words (for logs)."""
        return " ".join(self.vocab[int(g) - self.first] for g in gids)


def configure_student(n_vocab):
    """Student architecture: tinyllama.py's Llama, hidden 64, 2 layers, 4 heads
    of 16, MLP 256, over the word vocabulary."""
    tinyllama.CONFIG.update(vocab_size=n_vocab, hidden_size=64, intermediate_size=256, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=4, head_dim=16, max_position_embeddings=64)


def setup(seed):
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


TEACHER_STEPS = int(os.environ.get("DISTILL_TEACHER_STEPS", "1500"))


class NPLM(torch.nn.Module):
    """The teacher: a feed-forward neural language model (Bengio et al. 2003)
    over the two previous words: embeddings 64, one tanh layer of 256 units,
    softmax over the 512 words. Its context is exactly the watermark window."""

    def __init__(self, dim=64, hidden=256, dropout=0.3):
        super().__init__()
        self.emb = torch.nn.Embedding(N_WORDS, dim)
        self.hidden = torch.nn.Linear(2 * dim, hidden)
        self.out = torch.nn.Linear(hidden, N_WORDS)
        self.drop = torch.nn.Dropout(dropout)

    def forward(self, a, b):
        x = torch.cat([self.emb(a), self.emb(b)], -1)
        return self.out(self.drop(torch.tanh(self.hidden(x))))


def stage_teacher(out):
    """Trains the teacher with torch on the corpus (every 3-word position;
    AdamW lr 3e-3, weight decay 0.01, dropout 0.3, batches of 512)."""
    lex = Lexicon()
    setup(SEED + 8)
    torch.set_num_threads(2)
    x = torch.tensor(lex.data)
    pos = torch.arange(2, len(x))
    model = NPLM()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    gen = torch.Generator().manual_seed(SEED + 9)
    t0, losses = time.time(), []
    for step in range(TEACHER_STEPS):
        i = pos[torch.randint(0, len(pos), (512,), generator=gen)]
        loss = F.cross_entropy(model(x[i - 2], x[i - 1]), x[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % 250 == 0:
            print(f"teacher step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
    model.eval()
    with torch.no_grad():
        p = torch.softmax(model(x[pos - 2], x[pos - 1]), -1)
        ent = float(-(p * p.clamp_min(1e-30).log()).sum(-1).mean())
        ce = float(F.cross_entropy(model(x[pos - 2], x[pos - 1]), x[pos]))
    torch.save(model.state_dict(), os.path.join(out, "teacher.pt"))
    return dict(corpus_words=len(lex.words_all), kept_words=int(len(x)), vocab_words=N_WORDS,
                gguf_vocab=lex.n_vocab, steps=TEACHER_STEPS, params=sum(q.numel() for q in model.parameters()),
                mean_loss_last_50=round(sum(losses[-50:]) / 50, 4), corpus_cross_entropy=round(ce, 4),
                mean_entropy_on_corpus_contexts=round(ent, 4), seconds=round(time.time() - t0, 1))


class Teacher:
    """The trained NPLM as next-word distributions p(. | a, b) for numpy arrays
    of word indices (computed once per distinct window of a batch)."""

    def __init__(self, out):
        self.model = NPLM()
        self.model.load_state_dict(torch.load(os.path.join(out, "teacher.pt")))
        self.model.eval()

    def probs(self, a, b):
        keys, inv = np.unique(np.asarray(a) * N_WORDS + np.asarray(b), return_inverse=True)
        ka, kb = torch.tensor(keys // N_WORDS), torch.tensor(keys % N_WORDS)
        with torch.no_grad():
            p = torch.softmax(self.model(ka, kb).double(), -1).numpy()
        return p[inv]


class GreenTable:
    """kgw green lists over the word tokens per window (a, b) of word indices,
    computed through the PRF of wm.py (same bytes as wm.prf_u, with the HMAC
    key schedule done once)."""

    def __init__(self, key, gid):
        import hashlib
        import hmac
        self.h0 = hmac.new(key, digestmod=hashlib.sha256)
        self.gid = gid.tolist()
        self.rows = {}
        assert self._u(self.gid[0], self.gid[1], self.gid[2]) == wm.prf_u(key, (self.gid[0], self.gid[1]), self.gid[2])

    def _u(self, a, b, v):
        h = self.h0.copy()
        h.update(wm.DOMAIN + struct.pack("<IIII", 2, a, b, v))
        return (int.from_bytes(h.digest()[:8], "big") >> 11) / float(1 << 53)

    def mask(self, a, b):
        m = self.rows.get((a, b))
        if m is None:
            ga, gb = self.gid[a], self.gid[b]
            pre = wm.DOMAIN + struct.pack("<III", 2, ga, gb)
            m = np.empty(N_WORDS, dtype=bool)
            for v, gv in enumerate(self.gid):
                h = self.h0.copy()
                h.update(pre + struct.pack("<I", gv))
                m[v] = (int.from_bytes(h.digest()[:8], "big") >> 11) < GAMMA * (1 << 53)
            self.rows[(a, b)] = m
        return m

    def masks(self, a, b):
        return np.stack([self.mask(i, j) for i, j in zip(a.tolist(), b.tolist())])


def generate(teacher, prompts, greens, rng):
    """Samples GEN_LEN words per prompt at temperature 1, all prompts at once;
    with `greens`, multiplies green probabilities by e^DELTA (kgw)."""
    seqs = [prompts[:, i] for i in range(prompts.shape[1])]
    for _ in range(GEN_LEN):
        a, b = seqs[-2], seqs[-1]
        p = teacher.probs(a, b)
        if greens is not None:
            p = p * np.where(greens.masks(a, b), math.exp(DELTA), 1.0)
        c = np.cumsum(p, axis=1)
        u = rng.random(len(a))[:, None] * c[:, -1:]
        seqs.append(np.minimum((u > c).sum(1), N_WORDS - 1))
    return np.stack(seqs, axis=1)


def prompt_starts(n_data):
    rng = np.random.default_rng(SEED + 1)
    return rng.integers(0, n_data - PROMPT_LEN, N_SEQS + N_HELDOUT)


def stage_generate(out):
    lex = Lexicon()
    teacher = Teacher(out)
    starts = prompt_starts(len(lex.data))
    prompts = np.stack([lex.data[s:s + PROMPT_LEN] for s in starts[:N_SEQS]])
    greens = GreenTable(KEY, lex.gid)
    t0 = time.time()
    wm_seqs = generate(teacher, prompts, greens, np.random.default_rng(SEED + 2))
    t_wm = time.time() - t0
    clean = generate(teacher, prompts, None, np.random.default_rng(SEED + 3))
    rates = {}
    for name, s in (("wm", wm_seqs), ("clean", clean)):
        a, b, c = s[:, PROMPT_LEN - 2:-2], s[:, PROMPT_LEN - 1:-1], s[:, PROMPT_LEN:]
        g = greens.masks(a.ravel(), b.ravel())[np.arange(a.size), c.ravel()]
        rates[name] = round(float(g.mean()), 4)
    # Token ids of the GGUF vocabulary, BOS first.
    bos = np.full((N_SEQS, 1), tinyllama.CONFIG["bos_token_id"], dtype=np.int64)
    np.savez_compressed(os.path.join(out, "teacher_outputs.npz"), wm=np.hstack([bos, lex.gid[wm_seqs]]),
                        clean=np.hstack([bos, lex.gid[clean]]), prompt_len=PROMPT_LEN + 1)
    return dict(seconds=round(time.time() - t0, 1), seconds_watermarked=round(t_wm, 1), n_seqs=N_SEQS,
                gen_len=GEN_LEN, green_rate=rates, green_windows=len(greens.rows),
                sample_wm=lex.words(lex.gid[wm_seqs[0]]), sample_clean=lex.words(lex.gid[clean[0]]))


N_SUPERVISED = int(os.environ.get("DISTILL_N_SUPERVISED", "819"))  # = the rho = 5 % harvest
N_CLOSED = int(os.environ.get("DISTILL_CLOSED_PROMPTS", "512"))
N_WRONG_KEYS = 100
WRONG_KEYS_PER_PACK = 50  # a pack lists at most 64 key fingerprints
MIN_WINDOWS = (2, 4, 8, 16)  # min_window_count variants (4, 8, 16 added after round 5's first table)


def watermark_perm(n):
    """Order in which teacher answers are watermarked in the mixtures: the
    watermarked answers of rho are the first rho % of it, so the sets are nested."""
    return np.random.default_rng(SEED + 2).permutation(n)


def write_pack(out, name, desc, prompts, reference, fingerprints, **extra):
    w = {"scheme": "kgw", "gamma": GAMMA, "h": H, "key_fingerprints": fingerprints, "tokenizer": "vocab.gguf",
         "modes": ["closed", "reading"], "reference": reference, "prompts": prompts, "max_tokens": GEN_LEN,
         "temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "samples_per_prompt": 4, "seed": 1,
         "reading_context": SEQ - 1, "reading_max_positions": 1 << 20, "threshold": 1e-6}
    w.update(extra)
    pack = {"id": "distill-" + name, "version": 1, "description": desc, "kind": "watermark", "watermark": w}
    with open(os.path.join(out, f"pack-{name}.json"), "w") as f:
        json.dump(pack, f, indent=1, sort_keys=True)


def stage_pack(out):
    """Auditor-side files: the vocabulary GGUF (tokenizer), the key, 100 random
    wrong keys, two reference texts and the packs.
      supervised: the provider's log of the watermarked answers served to the
        suspected harvester (the first N_SUPERVISED of the watermark order, i.e.
        the rho = 5 % set), each with its prompt as context; closed mode asks
        the first N_CLOSED of those prompts;
      unsupervised: the first N_REFERENCE watermarked answers by index (any of
        the provider's outputs; about rho of them were trained on) with their
        prompts; closed mode asks N_CLOSED held-out prompts never trained on.
    Variants per setting: dedup off, min window 2/4/8/16, one wrong key, and on the
    wrong keys (two packs of 50)."""
    lex = Lexicon()
    configure_student(lex.n_vocab)
    write_gguf(os.path.join(out, "vocab.gguf"), None, lex.pieces, False)
    tout = np.load(os.path.join(out, "teacher_outputs.npz"))
    plen = int(tout["prompt_len"])
    wm_seqs = tout["wm"]
    starts = prompt_starts(len(lex.data))
    heldout = [lex.text(lex.gid[lex.data[s:s + PROMPT_LEN]]) for s in starts[N_SEQS:N_SEQS + N_CLOSED]]
    sup = watermark_perm(N_SEQS)[:N_SUPERVISED]

    def doc(i):
        return {"context": lex.text(wm_seqs[i][1:plen]), "text": lex.text(wm_seqs[i][plen:])}

    for name, idx in (("supervised", sup), ("unsupervised", np.arange(N_REFERENCE))):
        with open(os.path.join(out, f"reference-{name}.jsonl"), "w") as f:
            for i in idx:
                f.write(json.dumps(doc(int(i)), ensure_ascii=False, sort_keys=True) + "\n")
    key = {"scheme": "kgw", "gamma": GAMMA, "h": H, "delta": DELTA, "key_hex": KEY.hex()}
    json.dump(key, open(os.path.join(out, "key.json"), "w"), sort_keys=True)
    os.makedirs(os.path.join(out, "wrong-keys"), exist_ok=True)
    rng = np.random.default_rng(SEED + 10)
    wrong = []
    for k in range(N_WRONG_KEYS):
        kb = rng.bytes(32)
        wrong.append(wm.key_fingerprint(kb))
        json.dump(dict(key, key_hex=kb.hex()), open(os.path.join(out, "wrong-keys", f"key-{k:03d}.json"), "w"),
                  sort_keys=True)
    true_fp = [wm.key_fingerprint(KEY)]
    settings = {"supervised": ([lex.text(wm_seqs[i][1:plen]) for i in sup[:N_CLOSED]], "reference-supervised.jsonl"),
                "unsupervised": (heldout, "reference-unsupervised.jsonl")}
    for name, (prompts, ref) in settings.items():
        d = f"bench/distill {name} setting"
        write_pack(out, name, d, prompts, ref, true_fp)
        write_pack(out, name + "-dedup-off", d + ", dedup off", prompts, ref, true_fp, dedup="off")
        for mw in MIN_WINDOWS:
            write_pack(out, f"{name}-min-window-{mw}", d + f", min window {mw}", prompts, ref, true_fp,
                       min_window_count=mw)
        write_pack(out, name + "-wrong-key", d + ", one wrong key", prompts, ref, wrong[:1])
        for j in range(N_WRONG_KEYS // WRONG_KEYS_PER_PACK):
            keys = wrong[j * WRONG_KEYS_PER_PACK:(j + 1) * WRONG_KEYS_PER_PACK]
            write_pack(out, f"{name}-wrong-keys-{j}", d + f", wrong keys {j}", prompts, ref, keys)
    return dict(closed_prompts=N_CLOSED, supervised_docs=int(len(sup)), unsupervised_docs=N_REFERENCE,
                key_fingerprint=true_fp[0], wrong_keys=N_WRONG_KEYS)


def mixture(out, rho):
    tout = np.load(os.path.join(out, "teacher_outputs.npz"))
    wm_seqs, clean = tout["wm"], tout["clean"]
    perm = watermark_perm(len(wm_seqs))
    n_wm = int(round(len(wm_seqs) * rho / 100))
    is_wm = np.zeros(len(wm_seqs), bool)
    is_wm[perm[:n_wm]] = True
    return np.where(is_wm[:, None], wm_seqs, clean), int(tout["prompt_len"]), n_wm


def train(model, seqs, plen, seed, label, steps=None, lr=None, warmup=0):
    """AdamW, linear warmup then cosine lr, loss on the teacher's answers only."""
    steps, lr = steps or STUDENT_STEPS, lr or STUDENT_LR
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    V = tinyllama.CONFIG["vocab_size"]
    model.train()
    t0, c0 = time.time(), time.process_time()
    losses = []
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, (step + 1) / warmup if warmup else 1.0) * 0.5 * (1 + math.cos(math.pi * step / steps))
        x = seqs[torch.randint(0, seqs.shape[0], (STUDENT_BATCH,), generator=gen)]
        logits = model(x[:, :-1])[:, plen - 1:]
        loss = F.cross_entropy(logits.reshape(-1, V), x[:, plen:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % 100 == 0 or step == steps - 1:
            print(f"{label} step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
    model.eval()
    return dict(steps=steps, batch=STUDENT_BATCH, lr=lr, warmup=warmup,
                mean_loss_last_50=round(sum(losses[-50:]) / min(50, len(losses)), 4),
                seconds=round(time.time() - t0, 1), cpu_seconds=round(time.process_time() - c0, 1))


def stage_base(out):
    """The students' common starting point: the same Llama trained from scratch
    on 16384 unwatermarked teacher answers to other prompts (seeds distinct
    from the students' data), like a pretrained model that is then fine-tuned
    on a teacher's outputs."""
    lex = Lexicon()
    configure_student(lex.n_vocab)
    setup(SEED + 5)
    torch.set_num_threads(2)  # runs alone: both cores
    teacher = Teacher(out)
    rng = np.random.default_rng(SEED + 6)
    starts = rng.integers(0, len(lex.data) - PROMPT_LEN, N_SEQS)
    t0 = time.time()
    seqs = generate(teacher, np.stack([lex.data[s:s + PROMPT_LEN] for s in starts]), None, rng)
    gen_s = time.time() - t0
    seqs = np.hstack([np.full((N_SEQS, 1), tinyllama.CONFIG["bos_token_id"]), lex.gid[seqs]])
    model = tinyllama.TinyLlamaForCausalLM()
    info = train(model, torch.tensor(seqs), PROMPT_LEN + 1, SEED + 7, "base", steps=BASE_STEPS, lr=BASE_LR,
                 warmup=50)
    info["generate_seconds"] = round(gen_s, 1)
    info["params"] = sum(p.numel() for p in model.parameters())
    torch.save(model.state_dict(), os.path.join(out, "base.pt"))
    return info


def stage_students(out):
    """Students: the base model fine-tuned on the rho mixture (from scratch
    when OUT_DIR has no base.pt)."""
    configure_student(Lexicon().n_vocab)
    base = os.path.join(out, "base.pt")
    info = {}
    for rho in RHOS:
        path = os.path.join(out, f"student-rho{rho}.pt")
        if os.path.exists(path):
            continue
        setup(SEED + 3)
        seqs, plen, n_wm = mixture(out, rho)
        model = tinyllama.TinyLlamaForCausalLM()
        init = base if os.path.exists(base) else None
        if os.environ.get("DISTILL_INIT_DIR"):  # continue training earlier students
            init = os.path.join(os.environ["DISTILL_INIT_DIR"], f"student-rho{rho}.pt")
        if init:
            model.load_state_dict(torch.load(init))
        info[rho] = train(model, torch.tensor(seqs), plen, SEED + 4 + (1 if "DISTILL_INIT_DIR" in os.environ else 0),
                          label=f"rho={rho}")
        info[rho]["init"] = init or "random"
        info[rho]["watermarked_seqs"] = n_wm
        info[rho]["params"] = sum(p.numel() for p in model.parameters())
        torch.save(model.state_dict(), path)
    return info


def write_gguf(path, sd, pieces, f16):
    """A llama GGUF of the student weights `sd` (none: the vocabulary alone)."""
    import export_tinyllama as ex
    gguf = ex.gguf
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("pedigree-distill-student")
    w.add_license("mit")
    ex.add_llama_hparams(w, tinyllama.CONFIG)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list([p for p, _ in pieces])
    w.add_token_scores([0.0] * len(pieces))
    w.add_token_types([t for _, t in pieces])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
    for name, arr in ex.gguf_tensors(sd or {}, f16):
        w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def stage_export(out):
    lex = Lexicon()
    configure_student(lex.n_vocab)
    f16 = os.environ.get("DISTILL_F16", "0") == "1"
    info = {}
    for rho in RHOS:
        sd = torch.load(os.path.join(out, f"student-rho{rho}.pt"))
        path = os.path.join(out, f"student-rho{rho}.gguf")
        write_gguf(path + ".tmp", {k: v.detach().numpy().copy() for k, v in sd.items()}, lex.pieces, f16)
        os.replace(path + ".tmp", path)
        info[rho] = os.path.getsize(path)
    return info


def binom_log10_sf(n, g, q=GAMMA):
    """log10 P(Binomial(n, q) >= g), by direct summation (proxy stage only)."""
    if g <= 0:
        return 0.0
    ks = np.arange(g, n + 1)
    lg = np.array([math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) for k in ks])
    lg += ks * math.log(q) + (n - ks) * math.log(1 - q)
    m = lg.max()
    return float((m + math.log(np.exp(lg - m).sum())) / math.log(10))


class TorchStudent:
    def __init__(self, path):
        self.model = tinyllama.TinyLlamaForCausalLM()
        self.model.load_state_dict(torch.load(path))
        self.model.eval()

    def last(self, x):
        return torch.softmax(self.model(x)[:, -1], -1)

    def argmax(self, x):
        return torch.cat([self.model(x[i:i + 256]).argmax(-1) for i in range(0, len(x), 256)])


class CountStudent:
    """The ceiling: a 'perfect' student that knows the teacher's clean
    distribution and adds the counts of its training mixture,
    p = (counts(a, b, .) + p_teacher(. | a, b)) / (n(a, b) + 1), over the
    same 2-token window as the watermark."""

    def __init__(self, out, rho, lex):
        seqs, plen, _ = mixture(out, rho)
        w = seqs[:, 1:] - lex.first
        a, b, c = w[:, plen - 3:-2].ravel(), w[:, plen - 2:-1].ravel(), w[:, plen - 1:].ravel()
        self.teacher, self.lex = Teacher(out), lex
        keys, inv = np.unique(a * N_WORDS + b, return_inverse=True)
        cnt = np.zeros((len(keys), N_WORDS))
        np.add.at(cnt, (inv, c), 1)
        self.keys, self.cnt = keys, cnt

    def _probs(self, a, b):
        p = self.teacher.probs(a, b)
        k = np.searchsorted(self.keys, a * N_WORDS + b).clip(max=len(self.keys) - 1)
        hit = self.keys[k] == a * N_WORDS + b
        p[hit] = (self.cnt[k[hit]] + p[hit]) / (self.cnt[k[hit]].sum(1, keepdims=True) + 1)
        full = np.zeros((len(a), self.lex.n_vocab))
        full[:, self.lex.first:self.lex.first + N_WORDS] = p
        return full

    def last(self, x):
        w = (x[:, -2:].numpy() - self.lex.first).clip(0, N_WORDS - 1)
        return torch.tensor(self._probs(w[:, 0], w[:, 1]))

    def argmax(self, x):
        w = (x.numpy() - self.lex.first).clip(0, N_WORDS - 1)
        out = np.zeros(x.shape, dtype=np.int64)
        for t in range(1, x.shape[1]):
            out[:, t] = self._probs(w[:, t - 1], w[:, t]).argmax(1)
        return torch.tensor(out)


def stage_windows(out):
    """How much of the watermark each student learned, by how often the window
    occurs in its training data: at the positions of the first 1024
    watermarked answers (in every mixture with rho >= 5 %, these are trained
    on), the mean probability mass a model puts on the green list of the
    position's window, for the base model and the students, bucketed by the
    window's count among the 16,384 x 40 training positions of the rho = 100 %
    mixture. 0.25 = no watermark learned; the watermarked teacher's mass is
    the last column."""
    lex = Lexicon()
    configure_student(lex.n_vocab)
    setup(SEED)
    greens = GreenTable(KEY, lex.gid)
    tout = np.load(os.path.join(out, "teacher_outputs.npz"))
    plen = int(tout["prompt_len"])
    wm_all = tout["wm"] - lex.first  # word indices (BOS becomes negative, never used as a window)
    a_all, b_all = wm_all[:, plen - 2:-2].ravel(), wm_all[:, plen - 1:-1].ravel()
    counts = Counter(zip(a_all.tolist(), b_all.tolist()))
    seqs = tout["wm"][watermark_perm(N_SEQS)[:1024]]
    w = seqs - lex.first
    a, b = w[:, plen - 2:-2].ravel(), w[:, plen - 1:-1].ravel()
    g = greens.masks(a, b)
    mask = np.zeros((len(a), lex.n_vocab), dtype=bool)
    mask[:, lex.first:lex.first + N_WORDS] = g
    cnt = np.array([counts[(int(x), int(y))] for x, y in zip(a, b)])
    edges = [1, 2, 5, 20, 100, 10 ** 9]
    q = Teacher(out).probs(a, b) * np.exp(DELTA * g)  # the watermarked teacher, unnormalized
    t_green = (q * g).sum(1) / q.sum(1)
    models = [("base", os.path.join(out, "base.pt"))] + [
        (f"rho {r}", os.path.join(out, f"student-rho{r}.pt")) for r in RHOS]
    mass = {}
    with torch.no_grad():
        for name, path in models:
            m = TorchStudent(path).model
            x = torch.tensor(seqs)
            probs = torch.cat([torch.softmax(m(x[i:i + 128, :-1]), -1)[:, plen - 1:] for i in range(0, len(x), 128)])
            mass[name] = (probs.reshape(-1, lex.n_vocab).numpy() * mask).sum(1)
    info = {}
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (cnt >= lo) & (cnt < hi)
        row = {"positions": int(sel.sum())}
        row.update({name: round(float(v[sel].mean()), 4) for name, v in mass.items()})
        row["teacher watermarked"] = round(float(t_green[sel].mean()), 4)
        info[f"{lo}-{hi - 1}"] = row
        print(f"{lo}-{hi - 1}", row, flush=True)
    return info


def stage_ceiling(out):
    """stage_proxy's estimate for CountStudent instead of the trained students."""
    return stage_proxy(out, lambda rho, lex: CountStudent(out, rho, lex))


def stage_proxy(out, make=None):
    """In-process estimate of the detector (torch instead of llama-server; same
    tuple dedup and prompt skipping), for tuning: closed 512 x 4 samples and
    reading mode over the reference answers."""
    lex = Lexicon()
    configure_student(lex.n_vocab)
    setup(SEED)
    greens = GreenTable(KEY, lex.gid)
    widx = {int(g): i for i, g in enumerate(lex.gid)}
    tout = np.load(os.path.join(out, "teacher_outputs.npz"))
    plen = int(tout["prompt_len"])
    starts = prompt_starts(len(lex.data))[N_SEQS:N_SEQS + 512]
    prompts = torch.tensor(np.hstack([np.ones((512, 1), np.int64), lex.gid[np.stack([lex.data[s:s + PROMPT_LEN]
                                                                                      for s in starts])]]))
    info = {}

    def green(t):
        a, b, c = (widx.get(int(v), -1) for v in t)
        return bool(min(a, b, c) >= 0 and greens.mask(a, b)[c])

    for rho in RHOS:
        model = make(rho, lex) if make else TorchStudent(os.path.join(out, f"student-rho{rho}.pt"))
        tup = set()
        gen = torch.Generator().manual_seed(SEED)
        with torch.no_grad():
            x = prompts.repeat_interleave(4, 0)
            for _ in range(GEN_LEN):
                p = model.last(x)
                x = torch.cat([x, torch.multinomial(p, 1, generator=gen)], 1)
            for r in x.tolist():
                pg = set(zip(r[:plen - 2], r[1:plen - 1], r[2:plen]))
                tup.update(t for t in zip(r[plen - 2:-2], r[plen - 1:-1], r[plen:]) if t not in pg)
            ref = torch.tensor(tout["wm"][:N_REFERENCE])
            am = model.argmax(ref[:, :-1])
        rt = set()
        for r, a in zip(ref[:, plen:].tolist(), am[:, plen:].tolist()):
            seen = set()
            for t in range(2, len(r)):
                tt = (r[t - 2], r[t - 1], a[t - 1])
                if tt not in seen:
                    rt.add(tt)
                seen.add(tuple(r[t - 2:t + 1]))
        res = {}
        for name, s in (("closed", tup), ("reading", rt)):
            g = sum(green(t) for t in s)
            res[name] = dict(n=len(s), green=round(g / len(s), 4), log10_p=round(binom_log10_sf(len(s), g), 2))
        info[rho] = res
        print(rho, res, flush=True)
    return info


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    stages = sys.argv[2:] or ["teacher", "generate", "pack", "base", "students", "export"]
    logp = os.path.join(out, "log.json")
    for st in stages:
        if st in ("students", "proxy", "ceiling", "export", "windows"):  # several processes may run at once: one log file each
            logp = os.path.join(out, "log-%s-%s.json" % (st, "-".join(map(str, RHOS))))
        log = json.load(open(logp)) if os.path.exists(logp) else {}
        t0, c0 = time.time(), time.process_time()
        log[st] = globals()["stage_" + st](out)
        log[st + "_wall_seconds"] = round(time.time() - t0, 1)
        log[st + "_cpu_seconds"] = round(time.process_time() - c0, 1)
        json.dump(log, open(logp, "w"), indent=2, sort_keys=True)
        print(st, "done", round(time.time() - t0, 1), "s", flush=True)


if __name__ == "__main__":
    main()
