"""Stage `train_cnn`: the CNN and its training recipe from ``params.yaml`` (default: the study's).

The loop lives in ``cnn_training``; this stage feeds it the prepared arrays, logs each
epoch with DVCLive, keeps a resumable checkpoint outside DVC's outputs and saves the
weights.
"""

from __future__ import annotations

from fmnist.checkpoint import checkpoint_path
from fmnist.cnn_training import spec_of, train_cnn
from fmnist.inference import pick_device, resolve_precision
from fmnist.machine import caption, describe
from fmnist.networks import check_arch, save_cnn
from fmnist.params import Params
from fmnist.paths import CNN_LIVE, CNN_MODEL, PREPARED_DIR
from fmnist.prepared import load_prepared
from fmnist.runner import run_stage
from fmnist.tracking import live_logger


def epoch_logger(live):
    """One DVCLive step per epoch, so curves grow while training runs."""

    def log(record: dict) -> None:
        for name, value in record.items():
            if name != "seconds":
                live.log_metric(name, value)
        live.next_step()

    return log


def stage(params: Params) -> None:
    p = params.cnn
    check_arch(p.arch)
    device = pick_device(p.device)
    train = load_prepared(PREPARED_DIR, "train")
    val = load_prepared(PREPARED_DIR, "val")
    checkpoint = checkpoint_path(p, params.seed, PREPARED_DIR / "train_x.npy")
    with live_logger(CNN_LIVE) as live:
        model, seconds = train_cnn(train, val, p, params.seed, device, epoch_logger(live), checkpoint)
        save_cnn(CNN_MODEL, model, spec_of(p))
        live.summary["train_seconds"] = round(seconds, 3)
        live.summary["device"] = str(device)  # CPU runs are byte-reproducible (tested); CUDA's may not be
        live.summary["precision"] = resolve_precision(device, p.precision)
        live.summary["machine"] = caption(describe())  # weights and seconds depend on the CPU family
    checkpoint.unlink(missing_ok=True)
    print(f"train_cnn: {p.arch}, {p.epochs} epochs on {device} ({resolve_precision(device, p.precision)}) "
          f"in {seconds:.1f} s")  # fmt: skip


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
