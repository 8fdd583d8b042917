"""Stage `train_cnn`: the CNN and its training recipe from ``params.yaml`` (default: the study's).

The loop lives in ``training``; this stage feeds it the prepared arrays, logs each
epoch with DVCLive, keeps a resumable checkpoint outside DVC's outputs and saves the
weights.
"""

from __future__ import annotations

from fmnist.checkpoint import checkpoint_path
from fmnist.inference import pick_device, resolve_precision
from fmnist.io import write_json
from fmnist.machine import record
from fmnist.networks import save_cnn
from fmnist.params import Params
from fmnist.paths import CNN_LIVE, CNN_MACHINE, CNN_MODEL, PREPARED_DIR
from fmnist.prepared import load_prepared
from fmnist.runner import run_stage
from fmnist.tracking import epoch_logger, live_logger
from fmnist.training import cnn_network, spec_of, train_network


def stage(params: Params) -> None:
    p = params.cnn
    device = pick_device(p.device)
    train = load_prepared(PREPARED_DIR, "train")
    val = load_prepared(PREPARED_DIR, "val")
    checkpoint = checkpoint_path(p, params.cnn_seed, PREPARED_DIR / "train_x.npy")
    with live_logger(CNN_LIVE) as live:
        model, seconds = train_network(train, val, p, params.cnn_seed, device, epoch_logger(live), checkpoint,
                                       cnn_network(p))  # fmt: skip
        save_cnn(CNN_MODEL, model, spec_of(p))
        live.summary["train_seconds"] = round(seconds, 3)
    # Words, not numbers: kept out of the declared summary so `dvc exp show` and `dvc metrics
    # diff` compare numbers. Weights and seconds follow the CPU family; CUDA's bytes may differ.
    precision = resolve_precision(device, p.precision)
    write_json(CNN_MACHINE, {"device": str(device), "precision": precision, **record(str(device))})
    checkpoint.unlink(missing_ok=True)
    print(f"train_cnn: {p.arch}, {p.epochs} epochs on {device} ({precision}) in {seconds:.1f} s")


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
