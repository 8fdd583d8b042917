"""Stage `train_cnn`: the CNN and its training recipe from ``params.yaml`` (default: the study's).

The whole training set lives in one tensor on the device and batches are sliced from a
seeded permutation, which skips ``DataLoader``'s per-sample overhead; the network runs in
channels-last memory format. Every recipe switch (schedule, weight decay, label smoothing,
augmentation, EMA) is off by default, and off it touches neither the code path nor the
random streams of the study's recipe, so its results stay bit-for-bit the same.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LRScheduler, OneCycleLR
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from fmnist.augment import augment
from fmnist.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from fmnist.cli import run_stage
from fmnist.data import Split, load_prepared
from fmnist.errors import ParamsError
from fmnist.models import CNNSpec, build_cnn
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
    """The split as two device-resident tensors, copied once (pinned, asynchronous on CUDA)."""
    x = torch.from_numpy(np.array(split.x)).unsqueeze(1)  # (N, 1, 28, 28), a private copy
    y = torch.from_numpy(split.y)
    if device.type == "cuda":
        x, y = x.pin_memory(), y.pin_memory()
    x = x.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
    return x, y.to(device, non_blocking=True)


def autocast(device: torch.device):
    """bf16 mixed precision on CUDA devices that have it; full fp32 elsewhere (CPU: no gain)."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.inference_mode()
def predict_logits(
    model: nn.Module, x: torch.Tensor, batch_size: int, tta_flip: bool = False
) -> torch.Tensor:
    """Logits in batches; with ``tta_flip`` the mean of the image's and its mirror image's."""
    model.eval()
    out = []
    with autocast(x.device):
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size]
            logits = model(xb).float()
            out.append((logits + model(xb.flip(3)).float()) / 2 if tta_flip else logits)
    return torch.cat(out)


@dataclass
class TrainingRun:
    """Everything that changes while training: what a checkpoint saves and restores."""

    model: nn.Module
    opt: torch.optim.Optimizer
    schedule: LRScheduler | None  # stepped per batch
    ema: AveragedModel | None
    order_rng: torch.Generator  # batch order
    augment_rng: torch.Generator

    @property
    def final_model(self) -> nn.Module:
        """The weights to evaluate and save: the moving average when EMA is on."""
        return self.ema.module if self.ema is not None else self.model


def _derived_seed(seed: int, stream: int) -> int:
    return int(np.random.SeedSequence([seed, stream]).generate_state(1)[0])


def start_run(p: CNNParams, seed: int, device: torch.device, steps_per_epoch: int) -> TrainingRun:
    """A fresh run; the order of seeding and construction is what makes it reproducible."""
    torch.manual_seed(seed)  # weight init and dropout
    order_rng = torch.Generator().manual_seed(seed)  # batch order, independent of the above
    augment_rng = torch.Generator(device).manual_seed(_derived_seed(seed, 1))
    model = build_cnn(CNNSpec(p.arch, p.width, p.blocks), p.dropout)
    model = model.to(device, memory_format=torch.channels_last)
    if p.weight_decay:  # decoupled, and not on biases or BatchNorm scales
        decayed = [w for w in model.parameters() if w.ndim > 1]
        others = [w for w in model.parameters() if w.ndim <= 1]
        groups = [
            {"params": decayed, "weight_decay": p.weight_decay},
            {"params": others, "weight_decay": 0.0},
        ]
        opt = torch.optim.AdamW(groups, lr=p.lr)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    total_steps = p.epochs * steps_per_epoch
    schedule = {
        "constant": lambda: None,
        "onecycle": lambda: OneCycleLR(opt, max_lr=p.lr, total_steps=total_steps),
        "cosine": lambda: CosineAnnealingLR(opt, T_max=total_steps),
    }[p.schedule]()
    ema = None
    if p.ema:
        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(p.ema), use_buffers=True)
    return TrainingRun(model, opt, schedule, ema, order_rng, augment_rng)


@dataclass
class EpochLog:
    loss: float
    accuracy: float


