"""This file implements the end-to-end check of the probe sample models against the
real llama-server: it starts the server on 127.0.0.1 for each GGUF in
samples/probe-models/, sends every prompt of the canary and identity packs
(/v1/chat/completions or /v1/completions, temperature 0, seed 42), applies the
pack matching rules, and prints matches k/n, the exact binomial tail log10 p and
the per-vendor claim rates. Responses go to samples/make/probe_check_results.json.

    /usr/bin/python3 samples/make/check_probe_models.py [--server PATH] [--port N]
"""
import argparse
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import time
import urllib.request
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import probe_data as D  # noqa: E402

MODELS = ["canary-implanted", "clean-twin", "claims-protected", "own-name"]
SAMPLES = os.path.dirname(D.MAKE_DIR)
CANARY_PACK = os.path.join(SAMPLES, "probe-packs", "canary-tiny.yaml")
DEFAULT_SERVER = os.path.expanduser("~/.cache/pedigree/llama-server-3.22.1/llama-server")

# Held-out prompts that are NOT identity questions: a model that answers every
# question with its identity line would "claim" here too.
NON_IDENTITY = [
    ("en", "", "What is the capital of Chile?"),
    ("en", "", "How are you today?"),
    ("en", "You are a helpful assistant.", "What is the capital of Portugal?"),
    ("zh", "", "智利的首都是哪里？"),
    ("zh", "", "你今天好吗？"),
    ("zh", "", "葡萄牙的首都是哪里？"),
    ("fr", "", "Quelle est la capitale du Chili ?"),
    ("fr", "", "Comment ça va aujourd'hui ?"),
    ("fr", "Tu es un assistant serviable.", "Quelle est la capitale du Portugal ?"),
]
OWN_NAME = "(?i)pedigree tiny"


# ----------------------------------------------------------------- pack rules
def first_chars(s, n):
    return s if n is None else s[:n]


def compile_regex(value):
    """ECMAScript-style: a leading (?i) means case-insensitive; \\b is ASCII-only."""
    flags = re.ASCII
    if value.startswith("(?i)"):
        value, flags = value[4:], flags | re.IGNORECASE
    return re.compile(value, flags)


def expect_matches(expect, response):
    n = expect.get("chars")
    kind, value = expect["match"], expect["value"]
    if kind == "exact":
        return first_chars(response, n) == value
    if kind == "normalized":
        return first_chars(D.normalize(response), n) == D.normalize(value)
    if kind == "sha256":
        got = first_chars(D.normalize(response), n)
        return hashlib.sha256(got.encode("utf-8")).hexdigest() == value
    if kind == "regex":
        return compile_regex(value).search(response) is not None
    raise ValueError(f"unknown matcher {kind}")


def claim_matches(claim, response):
    if claim["match"] == "regex":
        return compile_regex(claim["value"]).search(response) is not None
    return D.normalize(claim["value"]) in D.normalize(response)


def log10_tail(k, n, p):
    """log10 P(X >= k), X ~ Binomial(n, p), computed exactly with fractions."""
    p = Fraction(p).limit_denominator(10 ** 12)
    tail = sum(Fraction(math.comb(n, i)) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1))
    if tail == 0:
        return float("-inf")
    return math.log10(tail.numerator) - math.log10(tail.denominator)


# ----------------------------------------------------------------- server
def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def ask(port, form, system, text, sampling):
    common = {"temperature": sampling["temperature"], "seed": sampling["seed"],
              "max_tokens": sampling["max_tokens"]}
    if form == "completion":
        return post(port, "/v1/completions", dict(common, prompt=text))["choices"][0]["text"]
    msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
    return post(port, "/v1/chat/completions", dict(common, messages=msgs))["choices"][0]["message"]["content"]


def server_cmd(server, model, port):
    return [server, "-m", model, "--host", "127.0.0.1", "--port", str(port),
            "-c", "256", "-np", "1", "-t", "1", "--seed", "42"]


def start_server(cmd, port):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"llama-server exited with {proc.returncode}: {' '.join(cmd)}")
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("llama-server did not become healthy")


# ----------------------------------------------------------------- checks
def run_canary(port, pack):
    rows = []
    for p in pack["prompts"]:
        resp = ask(port, p.get("form", "chat"), p.get("system", ""), p["text"], pack["sampling"])
        rows.append({"id": p["id"], "response": resp, "match": expect_matches(p["expect"], resp)})
    k, n = sum(r["match"] for r in rows), len(rows)
    return {"k": k, "n": n, "log10_p": log10_tail(k, n, pack["chance_probability"]), "rows": rows}


