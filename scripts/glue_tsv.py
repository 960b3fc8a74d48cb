"""The GLUE TSV layouts of the shared data, for the Python helpers (scripts/hf-finetune.py,
tests/reference/transformers_parity.py): which columns hold the text and the label, the label
names, whether the file starts with a header line.

TicketLab's own reader is core/text/tasks.cpp; the parity test checks the two agree (identical
token ids on every dev example).
"""
import csv
import sys
from collections import namedtuple

# text_columns: one (single sentence) or two (pair); labels: the class names in label-id order,
# None for regression; header: whether the first line is a header (CoLA's files have none).
Layout = namedtuple("Layout", "text_columns label_column labels header")

LAYOUTS = {
    "CoLA": Layout((3,), 1, ["0", "1"], False),
    "SST-2": Layout((0,), 1, ["0", "1"], True),
    "MRPC": Layout((3, 4), 0, ["0", "1"], True),
    "STS-B": Layout((7, 8), 9, None, True),
    "RTE": Layout((1, 2), 3, ["entailment", "not_entailment"], True),
    "WNLI": Layout((1, 2), 3, ["0", "1"], True),
}


def read(path, task):
    """[(texts, label)]: texts a tuple of one or two strings, label a class id or a float score.
    Exits with FILE:LINE on a short row or an unknown label."""
    layout = LAYOUTS[task]
    cols, label_col, labels = layout.text_columns, layout.label_column, layout.labels
    width = max(max(cols), label_col) + 1
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
            if layout.header and n == 0:
                continue
            if len(row) < width:
                sys.exit(f"{path}:{n + 1}: expected at least {width} columns, got {len(row)}")
            raw = row[label_col]
            if labels is None:
                try:
                    y = float(raw)
                except ValueError:
                    sys.exit(f"{path}:{n + 1}: score {raw!r} is not a number")
            elif raw in labels:
                y = labels.index(raw)
            else:
                sys.exit(f"{path}:{n + 1}: label {raw!r} is not one of {labels}")
            rows.append((tuple(row[c] for c in cols), y))
    return rows
