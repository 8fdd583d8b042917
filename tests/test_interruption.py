"""A killed train_cnn leaves no truncated output, and resuming ends where a clean run would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fmnist.networks import LeNet, save_cnn
from fmnist.paths import CHECKPOINT_DIR, CNN_LIVE, CNN_MODEL
from fmnist.stages import prepare

from conftest import small_params, small_params_dict

pytestmark = pytest.mark.slow

QUICK_CNN = {"prepare.train_size": 3000, "cnn.epochs": 3, "cnn.batch_size": 64}
# Every switch that keeps state across epochs: schedule, EMA, lookahead, the augmentation generator.
FULL_RECIPE = {"cnn.arch": "lenet_bn", "cnn.schedule": "onecycle", "cnn.weight_decay": 0.05,
               "cnn.label_smoothing": 0.1, "cnn.crop_padding": 2, "cnn.hflip": True,
               "cnn.random_erasing": 0.5, "cnn.ema": 0.9, "cnn.lookahead": True}  # fmt: skip


def start_training(cwd: Path, recipe: dict | None = None) -> subprocess.Popen:
    (cwd / "params.yaml").write_text(yaml.safe_dump(small_params_dict(**QUICK_CNN | (recipe or {}))))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DVCLIVE_TEST", None)
    # A shell's background job starts with SIGINT ignored, and Python then never turns it
    # into KeyboardInterrupt: give the child the default, as a terminal would.
    return subprocess.Popen([sys.executable, "-m", "fmnist.stages.train_cnn"], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip


def wait_for(proc: subprocess.Popen, text: str) -> str:
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"process ended without printing {text!r}:\n{''.join(seen)}")


def finish(proc: subprocess.Popen) -> str:
    out = proc.stdout.read()
    assert proc.wait(timeout=120) == 0, out
    return out


@pytest.fixture
def prepared(workdir):
    prepare.stage(small_params(**QUICK_CNN))
    return workdir


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGKILL, -signal.SIGKILL)])
def test_a_killed_run_leaves_the_previous_model_intact(prepared, sig, code):
    save_cnn(CNN_MODEL, LeNet())
    before = CNN_MODEL.read_bytes()
    proc = start_training(prepared, {"cnn.epochs": 1000})  # cannot end before the signal
    wait_for(proc, "epoch   1/1000")
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == code
    assert CNN_MODEL.read_bytes() == before
    assert [p.name for p in CNN_MODEL.parent.iterdir()] == [CNN_MODEL.name]  # no temp files


MUON = {"cnn.arch": "vgg", "cnn.width": 8, "cnn.optimizer": "muon", "cnn.schedule": "onecycle"}


@pytest.mark.parametrize("recipe", [{}, FULL_RECIPE, MUON], ids=["study", "every-switch", "muon"])
def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(prepared, tmp_path_factory, recipe):
    proc = start_training(prepared, recipe)
    wait_for(proc, "epoch   2/3")
    proc.kill()
    proc.wait()
    assert not CNN_MODEL.exists()
    out = finish(start_training(prepared, recipe))
    assert "resuming after epoch 2" in out
    assert not any(CHECKPOINT_DIR.iterdir()), "checkpoint kept after success"

    clean = tmp_path_factory.mktemp("clean")
    (clean / "data").symlink_to(prepared / "data")
    assert "resuming" not in finish(start_training(clean, recipe))
    assert CNN_MODEL.read_bytes() == (clean / CNN_MODEL).read_bytes()
    assert ((CNN_LIVE / "plots/metrics/train/loss.tsv").read_text().count("\n")
            == 1 + 3)  # fmt: skip  # resumed epochs are logged again: the curve is whole
