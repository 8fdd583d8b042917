"""The training loop of every PyTorch network here, the CNN's and the PyTorch MLP's: a seeded
run, one epoch at a time, resumable from a checkpoint. One loop, so the two families get the
same optimizers, schedules, precision, augmentation and averaging, and differ only in structure.

The whole training set lives in one tensor on the device and batches are sliced from a
seeded permutation, which skips ``DataLoader``'s per-sample overhead; the network runs in
channels-last memory format. Every recipe switch (schedule, weight decay, label smoothing,
augmentation, EMA) is off by default, and off it touches neither the code path nor the
random streams of the study's recipe, so its results stay bit-for-bit the same.

Imports neither DVC nor DVCLive: the stage passes a logger in, and a GPU check can run
this module alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LRScheduler, OneCycleLR
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from fmnist.augment import augment
from fmnist.checkpoint import load_checkpoint, save_checkpoint
from fmnist.errors import ParamsError
from fmnist.inference import autocast, predict_logits, to_tensors
from fmnist.muon import MuonWithAdam
from fmnist.networks import VGG, CNNSpec, build_cnn, identity_init, whiten_stem
from fmnist.params import CNNParams, MLPParams, TrainingParams
from fmnist.prepared import Split
from fmnist.torch_mlp import TorchMLP


class Lookahead:
    """airbench's lookahead: every ``EVERY`` steps the slow weights (every floating-point
    entry of the state, BatchNorm's statistics included) move toward the network's, and the
    network takes them. The slow weights' decay grows as (t/T)^3 to 0.95^5, so the averaging
    is light early and strong at the end; the last step hands the network the slow weights."""

    EVERY = 5
    PEAK = 0.95**5

    def __init__(self, model: nn.Module, total_steps: int):
        self.slow = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}
        self.total, self.steps = total_steps, 0

    def step(self, model: nn.Module) -> None:
        self.steps += 1
        if self.steps % self.EVERY == 0:
            self.pull(model, self.PEAK * (self.steps / self.total) ** 3)

    @torch.no_grad()
    def pull(self, model: nn.Module, decay: float) -> None:
        for key, value in model.state_dict().items():
            if key in self.slow:
                self.slow[key].lerp_(value, 1 - decay)
                value.copy_(self.slow[key])


@dataclass
class TrainingRun:
    """Everything that changes while training: what a checkpoint saves and restores."""

    model: nn.Module
    opt: torch.optim.Optimizer
    schedule: LRScheduler | None  # stepped per batch
    ema: AveragedModel | None
    order_rng: torch.Generator  # batch order
    augment_rng: torch.Generator
    lookahead: Lookahead | None = None

    @property
    def final_model(self) -> nn.Module:
        """The weights to evaluate and save: the moving average when EMA is on."""
        return self.ema.module if self.ema is not None else self.model


def spec_of(p: CNNParams) -> CNNSpec:
    return CNNSpec(p.arch, p.width, p.blocks)


def _derived_seed(seed: int, stream: int) -> int:
    return int(np.random.SeedSequence([seed, stream]).generate_state(1)[0])


def configure_batchnorm(model: nn.Module, p: TrainingParams) -> None:
    """BatchNorm as the recipe asks: running-statistics momentum, and scales frozen at 1."""
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.momentum = p.bn_momentum
            if not p.bn_scale and m.weight is not None:
                m.weight.requires_grad_(False)


def param_groups(model: nn.Module, p: TrainingParams) -> list[dict]:
    """Weights decay, biases and BatchNorm do not; BatchNorm biases may take a higher rate."""
    params = [w for w in model.parameters() if w.requires_grad]
    bn_biases = {id(m.bias) for m in model.modules() if isinstance(m, _BatchNorm) and m.bias is not None}
    split_bn = p.bn_bias_lr != 1.0
    groups = [
        {"params": [w for w in params if w.ndim > 1], "weight_decay": p.weight_decay},
        {"params": [w for w in params if w.ndim <= 1 and not (split_bn and id(w) in bn_biases)],
         "weight_decay": 0.0},
    ]  # fmt: skip
    if split_bn:
        groups.append({"params": [w for w in params if id(w) in bn_biases], "weight_decay": 0.0,
                       "lr": p.lr * p.bn_bias_lr})  # fmt: skip
    return [g for g in groups if g["params"]]


def muon_share(model: nn.Module) -> list[torch.Tensor]:
    """What Muon steps: the network's own choice (the MLP's hidden matrices), else its
    trainable convolution filters."""
    if isinstance(model, TorchMLP):
        return model.muon_parameters()
    return [w for w in model.parameters() if w.requires_grad and w.ndim == 4]


def make_optimizer(model: nn.Module, p: TrainingParams) -> torch.optim.Optimizer:
    """Adam (the study's: one group, no decay), AdamW with decay, momentum SGD, or Muon on the
    convolution filters (the MLP's hidden matrices) with Adam on the rest."""
    if p.optimizer == "muon":
        matrices = muon_share(model)
        taken = {id(w) for w in matrices}
        rest = [g | {"params": [w for w in g["params"] if id(w) not in taken]} for g in param_groups(model, p)]
        return MuonWithAdam(matrices, [g for g in rest if g["params"]], p.lr, p.muon_lr, p.momentum)
    plain = not p.weight_decay and p.bn_bias_lr == 1.0 and all(w.requires_grad for w in model.parameters())
    if p.optimizer == "adam" and plain:
        return torch.optim.Adam(model.parameters(), lr=p.lr)
    groups = param_groups(model, p)
    if p.optimizer == "adam":
        return torch.optim.AdamW(groups, lr=p.lr)
    return torch.optim.SGD(groups, lr=p.lr, momentum=p.momentum, nesterov=p.optimizer == "nesterov")


def triangle(step: int, total: int, warmup: float) -> float:
    """The rate's multiplier: linear up to 1 over the warm-up share, then down to 0 at the last step."""
    peak = max(1, round(warmup * total))
    return (step + 1) / peak if step < peak else max(0.0, (total - 1 - step) / max(1, total - peak))


def make_schedule(opt: torch.optim.Optimizer, p: TrainingParams, total_steps: int) -> LRScheduler | None:
    """Per batch. One-cycle also cycles momentum, where the optimizer has one setting for it
    (Adam's beta1, SGD's momentum; not Muon with Adam)."""
    peaks = [g["lr"] for g in opt.param_groups]
    cycle_momentum = "betas" in opt.defaults or "momentum" in opt.defaults
    return {
        "constant": lambda: None,
        "onecycle": lambda: OneCycleLR(
            opt, max_lr=peaks, total_steps=total_steps, pct_start=p.warmup, cycle_momentum=cycle_momentum
        ),
        "cosine": lambda: CosineAnnealingLR(opt, T_max=total_steps),
        "triangular": lambda: LambdaLR(opt, lambda step: triangle(step, total_steps, p.warmup)),
    }[p.schedule]()


def _vgg_only(change: Callable[[nn.Module], None], model: nn.Module, p: CNNParams, key: str) -> None:
    try:
        change(model)
    except TypeError:
        raise ParamsError(f"{key}: only the 'vgg' architecture has it, not {p.arch!r}") from None


WHITENING_IMAGES = 2000  # the first N training images estimate the 3x3 patch covariance

# (device, training images) -> the network, initialised, on the device. Called once the
# seed is set: what it draws is part of the run.
Network = Callable[[torch.device, torch.Tensor | None], nn.Module]


def cnn_network(p: CNNParams) -> Network:
    """The CNN of ``p`` in channels-last memory; ``train_x`` is needed only for ``cnn.whiten``:
    its first images set the frozen stem."""

    def build(device: torch.device, train_x: torch.Tensor | None) -> nn.Module:
        model = build_cnn(spec_of(p), p.dropout).to(device, memory_format=torch.channels_last)  # type: ignore[call-overload]
        if p.identity_init:
            _vgg_only(identity_init, model, p, "cnn.identity_init")
        if p.whiten:
            if train_x is None:
                raise ValueError("cnn.whiten needs the training images")
            _vgg_only(lambda m: whiten_stem(m, train_x[:WHITENING_IMAGES]), model, p, "cnn.whiten")
        return model

    return build


def mlp_network(p: MLPParams) -> Network:
    """The PyTorch MLP of ``p``: ``mlp.hidden_layer_sizes`` and ``mlp.activation``, with
    ``mlp.torch``'s BatchNorm switch and dropout."""
    return lambda device, train_x: TorchMLP(p.hidden_layer_sizes, p.activation, p.torch.batch_norm,
                                            p.torch.dropout).to(device)  # fmt: skip


def start_run(p: TrainingParams, seed: int, device: torch.device, steps_per_epoch: int,
              train_x: torch.Tensor | None = None, network: Network | None = None) -> TrainingRun:  # fmt: skip
    """A fresh run; the order of seeding and construction is what makes it reproducible.

    ``network`` builds the model; by default the CNN that ``p`` (then a CNNParams) describes.
    """
    torch.manual_seed(seed)  # weight init and dropout
    order_rng = torch.Generator().manual_seed(seed)  # batch order, independent of the above
    augment_rng = torch.Generator(device).manual_seed(_derived_seed(seed, 1))
    model = (network or cnn_network(cast(CNNParams, p)))(device, train_x)
    configure_batchnorm(model, p)
    opt = make_optimizer(model, p)
    schedule = make_schedule(opt, p, p.epochs * steps_per_epoch)
    ema = None
    if p.ema:
        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(p.ema), use_buffers=True)
    lookahead = Lookahead(model, p.epochs * steps_per_epoch) if p.lookahead else None
    return TrainingRun(model, opt, schedule, ema, order_rng, augment_rng, lookahead)


@dataclass
class EpochLog:
    loss: float
    accuracy: float


def augmenting(p: TrainingParams) -> bool:
    return bool(p.crop_padding or p.hflip or p.random_erasing)


STEM_BATCH = 1000  # images per pass when computing the frozen stem ahead of training


def training_inputs(model: nn.Module, p: TrainingParams, x: torch.Tensor) -> tuple[torch.Tensor, Callable]:
    """What batches are sliced from, and what maps a batch to logits.

    Normally the images and the model. With a whitened (frozen) stem and no augmentation
    the stem's pooled output never changes, so it is computed once here: a sixth of a
    step's time on two CPU cores, saved every epoch.
    """
    frozen = isinstance(model, VGG) and not cast(nn.Conv2d, model.stem[0]).weight.requires_grad  # cnn.whiten
    if not frozen or augmenting(p):
        return x, model
    vgg = cast(VGG, model)
    with torch.no_grad(), autocast(x.device, p.precision):
        pooled = [vgg.pooled_stem(x[i : i + STEM_BATCH]) for i in range(0, len(x), STEM_BATCH)]
    return torch.cat(pooled), vgg.from_pooled_stem


def train_epoch(
    run: TrainingRun, p: TrainingParams, x, y, order: torch.Tensor, on_batch=None, forward: Callable | None = None
) -> EpochLog:
    """One pass over ``x`` in the given order; loss and accuracy averaged over images.

    ``forward`` maps a batch of ``x`` to logits: the model unless ``training_inputs`` says otherwise.
    """
    run.model.train()
    forward = forward or run.model
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for start in range(0, len(order), p.batch_size):
        idx = order[start : start + p.batch_size]
        xb, yb = x[idx], y[idx]
        if augmenting(p):
            xb = augment(xb, run.augment_rng, p.crop_padding, p.hflip, p.random_erasing)
            xb = xb.contiguous(memory_format=torch.channels_last)
        with autocast(x.device, p.precision):
            logits = forward(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=p.label_smoothing)
        run.opt.zero_grad(set_to_none=True)
        loss.backward()
        run.opt.step()
        if run.schedule is not None:
            run.schedule.step()
        if run.lookahead is not None:
            run.lookahead.step(run.model)
        if run.ema is not None:
            run.ema.update_parameters(run.model)
        loss_sum += loss.detach() * len(idx)
        correct += (logits.argmax(1) == yb).sum()
        if on_batch is not None:
            on_batch(loss_sum, start + len(idx))
    return EpochLog(loss_sum.item() / len(order), correct.item() / len(order))


EpochLogger = Callable[[dict], None]  # called with each epoch's record (the resumed ones too)


def _progress(n: int, p: TrainingParams):
    columns = (TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn())  # fmt: skip
    progress = Progress(*columns)
    task = progress.add_task("train", total=n, epoch="", loss=float("nan"))

    def on_batch(loss_sum: torch.Tensor, seen: int) -> None:
        if seen % (50 * p.batch_size) == 0 or seen == n:  # .item() syncs: not every batch
            progress.update(task, completed=seen, loss=loss_sum.item() / seen)

    return progress, task, on_batch


def validate(model: nn.Module, val_xy: tuple[torch.Tensor, torch.Tensor], precision: str) -> dict:
    logits = predict_logits(model, val_xy[0], 1000, precision=precision)
    return {"val/loss": F.cross_entropy(logits, val_xy[1]).item(),
            "val/accuracy": (logits.argmax(1) == val_xy[1]).float().mean().item()}  # fmt: skip


def import_what_optimizers_import() -> None:
    """Building the first optimizer imports ``torch._dynamo`` (about 2 s on two CPU cores):
    loading code, not training, so it happens before the training clock starts."""
    import torch._dynamo  # noqa: F401


def train_network(train: Split, val: Split, p: TrainingParams, seed: int, device: torch.device,
                  log: EpochLogger | None = None, checkpoint: Path | None = None,
                  network: Network | None = None) -> tuple[nn.Module, float]:  # fmt: skip
    """Train ``network`` (by default the CNN of ``p``) from a fixed seed; returns the final
    model and its training seconds.

    With ``checkpoint``, the state after each epoch is saved there and an existing one is
    resumed from, so an interrupted run picks up where it stopped with identical results.
    """
    log = log or (lambda record: None)
    import_what_optimizers_import()
    start = time.perf_counter()  # the clock covers setting up too: the copy to the device, whitening
    n = len(train.y)
    x, y = to_tensors(train, device)
    val_xy = to_tensors(val, device) if len(val.y) else None
    run = start_run(p, seed, device, steps_per_epoch=-(-n // p.batch_size), train_x=x, network=network)
    history: list[dict] = []
    if checkpoint is not None and checkpoint.exists():
        history = load_checkpoint(checkpoint, run)
        print(f"resuming after epoch {len(history)} from {checkpoint}")
        for record in history:
            log(record)
        start -= sum(h["seconds"] for h in history)

    inputs, forward = training_inputs(run.model, p, x)
    progress, task, on_batch = _progress(n, p)
    with progress:
        for epoch in range(len(history), p.epochs):
            epoch_start = time.perf_counter()
            progress.update(task, completed=0, epoch=f"{epoch + 1}/{p.epochs}")
            order = torch.randperm(n, generator=run.order_rng).to(device, non_blocking=True)
            result = train_epoch(run, p, inputs, y, order, on_batch, forward)
            record = {"train/loss": result.loss, "train/accuracy": result.accuracy}
            if val_xy is not None:
                record |= validate(run.final_model, val_xy, p.precision)
            record["seconds"] = time.perf_counter() - epoch_start
            history.append(record)
            log(record)
            if checkpoint is not None:
                save_checkpoint(checkpoint, run, history)
            shown = "  ".join(f"{k.replace('/', '_')} {v:.4f}" for k, v in record.items() if k != "seconds")
            progress.console.print(f"epoch {epoch + 1:>3}/{p.epochs}  {shown}  [{time.perf_counter() - start:.0f} s]")
    if run.lookahead is not None:
        run.lookahead.pull(run.model, 1.0)  # the network ends as the slow weights
    return run.final_model, time.perf_counter() - start