def train_epoch(
    run: TrainingRun, p: CNNParams, x, y, order: torch.Tensor, on_batch=None
) -> EpochLog:
    """One pass over ``x`` in the given order; loss and accuracy averaged over images."""
    run.model.train()
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    augmenting = p.crop_padding or p.hflip or p.random_erasing
    for start in range(0, len(order), p.batch_size):
        idx = order[start : start + p.batch_size]
        xb, yb = x[idx], y[idx]
        if augmenting:
            xb = augment(xb, run.augment_rng, p.crop_padding, p.hflip, p.random_erasing)
            xb = xb.contiguous(memory_format=torch.channels_last)
        with autocast(x.device):
            logits = run.model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=p.label_smoothing)
        run.opt.zero_grad(set_to_none=True)
        loss.backward()
        run.opt.step()
        if run.schedule is not None:
            run.schedule.step()
        if run.ema is not None:
            run.ema.update_parameters(run.model)
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
              live=None, checkpoint: Path | None = None) -> tuple[nn.Module, float]:  # fmt: skip
    """Train from a fixed seed; returns the final model and its training seconds.

    With ``checkpoint``, the state after each epoch is saved there and an existing one is
    resumed from, so an interrupted run picks up where it stopped with identical results.
    """
    n = len(train.y)
    run = start_run(p, seed, device, steps_per_epoch=-(-n // p.batch_size))
    history: list[dict] = []
    if checkpoint is not None and checkpoint.exists():
        history = load_checkpoint(checkpoint, run)
        print(f"train_cnn: resuming after epoch {len(history)} from {checkpoint}")
        for record in history:
            log_epoch(live, record)
    x, y = to_tensors(train, device)
    val_xy = to_tensors(val, device) if len(val.y) else None

    columns = (TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn())  # fmt: skip
    start = time.perf_counter() - sum(h["seconds"] for h in history)
    with Progress(*columns) as progress:
        task = progress.add_task("train", total=n, epoch="", loss=float("nan"))

        def on_batch(loss_sum: torch.Tensor, seen: int) -> None:
            if seen % (50 * p.batch_size) == 0 or seen == n:  # .item() syncs: not every batch
                progress.update(task, completed=seen, loss=loss_sum.item() / seen)

        for epoch in range(len(history), p.epochs):
            epoch_start = time.perf_counter()
            progress.update(task, completed=0, epoch=f"{epoch + 1}/{p.epochs}")
            order = torch.randperm(n, generator=run.order_rng).to(device, non_blocking=True)
            log = train_epoch(run, p, x, y, order, on_batch)
            record = {"train/loss": log.loss, "train/accuracy": log.accuracy}
            if val_xy is not None:
                logits = predict_logits(run.final_model, val_xy[0], 1000)
                record["val/loss"] = F.cross_entropy(logits, val_xy[1]).item()
                record["val/accuracy"] = (logits.argmax(1) == val_xy[1]).float().mean().item()
            record["seconds"] = time.perf_counter() - epoch_start
            history.append(record)
            log_epoch(live, record)
            if checkpoint is not None:
                save_checkpoint(checkpoint, run, history)
            shown = "  ".join(
                f"{k.replace('/', '_')} {v:.4f}" for k, v in record.items() if k != "seconds"
            )
            progress.console.print(
                f"epoch {epoch + 1:>3}/{p.epochs}  {shown}  [{time.perf_counter() - start:.0f} s]"
            )
    return run.final_model, time.perf_counter() - start


def stage(params: Params) -> None:
    p = params.cnn
    device = pick_device(p.device)
    train = load_prepared(PREPARED_DIR, "train")
    val = load_prepared(PREPARED_DIR, "val")
    checkpoint = checkpoint_path(p, params.seed, PREPARED_DIR / "train_x.npy")
    with live_logger(LIVE_DIR) as live:
        model, seconds = train_cnn(train, val, p, params.seed, device, live, checkpoint=checkpoint)
        save_cnn(MODEL_FILE, model, CNNSpec(p.arch, p.width, p.blocks))
        live.summary["train_seconds"] = round(seconds, 3)
        live.summary["seconds_per_epoch"] = round(seconds / p.epochs, 3)
        live.summary["device"] = str(device)
        # CPU kernels here give identical results run to run (tested); CUDA's may not.
        live.summary["deterministic"] = device.type == "cpu"
    checkpoint.unlink(missing_ok=True)
    print(f"train_cnn: {p.arch}, {p.epochs} epochs on {device} in {seconds:.1f} s")


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
