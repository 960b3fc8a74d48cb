#!/usr/bin/env python3
"""The same benchmark as `ticketlab-cli bench-train`, in plain PyTorch with
torch.nn.utils.prune: BERT of the given shape (vocab 30522), classification head, AdamW,
batch x seq random tokens, masks applied by torch.nn.utils.prune's forward pre-hooks
(weight = weight_orig * weight_mask at every forward). Prints {"seq_per_s", "peak_mem_mb"}.

usage: bench_torch_prune.py --layers 2 --hidden 128 --heads 2 --intermediate 512
                            [--batch 32 --seq 128 --threads 2 --steps 10 --sparsity 0.5]
"""
import argparse
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune


class Layer(nn.Module):
    def __init__(self, h, heads, inter):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attn_out, self.ln1 = nn.Linear(h, h), nn.LayerNorm(h, eps=1e-12)
        self.inter, self.out, self.ln2 = nn.Linear(h, inter), nn.Linear(inter, h), nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, mask):
        b, s, h = x.shape
        d = h // self.heads
        split = lambda t: t.view(b, s, self.heads, d).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        p = self.drop(F.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + mask, dim=-1))
        ctx = (p @ v).transpose(1, 2).reshape(b, s, h)
        a = self.ln1(self.drop(self.attn_out(ctx)) + x)
        return self.ln2(self.drop(self.out(F.gelu(self.inter(a)))) + a)


class Bert(nn.Module):
    def __init__(self, layers, h, heads, inter, vocab=30522):
        super().__init__()
        self.words, self.pos, self.types = nn.Embedding(vocab, h), nn.Embedding(512, h), nn.Embedding(2, h)
        self.ln, self.drop = nn.LayerNorm(h, eps=1e-12), nn.Dropout(0.1)
        self.layers = nn.ModuleList(Layer(h, heads, inter) for _ in range(layers))
        self.pooler, self.classifier = nn.Linear(h, h), nn.Linear(h, 2)

    def forward(self, ids):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.drop(self.ln(self.words(ids) + self.pos(pos) + self.types(torch.zeros_like(ids))))
        mask = torch.zeros(ids.shape[0], 1, 1, ids.shape[1])
        for layer in self.layers:
            x = layer(x, mask)
        return self.classifier(self.drop(torch.tanh(self.pooler(x[:, 0]))))


def main():
    ap = argparse.ArgumentParser()
    for name, default in [("layers", 2), ("hidden", 128), ("heads", 2), ("intermediate", 512), ("batch", 32),
                          ("seq", 128), ("threads", 2), ("steps", 10), ("warmup_steps", 2)]:
        ap.add_argument("--" + name.replace("_", "-"), type=int, default=default)
    ap.add_argument("--sparsity", type=float, default=0.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Bert(a.layers, a.hidden, a.heads, a.intermediate)
    if a.sparsity > 0:
        targets = [(m, "weight") for layer in model.layers
                   for m in (layer.query, layer.key, layer.value, layer.attn_out, layer.inter, layer.out)]
        targets.append((model.pooler, "weight"))
        prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=a.sparsity)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.01)
    ids = torch.randint(1, 30522, (a.batch, a.seq))
    labels = torch.randint(0, 2, (a.batch,))
    model.train()

    def step():
        loss = F.cross_entropy(model(ids), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()

    for _ in range(a.warmup_steps):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = time.perf_counter() - t0
    print(json.dumps({"seq_per_s": a.batch * a.steps / seconds,
                      "peak_mem_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    sys.exit(main())
