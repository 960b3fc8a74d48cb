#!/usr/bin/env python3
"""Reference forward pass that follows Hugging Face's modeling_bert.py (transformers 4.x,
eval mode) line by line, in plain PyTorch, for checking TicketLab's C++ model.

usage: hf_bert_reference.py MODEL_DIR INPUTS_JSON OUTPUT_JSON
INPUTS_JSON: {"input_ids": [[...]], "token_type_ids": [[...]], "attention_mask": [[...]]}
OUTPUT_JSON gets {"logits": [[...]], "mlm_logits": [[[...]]]} (mlm_logits when the checkpoint
has cls.predictions.*).
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info["dtype"]
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[8 + n + b:8 + n + e], dtype="<f4").reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def act(name, x):
    if name == "gelu":
        return F.gelu(x)
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    return F.relu(x)


def main():
    model_dir, inputs_path, output_path = sys.argv[1:4]
    cfg = json.load(open(model_dir + "/config.json"))
    sd = read_safetensors(model_dir + "/model.safetensors")
    inputs = json.load(open(inputs_path))
    ids = torch.tensor(inputs["input_ids"])
    types = torch.tensor(inputs["token_type_ids"])
    mask = torch.tensor(inputs["attention_mask"])
    eps = cfg["layer_norm_eps"]
    heads = cfg["num_attention_heads"]
    hidden = cfg["hidden_size"]
    hd = hidden // heads

    def lin(prefix, x):
        return F.linear(x, sd[prefix + ".weight"], sd[prefix + ".bias"])

    def ln(prefix, x):
        return F.layer_norm(x, (hidden,), sd[prefix + ".weight"], sd[prefix + ".bias"], eps)

    # BertEmbeddings
    seq = ids.shape[1]
    pos = torch.arange(seq).unsqueeze(0)
    e = (F.embedding(ids, sd["bert.embeddings.word_embeddings.weight"])
         + F.embedding(types, sd["bert.embeddings.token_type_embeddings.weight"])
         + F.embedding(pos, sd["bert.embeddings.position_embeddings.weight"]))
    h = ln("bert.embeddings.LayerNorm", e)
    # get_extended_attention_mask
    ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min

    # A compacted model (config pruned_heads, applied by transformers 4.x's prune_heads on load;
    # TicketLab's intermediate_sizes) has layers of their own widths: the head count of a layer
    # is its query width over the head size, and the FFN width is the tensors' own.
    def split(x):
        return x.view(x.size(0), x.size(1), x.size(2) // hd, hd).permute(0, 2, 1, 3)

    pruned = cfg.get("pruned_heads") or {}
    for i in range(cfg["num_hidden_layers"]):
        p = "bert.encoder.layer.%d." % i
        # What transformers 4.x's BertModel builds from config.json before loading the weights.
        kept = heads - len(set(pruned.get(str(i), [])))
        assert sd[p + "attention.self.query.weight"].shape[0] == kept * hd, \
            "layer %d: config says %d heads, the weights hold %d" % (i, kept, sd[p + "attention.self.query.weight"].shape[0] // hd)
        q = split(lin(p + "attention.self.query", h))
        k = split(lin(p + "attention.self.key", h))
        v = split(lin(p + "attention.self.value", h))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd) + ext
        probs = F.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous().view(h.size(0), seq, q.size(1) * hd)
        attn = ln(p + "attention.output.LayerNorm", lin(p + "attention.output.dense", ctx) + h)
        inter = act(cfg["hidden_act"], lin(p + "intermediate.dense", attn))
        h = ln(p + "output.LayerNorm", lin(p + "output.dense", inter) + attn)

    out = {}
    if "classifier.weight" in sd:
        pooled = torch.tanh(lin("bert.pooler.dense", h[:, 0]))
        out["logits"] = lin("classifier", pooled).tolist()
    if "cls.predictions.bias" in sd:
        t = ln("cls.predictions.transform.LayerNorm",
               act(cfg["hidden_act"], lin("cls.predictions.transform.dense", h)))
        out["mlm_logits"] = F.linear(t, sd["bert.embeddings.word_embeddings.weight"],
                                     sd["cls.predictions.bias"]).tolist()
    json.dump(out, open(output_path, "w"))


if __name__ == "__main__":
    with torch.no_grad():
        main()
