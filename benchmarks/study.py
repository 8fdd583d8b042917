"""The study's own code path, re-implemented faithfully as the benchmark's baseline.

What makes it the study's: pixels divided by 255.0 into float64 arrays, ``MLPClassifier``
fitted on them as given, and the CNN trained through ``DataLoader(TensorDataset(...),
batch_size=64, shuffle=True)`` in the default memory format, with PyTorch's default threads
and no allocator tuning. The network is the same LeNet (the study's layers).

    python benchmarks/study.py mlp|cnn RAW_DIR [--train-size N] [--max-iter N] [--epochs N]

Prints one JSON line: train seconds, test accuracy and what was run.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.neural_network import MLPClassifier
from torch.utils.data import DataLoader, TensorDataset

from fmnist.idx import load_raw
from fmnist.networks import LeNet


def load(raw_dir: str, train_size: int):
    raw = load_raw(raw_dir)
    n = train_size or None
    return (raw.train_images[:n] / 255.0, raw.train_labels[:n].astype(np.int64),
            raw.test_images / 255.0, raw.test_labels.astype(np.int64))  # fmt: skip


def mlp(x_train, y_train, x_test, y_test, max_iter: int) -> dict:
    clf = MLPClassifier(hidden_layer_sizes=(256, 128), activation="relu", solver="adam", alpha=1e-4,
                        learning_rate_init=1e-3, max_iter=max_iter, random_state=0)  # fmt: skip
    start = time.perf_counter()
    clf.fit(x_train.reshape(len(x_train), -1), y_train)
    seconds = time.perf_counter() - start
    accuracy = clf.score(x_test.reshape(len(x_test), -1), y_test)
    return {"train_seconds": seconds, "iterations": clf.n_iter_, "test_accuracy": accuracy}


def cnn(x_train, y_train, x_test, y_test, epochs: int) -> dict:
    torch.manual_seed(0)
    model = LeNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = TensorDataset(torch.tensor(x_train, dtype=torch.float32).unsqueeze(1), torch.tensor(y_train))
    loader = DataLoader(data, batch_size=64, shuffle=True)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor(x_test, dtype=torch.float32).unsqueeze(1))
    accuracy = (logits.argmax(1).numpy() == y_test).mean()
    return {"train_seconds": seconds, "epochs": epochs, "test_accuracy": float(accuracy)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=("mlp", "cnn"))
    ap.add_argument("raw_dir")
    ap.add_argument("--train-size", type=int, default=0)
    ap.add_argument("--max-iter", type=int, default=200)
    ap.add_argument("--epochs", type=int, default=15)
    args = ap.parse_args()
    data = load(args.raw_dir, args.train_size)
    result = mlp(*data, args.max_iter) if args.model == "mlp" else cnn(*data, args.epochs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