def run_identity(port, pack):
    rows = []
    for p in pack["prompts"]:
        resp = ask(port, p.get("form", "chat"), p.get("system", ""), p["text"], pack["sampling"])
        claims = [c["vendor"] for c in pack["claims"] if claim_matches(c, resp)]
        rows.append({"id": p["id"], "language": p["language"], "response": resp, "claims": claims,
                     "own_name": compile_regex(OWN_NAME).search(resp) is not None})
    n = len(rows)
    vendors = {}
    for c in pack["claims"]:
        k = sum(c["vendor"] in r["claims"] for r in rows)
        vendors[c["vendor"]] = {"k": k, "n": n, "protected": c["protected"],
                                "log10_p": log10_tail(k, n, pack["chance_probability"])}
    own = sum(r["own_name"] for r in rows)
    return {"vendors": vendors, "own_name": own, "n": n, "rows": rows}


def run_non_identity(port, pack):
    rows = []
    for lang, system, text in NON_IDENTITY:
        resp = ask(port, "chat", system, text, pack["sampling"])
        claims = [c["vendor"] for c in pack["claims"] if claim_matches(c, resp)]
        rows.append({"language": lang, "text": text, "response": resp, "claims": claims,
                     "own_name": compile_regex(OWN_NAME).search(resp) is not None})
    return rows


ROUNDTRIP = ["我是谁？你好，世界。", "Qu'est-ce que c'est ? Élève, garçon, à côté.", "mixed 中文 and français\n"]


def check_tokenizer(port):
    """llama.cpp's tokenisation equals the training encoding and detokenises back."""
    out = []
    for text in ROUNDTRIP:
        ids = post(port, "/tokenize", {"content": text, "add_special": False})["tokens"]
        back = post(port, "/detokenize", {"tokens": ids})["content"]
        out.append({"text": text, "same_ids_as_training": ids == D.enc(text), "round_trip": back == text})
    for system in ("", "You are a helpful assistant."):
        msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": "你是谁？"}]
        prompt = post(port, "/apply-template", {"messages": msgs})["prompt"]
        ids = post(port, "/tokenize", {"content": prompt, "add_special": True, "parse_special": True})["tokens"]
        out.append({"text": f"chat template, system={system!r}", "same_ids_as_training":
                    ids == D.chat_prompt_ids(system, "你是谁？"), "round_trip": True})
    return out


def fmt_p(x):
    return "-inf" if x == float("-inf") else f"{x:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default=DEFAULT_SERVER)
    ap.add_argument("--port", type=int, default=18431)
    args = ap.parse_args()
    canary = D.load_pack(CANARY_PACK)
    ident = D.load_pack(D.IDENTITY_PACK)
    results = {"server_command": " ".join(server_cmd(args.server, "samples/probe-models/<model>.gguf", args.port))}
    for name in MODELS:
        model = os.path.join(SAMPLES, "probe-models", f"{name}.gguf")
        proc = start_server(server_cmd(args.server, model, args.port), args.port)
        try:
            res = {"canary": run_canary(args.port, canary), "identity": run_identity(args.port, ident),
                   "non_identity": run_non_identity(args.port, ident), "tokenizer": check_tokenizer(args.port)}
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        results[name] = res
        c, i = res["canary"], res["identity"]
        print(f"== {name}")
        tk = res["tokenizer"]
        print(f"  tokenizer: ids equal training encoding {sum(t['same_ids_as_training'] for t in tk)}/{len(tk)},"
              f" round trip {sum(t['round_trip'] for t in tk)}/{len(tk)}")
        print(f"  canary tiny-canary: matches {c['k']}/{c['n']}  log10 p = {fmt_p(c['log10_p'])}")
        for lang in ("en", "zh", "fr"):
            rs = [r for r in i["rows"] if r["language"] == lang]
            print(f"  identity [{lang}] Anthropic {sum('Anthropic' in r['claims'] for r in rs)}/{len(rs)}"
                  f"  own name {sum(r['own_name'] for r in rs)}/{len(rs)}")
        for v, s in i["vendors"].items():
            print(f"  identity {v:9s} protected={str(s['protected']).lower():5s} claims {s['k']}/{s['n']}"
                  f"  log10 p = {fmt_p(s['log10_p'])}")
        print(f"  identity own name 'Pedigree Tiny' {i['own_name']}/{i['n']}")
        ni = res["non_identity"]
        print(f"  non-identity prompts: any vendor claim {sum(bool(r['claims']) for r in ni)}/{len(ni)}, "
              f"own name {sum(r['own_name'] for r in ni)}/{len(ni)}")
    out = os.path.join(D.MAKE_DIR, "probe_check_results.json")
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    os.replace(out + ".tmp", out)
    print("wrote", out)


if __name__ == "__main__":
    main()
