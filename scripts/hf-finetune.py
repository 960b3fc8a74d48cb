#!/usr/bin/env python3
"""Fine-tune a Hugging Face BERT folder on a GLUE task with transformers itself.

A cross-check for TicketLab's fine-tuning: when a model stays at chance on a task (MiniLM-L6 on
RTE), this tells the model's limit from the tool's. Same recipe as `ticketlab-cli finetune`:
AdamW (weight decay on all but biases and LayerNorm), linear warm-up then linear decay, the
training set shuffled each epoch by --seed, dev metrics after every epoch.

  --pooling cls   BertForSequenceClassification: the [CLS] state through the pooler (BERT's head,
                  the paper's and TicketLab's)
  --pooling mean  the mean of the last hidden states over the real tokens, then dropout and a
                  linear layer (how sentence-transformers models such as all-MiniLM-L6-v2 were
                  trained; the pooler is not used)

Run it with the private environment's python (scripts/python-env.sh prints it):
  $(scripts/python-env.sh) scripts/hf-finetune.py --model models/minilm-l6 \
      --data-dir ../shared/data/glue/RTE --task RTE --pooling mean --threads 1
"""
import argparse
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glue_tsv  # noqa: E402  (beside this script)


def pearson(preds, golds):
    import numpy as np

    return float(np.corrcoef(np.asarray(preds, dtype=float), np.asarray(golds, dtype=float))[0, 1])


def binary_scores(preds, golds):
    """Accuracy, F1 of class 1 and Matthews correlation."""
    import numpy as np

    p, g = np.asarray(preds), np.asarray(golds)
    acc = float((p == g).mean())
    tp, fp = float(((p == 1) & (g == 1)).sum()), float(((p == 1) & (g == 0)).sum())
    fn, tn = float(((p == 0) & (g == 1)).sum()), float(((p == 0) & (g == 0)).sum())
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    den = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    mcc = (tp * tn - fp * fn) / den if den else 0.0
    return acc, f1, mcc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="Hugging Face folder (config.json, weights, vocab.txt)")
    ap.add_argument("--data-dir", required=True, help="GLUE task folder with train.tsv and dev.tsv")
    ap.add_argument("--task", required=True, choices=sorted(glue_tsv.LAYOUTS))
    ap.add_argument("--pooling", choices=["cls", "mean"], default="cls")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--max-seq-len", type=int, default=128)
    ap.add_argument("--warmup", type=float, default=0.1, help="fraction of the steps")
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-train", type=int, default=0, help="only the first N training examples (a smoke test)")
    a = ap.parse_args()

    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification, BertModel, get_linear_schedule_with_warmup

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    labels = glue_tsv.LAYOUTS[a.task].labels
    train = glue_tsv.read(f"{a.data_dir}/train.tsv", a.task)
    dev = glue_tsv.read(f"{a.data_dir}/dev.tsv", a.task)
    if a.max_train > 0:
        train = train[:a.max_train]
    tok = AutoTokenizer.from_pretrained(a.model)
    num_labels = 1 if labels is None else len(labels)

    if a.pooling == "cls":
        net = BertForSequenceClassification.from_pretrained(a.model, num_labels=num_labels)

        def logits_of(batch):
            return net(**batch).logits
    else:
        bert = BertModel.from_pretrained(a.model, add_pooling_layer=False)
        head = torch.nn.Sequential(torch.nn.Dropout(bert.config.hidden_dropout_prob),
                                   torch.nn.Linear(bert.config.hidden_size, num_labels))
        head[1].weight.data.normal_(0.0, bert.config.initializer_range)
        head[1].bias.data.zero_()
        net = torch.nn.ModuleDict({"bert": bert, "head": head})

        def logits_of(batch):
            hidden = net["bert"](**batch).last_hidden_state
            m = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            return net["head"]((hidden * m).sum(1) / m.sum(1).clamp(min=1))

    def encode(rows):
        texts = [r[0] for r in rows]
        enc = tok(*zip(*texts), truncation=True, max_length=a.max_seq_len, padding=True, return_tensors="pt")
        y = torch.tensor([r[1] for r in rows], dtype=torch.float if labels is None else torch.long)
        return dict(enc), y

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in net.named_parameters() if not n.endswith(no_decay)], "weight_decay": a.weight_decay},
        {"params": [p for n, p in net.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=a.lr)
    steps_per_epoch = math.ceil(len(train) / a.batch_size)
    total = steps_per_epoch * a.epochs
    sched = get_linear_schedule_with_warmup(opt, int(a.warmup * total), total)
    loss_fn = torch.nn.MSELoss() if labels is None else torch.nn.CrossEntropyLoss()
    rng = random.Random(a.seed)
    print(f"{a.task}: {len(train)} train, {len(dev)} dev; pooling {a.pooling}; lr {a.lr} batch {a.batch_size} "
          f"epochs {a.epochs} seq {a.max_seq_len}; transformers, {a.threads} thread(s)", flush=True)
    for epoch in range(1, a.epochs + 1):
        t0 = time.time()
        net.train()
        order = list(range(len(train)))
        rng.shuffle(order)
        losses = []
        for s in range(steps_per_epoch):
            batch, y = encode([train[i] for i in order[s * a.batch_size:(s + 1) * a.batch_size]])
            out = logits_of(batch)
            loss = loss_fn(out.squeeze(-1), y) if labels is None else loss_fn(out, y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
        net.eval()
        preds = []
        with torch.no_grad():
            for s in range(0, len(dev), 128):
                batch, _ = encode(dev[s:s + 128])
                out = logits_of(batch)
                preds += out.squeeze(-1).tolist() if labels is None else out.argmax(-1).tolist()
        golds = [r[1] for r in dev]
        if labels is None:
            shown = f"pearson {pearson(preds, golds):.4f}"
        else:
            acc, f1, mcc = binary_scores(preds, golds)
            shown = f"accuracy {acc:.4f}  f1 {f1:.4f}  mcc {mcc:.4f}"
        print(f"epoch {epoch}  train_loss {sum(losses) / len(losses):.4f}  {shown}  ({time.time() - t0:.1f} s)",
              flush=True)


if __name__ == "__main__":
    main()
