#!/usr/bin/env python3
"""TicketLab against Hugging Face transformers itself (not a transcription), on a real
pre-trained BERT folder and the shared GLUE dev sets:

1. tokenizer: `ticketlab-cli tokenize` ids equal transformers' BertTokenizer ids (input_ids and
   token_type_ids) on every dev example of every GLUE task found;
2. model: a BertForSequenceClassification made from the folder (its classifier initialised by
   transformers, seed 0) and saved with save_pretrained; `ticketlab-cli predict --hidden` on it
   gives the same logits (every RTE dev example) and last hidden states (the first examples of
   each pair task) within --atol.

Usage: transformers_parity.py --cli ticketlab-cli --model DIR --glue DIR --tmp DIR
Exit 0 when everything matches, 1 with a report of the mismatches.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch
import transformers
from transformers import BertForSequenceClassification, BertTokenizer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import glue_tsv  # noqa: E402  (scripts/glue_tsv.py: the GLUE layouts, shared with hf-finetune.py)


def cli_lines(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.decode()[-2000:]}")
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cli", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--glue", required=True)
    p.add_argument("--tmp", required=True)
    p.add_argument("--atol", type=float, default=1e-4)
    p.add_argument("--hidden-examples", type=int, default=16)
    args = p.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    failures = []
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")

    # 1. Tokenizer, every dev example.
    tok = BertTokenizer(os.path.join(args.model, "vocab.txt"), do_lower_case=True)
    dev_examples = {}  # task -> texts of every dev example, read once for both parts
    for task in glue_tsv.LAYOUTS:
        dev = os.path.join(args.glue, task, "dev.tsv")
        if not os.path.exists(dev):
            continue
        examples = dev_examples[task] = [texts for texts, _ in glue_tsv.read(dev, task)]
        ours = cli_lines([args.cli, "tokenize", "--vocab", args.model, "--task", task, "--data", dev,
                          "--max-seq-len", "512"])
        if len(ours) != len(examples):
            failures.append(f"tokenize {task}: {len(ours)} lines for {len(examples)} examples")
            continue
        bad = 0
        for i, (texts, o) in enumerate(zip(examples, ours)):
            ref = tok(*texts, truncation=True, max_length=512)
            if ref["input_ids"] != o["input_ids"] or ref["token_type_ids"] != o["token_type_ids"]:
                if bad < 3:
                    failures.append(f"tokenize {task} example {i}: {ref['input_ids'][:20]} vs {o['input_ids'][:20]}")
                bad += 1
        print(f"tokenizer {task}: {len(examples) - bad}/{len(examples)} identical")
        if bad:
            failures.append(f"tokenize {task}: {bad} of {len(examples)} differ")
    if not dev_examples:
        failures.append(f"no GLUE dev set found under {args.glue}")

    # 2. Model: logits and hidden states.
    torch.manual_seed(0)
    labels = glue_tsv.LAYOUTS["RTE"].labels
    model = BertForSequenceClassification.from_pretrained(
        args.model, num_labels=2, id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)},
        attn_implementation="eager")
    model.eval()
    cls_dir = os.path.join(args.tmp, "rte-classifier")
    model.save_pretrained(cls_dir, safe_serialization=True)
    shutil.copy(os.path.join(args.model, "vocab.txt"), cls_dir)
    # RTE (pairs): every dev example's logits; SST-2 (single sentences): the first examples. The
    # classifier's labels are RTE's, so TicketLab warns on SST-2; the network is the same.
    for task, limit in (("RTE", None), ("SST-2", args.hidden_examples)):
        dev = os.path.join(args.glue, task, "dev.tsv")
        if task not in dev_examples:
            failures.append(f"{dev} missing")
            continue
        examples = dev_examples[task]
        if limit is not None:
            short = os.path.join(args.tmp, f"{task}-dev-head.tsv")
            with open(dev, encoding="utf-8-sig") as f:
                head = f.read().split("\n")[: limit + 1]
            with open(short, "w", encoding="utf-8") as f:
                f.write("\n".join(head) + "\n")
            dev, examples = short, examples[:limit]
        ours = cli_lines([args.cli, "predict", "--model", cls_dir, "--task", task, "--data", dev,
                          "--max-seq-len", "128", "--hidden", "--batch-size", "16"])
        if len(ours) != len(examples):
            failures.append(f"predict {task}: {len(ours)} lines for {len(examples)} examples")
            continue
        worst_logit = worst_hidden = 0.0
        with torch.no_grad():
            for i, (texts, o) in enumerate(zip(examples, ours)):
                enc = tok(*texts, truncation=True, max_length=128, return_tensors="pt")
                out = model(**enc, output_hidden_states=True)
                ref_logits = out.logits[0].numpy()
                worst_logit = max(worst_logit, float(np.abs(ref_logits - np.array(o["logits"])).max()))
                if i < args.hidden_examples:
                    ref_h = out.hidden_states[-1][0].numpy()
                    ours_h = np.array(o["last_hidden_state"], dtype=np.float32)
                    if ours_h.shape != ref_h.shape:
                        failures.append(f"{task} example {i}: hidden state shape {ours_h.shape} vs {ref_h.shape}")
                        continue
                    worst_hidden = max(worst_hidden, float(np.abs(ref_h - ours_h).max()))
        n_hidden = min(len(examples), args.hidden_examples)
        print(f"model {task}: {len(examples)} examples, max |logit diff| {worst_logit:.2e}, "
              f"max |hidden diff| {worst_hidden:.2e} over {n_hidden}")
        if worst_logit > args.atol or worst_hidden > args.atol:
            failures.append(f"model {task}: logits {worst_logit:.2e}, hidden {worst_hidden:.2e} > {args.atol}")

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("transformers parity: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
