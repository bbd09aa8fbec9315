#!/bin/sh
# Rebuilds every file under samples/ from scratch, deterministically.
# Uses only Debian's /usr/bin/python3 (python3-torch 1.13, numpy 1.24, onnx 1.12)
# and the gguf-py package of the llama.cpp source tree. Each script stages its
# output in a temp dir under samples/ and renames files into place.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TZ=UTC
export PYTHONPATH=/root/.cache/pedigree/llama.cpp-3.22.1/gguf-py
$PY "$HERE/tinyllama.py"          # trains, writes tinyllama/tinyllama.pt + make/train_log.json
$PY "$HERE/export_tinyllama.py"   # hf, sharded, onnx, onnx-external, gguf (+ read-back checks)
$PY "$HERE/make_extras.py"        # numpy, pickle/legacy.pt, malicious/
$PY "$HERE/make_lineage_archs.py" # lineage-archs/: mistral, qwen2, gemma, gpt2, phi3
$PY "$HERE/make_expected.py"      # make/expected.json
(cd "$HERE/.." && find . -type f ! -path './make/*' ! -name .gitignore ! -path ./README.md | sort | xargs sha256sum)
