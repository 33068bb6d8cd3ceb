"""Peer for bench/scorecard: sklearn's quantile-binned logistic regression on the same split.

Usage: python3 sklearn_binned_lr.py DATA.csv[.gz] TARGET BAD SPLIT.json
SPLIT.json holds {"train": [row indexes], "test": [row indexes]} (0-based data rows) from the
TypeScript benchmark, so both models see exactly the same rows. Prints one JSON line.
"""
import csv
import gzip
import json
import sys
import time
import warnings

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder

MISSING = {"", "NA", "NaN", "nan", "null", "NULL"}
ID_COLUMNS = {"", "id", "ID"}


def main() -> None:
    path, target, bad, split_path = sys.argv[1:5]
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        rows = list(csv.reader(f))
    header, data = rows[0], rows[1:]
    t = header.index(target)
    y = np.array([1 if r[t] == bad else 0 for r in data])
    columns = [c for c, name in enumerate(header) if c != t and name not in ID_COLUMNS]

    def numeric(c: int) -> bool:
        try:
            for r in data:
                if r[c] not in MISSING:
                    float(r[c])
            return True
        except ValueError:
            return False

    num = [c for c in columns if numeric(c)]
    cat = [c for c in columns if c not in num]
    x_num = np.array([[float(r[c]) if r[c] not in MISSING else np.nan for c in num] for r in data]) if num else np.empty((len(data), 0))
    x_cat = np.array([[r[c] for c in cat] for r in data], dtype=object) if cat else np.empty((len(data), 0), dtype=object)
    x = np.concatenate([x_num.astype(object), x_cat], axis=1)
    n_num = len(num)
    prep = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                          ("bins", KBinsDiscretizer(n_bins=10, encode="onehot", strategy="quantile"))]), list(range(n_num))),
        ("cat", OneHotEncoder(handle_unknown="ignore"), list(range(n_num, x.shape[1]))),
    ])
    model = Pipeline([("prep", prep), ("lr", LogisticRegression(max_iter=2000))])
    split = json.load(open(split_path))
    train, test = np.array(split["train"]), np.array(split["test"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        model.fit(x[train], y[train])
        ms = (time.perf_counter() - started) * 1000
        p = model.predict_proba(x[test])[:, 1]
    print(json.dumps({"auc": roc_auc_score(y[test], p), "trainMs": ms}))


main()
