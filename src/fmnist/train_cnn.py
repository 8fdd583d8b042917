"""Stage `train_cnn`: the study's LeNet-style CNN in PyTorch.

The whole training set lives in one tensor on the device and batches are sliced from a
seeded permutation, which skips ``DataLoader``'s per-sample overhead; the network runs in
channels-last memory format, which is faster for these convolutions on CPU.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fmnist.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from fmnist.cli import run_stage
from fmnist.data import Split, load_prepared
from fmnist.errors import ParamsError
from fmnist.models import LeNet
from fmnist.params import CNNParams, Params
from fmnist.prepare import PREPARED_DIR
from fmnist.tracking import live_logger
from fmnist.weights import save_cnn

MODEL_FILE = Path("models/cnn.safetensors")
LIVE_DIR = "dvclive/train_cnn"


def pick_device(name: str) -> torch.device:
    """'auto' means CUDA when present, else CPU; asking for absent CUDA is an error."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ParamsError("cnn.device: 'cuda' was asked for but no CUDA device is available")
    return torch.device(name)


def to_tensors(split: Split, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(np.array(split.x)).unsqueeze(1)  # (N, 1, 28, 28), a private copy
    x = x.to(device).contiguous(memory_format=torch.channels_last)
    return x, torch.from_numpy(split.y).to(device)


@torch.inference_mode()
def predict_logits(model: torch.nn.Module, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


@dataclass
class EpochLog:
    loss: float
    accuracy: float


def train_epoch(model, opt, x, y, batch_size: int, order: torch.Tensor, on_batch=None) -> EpochLog:
    """One pass over ``x`` in the given order; loss and accuracy averaged over images."""
    model.train()
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        xb, yb = x[idx], y[idx]
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.detach() * len(idx)
        correct += (logits.argmax(1) == yb).sum()
        if on_batch is not None:
            on_batch(loss_sum, start + len(idx))
    return EpochLog(loss_sum.item() / len(order), correct.item() / len(order))


def log_epoch(live, record: dict) -> None:
    """One DVCLive step per epoch, so curves grow while training runs."""
    if live is None:
        return
    for name, value in record.items():
        if name != "seconds":
            live.log_metric(name, value)
    live.next_step()


def train_cnn(train: Split, val: Split, p: CNNParams, seed: int, device: torch.device,
              live=None, show_progress: bool = True,
              checkpoint: Path | None = None) -> tuple[LeNet, float]:  # fmt: skip
    """Train from a fixed seed; returns the model and its training seconds.

    With ``checkpoint``, the state after each epoch is saved there and an existing one is
    resumed from, so an interrupted run picks up where it stopped with identical results.
    """
    torch.manual_seed(seed)  # weight init and dropout
    order_rng = torch.Generator().manual_seed(seed)  # batch order, independent of the above
    model = LeNet(p.dropout).to(device, memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    history: list[dict] = []
    if checkpoint is not None and checkpoint.exists():
        history = load_checkpoint(checkpoint, model, opt, order_rng)
        print(f"train_cnn: resuming after epoch {len(history)} from {checkpoint}")
        for record in history:
            log_epoch(live, record)
    x, y = to_tensors(train, device)
    val_xy = to_tensors(val, device) if len(val.y) else None
    n = len(y)

    columns = (TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn())  # fmt: skip
    start = time.perf_counter() - sum(h["seconds"] for h in history)
    with Progress(*columns, disable=not show_progress) as progress:
        task = progress.add_task("train", total=n, epoch="", loss=float("nan"))

        def on_batch(loss_sum: torch.Tensor, seen: int) -> None:
            if seen % (50 * p.batch_size) == 0 or seen == n:  # .item() syncs: not every batch
                progress.update(task, completed=seen, loss=loss_sum.item() / seen)

        for epoch in range(len(history), p.epochs):
            epoch_start = time.perf_counter()
            progress.update(task, completed=0, epoch=f"{epoch + 1}/{p.epochs}")
            order = torch.randperm(n, generator=order_rng).to(device)
            log = train_epoch(model, opt, x, y, p.batch_size, order, on_batch)
            record = {"train/loss": log.loss, "train/accuracy": log.accuracy}
            if val_xy is not None:
                logits = predict_logits(model, val_xy[0], 1000)
                record["val/loss"] = F.cross_entropy(logits, val_xy[1]).item()
                record["val/accuracy"] = (logits.argmax(1) == val_xy[1]).float().mean().item()
            record["seconds"] = time.perf_counter() - epoch_start
            history.append(record)
            log_epoch(live, record)
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, opt, order_rng, history)
            shown = "  ".join(f"{k.replace('/', '_')} {v:.4f}" for k, v in record.items() if k != "seconds")
            progress.console.print(f"epoch {epoch + 1:>3}/{p.epochs}  {shown}  [{time.perf_counter() - start:.0f} s]")
    return model, time.perf_counter() - start


def stage(params: Params) -> None:
    device = pick_device(params.cnn.device)
    train = load_prepared(PREPARED_DIR, "train")
    val = load_prepared(PREPARED_DIR, "val")
    checkpoint = checkpoint_path(params.cnn, params.seed, PREPARED_DIR / "train_x.npy")
    with live_logger(LIVE_DIR) as live:
        model, seconds = train_cnn(train, val, params.cnn, params.seed, device, live,
                                   checkpoint=checkpoint)  # fmt: skip
        save_cnn(MODEL_FILE, model)
        live.summary["train_seconds"] = round(seconds, 3)
        live.summary["seconds_per_epoch"] = round(seconds / params.cnn.epochs, 3)
        live.summary["device"] = str(device)
        # CPU kernels here give identical results run to run (tested); CUDA's may not.
        live.summary["deterministic"] = device.type == "cpu"
    checkpoint.unlink(missing_ok=True)
    print(f"train_cnn: {params.cnn.epochs} epochs on {device} in {seconds:.1f} s")


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
