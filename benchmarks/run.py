"""Benchmark: the study's code path against this repository's stages, same data, same model,
same machine.

    python benchmarks/run.py            # the study's defaults on all 60,000 images (~25 min here)
    python benchmarks/run.py --quick    # 10,000 images, MLP 20 iterations, CNN 2 epochs (~2 min)
    python benchmarks/run.py --max-iter 30 --epochs 3   # all images, capped: per-iteration rates

Both sides train the study's models: ours from params.yaml as the commit has it (HEAD), not
as the workspace holds it, since `dvc exp run` leaves an experiment's params applied there.
The report names what each side trained (architecture, precision, batch, epochs) and
computes FLOPs and the fraction of the fp32 peak from that model. Each model is trained by
both implementations in turn, in fresh processes, alternating which goes first in each
repeat, so drift in the machine's speed hits both sides. Ours are the real stage commands
(``python -m fmnist.stages.train_mlp`` ...) in a scratch copy of the pipeline. Writes
``benchmarks/results/<mode>.{json,md}`` (``--out DIR`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import torch
import yaml
from matmul_peak import peak_gflops  # benchmarks/, beside this file
from rich.console import Console
from rich.table import Table

from fmnist.machine import caption, describe
from fmnist.networks import LeNet, training_flops

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
FULL_IMAGES = 60_000


def run_measured(cmd: list[str], cwd: Path) -> dict:
    """Run a command; its wall and CPU seconds and peak RSS (from wait4), and its stdout."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark: {shlex.join(cmd)} failed ({proc.returncode}):\n{text[-3000:]}")
    return {"wall_seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_rss_gb": usage.ru_maxrss / 2**20, "stdout": text}  # fmt: skip


def committed_params() -> dict:
    """params.yaml as HEAD has it: the study's defaults, whatever an experiment left in the workspace."""
    shown = subprocess.run(["git", "show", "HEAD:params.yaml"], cwd=REPO, capture_output=True, text=True)
    if shown.returncode != 0:
        raise SystemExit(f"benchmark: cannot read HEAD:params.yaml in {REPO} ({shown.stderr.strip()}); "
                         "pass --params FILE")  # fmt: skip
    return yaml.safe_load(shown.stdout)


def what_ran(cnn: dict, epochs: int) -> dict:
    """The CNN a side trained, as the report names it."""
    return {"arch": cnn["arch"], "width": cnn.get("width"), "blocks": cnn.get("blocks"),
            "precision": cnn.get("precision", "fp32"), "batch_size": cnn["batch_size"], "epochs": epochs}  # fmt: skip


STUDY_CNN = {"arch": "lenet", "precision": "fp32", "batch_size": 64}  # benchmarks/study.py's network and loop


def training_flops_per_image(cnn: dict) -> float:
    """Forward plus backward FLOPs of one training image through the CNN that side trained."""
    from fmnist.networks import CNNSpec, build_cnn

    model = LeNet() if cnn["arch"] == "lenet" else build_cnn(CNNSpec(cnn["arch"], cnn["width"], cnn["blocks"]), 0.0)
    return training_flops(model)


def machine() -> dict:
    return describe() | {"python": platform.python_version(),
                         **{pkg: version(pkg) for pkg in ("torch", "scikit-learn", "numpy", "dvc")}}  # fmt: skip


def scratch_pipeline(where: Path, params: dict, overrides: dict) -> dict:
    """``params`` with ``overrides`` as the scratch pipeline's params.yaml, and the fetched and
    prepared data (untimed); returns the params written."""
    for key, value in overrides.items():
        section, name = key.split(".")
        params[section][name] = value
    (where / "params.yaml").write_text(yaml.safe_dump(params))
    for stage in ("fetch", "prepare"):
        run_measured([sys.executable, "-m", f"fmnist.stages.{stage}"], where)
    return params


def ours(stage: str, where: Path) -> dict:
    result = run_measured([sys.executable, "-m", f"fmnist.stages.{stage}"], where)
    if stage.startswith("train_"):
        summary = json.loads((where / "dvclive" / stage / "metrics.json").read_text())
        result["train_seconds"] = summary["train_seconds"]
    return result


def study(model: str, where: Path, args: list[str]) -> dict:
    cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "study.py"),
        model,
        str(where / "data" / "raw"),
        *args,
    ]
    result = run_measured(cmd, where)
    result.update(json.loads(result["stdout"].strip().splitlines()[-1]))
    return result


def timed_dvc(args: list[str]) -> float | None:
    """Seconds of a dvc command in the repository itself, when its workspace is up to date."""
    status = subprocess.run(["dvc", "status", "--json"], cwd=REPO, capture_output=True, text=True)
    if status.returncode != 0 or json.loads(status.stdout or "{}"):
        return None
    return run_measured(["dvc", *args], REPO)["wall_seconds"]


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def summarize(runs: dict[str, list[dict]], epochs: int, images: int, peak: float, flops: dict[str, float]) -> dict:
    rows = {}
    for name in ("mlp", "cnn"):
        s, o = runs[f"study_{name}"], runs[f"ours_{name}"]
        rows[name] = {
            side: {k: median(r, k) for k in ("wall_seconds", "cpu_seconds", "peak_rss_gb", "train_seconds")}
            for side, r in (("study", s), ("ours", o))
        }
        rows[name]["study"]["test_accuracy"] = median(s, "test_accuracy")
        rows[name]["ours"]["test_accuracy"] = median(o, "test_accuracy")
        rows[name]["train_ratio"] = rows[name]["study"]["train_seconds"] / rows[name]["ours"]["train_seconds"]
    cnn = rows["cnn"]
    for side in ("study", "ours"):
        per_epoch = cnn[side]["train_seconds"] / epochs
        cnn[side]["seconds_per_epoch"] = per_epoch
        cnn[side]["fraction_of_fp32_peak"] = flops[side] * images / per_epoch / (peak * 1e9)
    evaluate = {k: median(runs["ours_evaluate"], k) for k in ("wall_seconds", "cpu_seconds", "peak_rss_gb")}
    study_total = sum(rows[m]["study"]["wall_seconds"] for m in ("mlp", "cnn"))
    ours_total = sum(rows[m]["ours"]["wall_seconds"] for m in ("mlp", "cnn")) + evaluate["wall_seconds"]
    return {"models": rows, "ours_evaluate": evaluate,
            "pipeline_after_prepare": {"study_seconds": study_total, "ours_seconds": ours_total,
                                       "ratio": study_total / ours_total}}  # fmt: skip


def render(result: dict) -> str:
    s = result["summary"]
    lines = [
        f"# Benchmark: {result['mode']}", "",
        f"`{result['command']}` on {result['date']}",
        "", f"Machine: {caption(result['machine'])}; measured fp32 matmul peak "
        f"{result['fp32_peak_gflops']:.0f} GFLOP/s. " + ", ".join(
            f"{k} {result['machine'][k]}" for k in ("python", "scikit-learn", "numpy", "dvc", "cuda")),
        f"Workload: {result['workload']}; {result['repeats']} repeat(s), medians shown.", "",
        "| stage | impl | train s | wall s | CPU s | peak RSS GB | test acc % | study/ours (train) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for name, row in s["models"].items():
        for side in ("study", "ours"):
            r = row[side]
            ratio = f"**{row['train_ratio']:.2f}x**" if side == "ours" else ""
            lines.append(f"| {name} | {side} | {r['train_seconds']:.1f} | {r['wall_seconds']:.1f} | "
                         f"{r['cpu_seconds']:.1f} | {r['peak_rss_gb']:.2f} | {100 * r['test_accuracy']:.2f} | {ratio} |")  # fmt: skip
    e, p = s["ours_evaluate"], s["pipeline_after_prepare"]
    lines.append(
        f"| evaluate | ours | | {e['wall_seconds']:.1f} | {e['cpu_seconds']:.1f} | {e['peak_rss_gb']:.2f} | | |"
    )
    cnn, trained, mflop = s["models"]["cnn"], result["cnn_trained"], result["training_mflop_per_image"]
    name = lambda c: f"{c['arch']} ({c['precision']}, batch {c['batch_size']}, {c['epochs']} epochs)"  # noqa: E731
    lines += [
        "",
        f"- CNN trained: study {name(trained['study'])}, ours {name(trained['ours'])}"
        + ("." if trained["study"]["arch"] == trained["ours"]["arch"] else
           ": **different models**, so the ratio compares recipes, not implementations."),
        f"- CNN seconds per epoch: study {cnn['study']['seconds_per_epoch']:.1f}, ours "
        f"{cnn['ours']['seconds_per_epoch']:.1f}; fraction of the fp32 peak (training MFLOP per image, "
        f"of the model each side trained: study {mflop['study']:.1f}, ours {mflop['ours']:.1f}): study "
        f"{100 * cnn['study']['fraction_of_fp32_peak']:.0f} %, ours {100 * cnn['ours']['fraction_of_fp32_peak']:.0f} %.",
        f"- Pipeline after `prepare` (MLP + CNN processes; ours also `evaluate`): study {p['study_seconds']:.0f} s, "
        f"ours {p['ours_seconds']:.0f} s, **{p['ratio']:.2f}x**.",
    ]  # fmt: skip
    for name, secs in result["dvc"].items():
        lines.append(f"- `dvc {name}` in the repository: "
                     + ("skipped (workspace not up to date)" if secs is None else f"{secs:.2f} s"))  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a slice and a few epochs, for trying changes")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--max-iter", type=int, help="cap the MLP's iterations (both sides)")
    ap.add_argument("--epochs", type=int, help="cap the CNN's epochs (both sides)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"),
                    help="our CNN's device (the study's code ran on the CPU); default cpu")  # fmt: skip
    ap.add_argument("--train-size", type=int, help="cap the training images (both sides)")
    ap.add_argument("--params", type=Path, help="our side's params.yaml (default: HEAD's, the study's)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="where <mode>.{json,md} go (default: %(default)s)")
    args = ap.parse_args()
    images, max_iter, epochs = (10_000, 20, 2) if args.quick else (FULL_IMAGES, 200, 15)
    images, max_iter, epochs = args.train_size or images, args.max_iter or max_iter, args.epochs or epochs
    overrides = {"prepare.train_size": 0 if images == FULL_IMAGES else images, "mlp.max_iter": max_iter,
                 "cnn.epochs": epochs, "cnn.device": args.device}  # fmt: skip
    console = Console()
    peak = peak_gflops(torch.float32)
    runs: dict[str, list[dict]] = {k: [] for k in ("study_mlp", "ours_mlp", "study_cnn", "ours_cnn", "ours_evaluate")}
    study_args = ["--train-size", str(images), "--max-iter", str(max_iter), "--epochs", str(epochs)]
    with tempfile.TemporaryDirectory(prefix="fmnist-bench-") as tmp:
        where = Path(tmp)
        base = yaml.safe_load(args.params.read_text()) if args.params else committed_params()
        ours_params = scratch_pipeline(where, base, overrides)
        for rep in range(args.repeats):
            for model, stage in (("mlp", "train_mlp"), ("cnn", "train_cnn")):
                sides = [
                    ("study", lambda m=model: study(m, where, study_args)),
                    ("ours", lambda s=stage: ours(s, where)),
                ]
                for side, fn in sides if rep % 2 == 0 else sides[::-1]:
                    console.print(f"repeat {rep + 1}/{args.repeats}: {side} {model} ...")
                    runs[f"{side}_{model}"].append(fn())
            runs["ours_evaluate"].append(ours("evaluate", where))
            metrics = json.loads((where / "metrics" / "metrics.json").read_text())
            for model in ("mlp", "cnn"):
                runs[f"ours_{model}"][-1]["test_accuracy"] = metrics[model]["accuracy"]
    result = {
        "mode": "quick" if args.quick else ("full" if (images, max_iter, epochs) == (FULL_IMAGES, 200, 15) else "capped"),
        "command": shlex.join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine() | {"cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None},
        "our_cnn_device": args.device, "fp32_peak_gflops": peak,
        "cnn_trained": (trained := {"study": STUDY_CNN | {"epochs": epochs}, "ours": what_ran(ours_params["cnn"], epochs)}),
        "training_mflop_per_image": {side: training_flops_per_image(c) / 1e6 for side, c in trained.items()},
        "workload": f"{images} training images, MLP max_iter {max_iter}, CNN {epochs} epochs, 10,000 test images",
        "repeats": args.repeats,
        "runs": {k: [{m: v for m, v in r.items() if m != "stdout"} for r in rs] for k, rs in runs.items()},
        "dvc": {"status": timed_dvc(["status"]), "repro (no-op)": timed_dvc(["repro"])},
    }  # fmt: skip
    flops = {side: 1e6 * mflop for side, mflop in result["training_mflop_per_image"].items()}
    result["summary"] = summarize(runs, epochs, images, peak, flops)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{result['mode']}.json").write_text(json.dumps(result, indent=2) + "\n")
    markdown = render(result)
    (args.out / f"{result['mode']}.md").write_text(markdown)
    table = Table(title=f"study vs ours ({result['mode']})")
    for col in ("stage", "study train s", "ours train s", "ratio", "study acc %", "ours acc %"):
        table.add_column(col)
    for name, row in result["summary"]["models"].items():
        table.add_row(name, f"{row['study']['train_seconds']:.1f}", f"{row['ours']['train_seconds']:.1f}",
                      f"{row['train_ratio']:.2f}x", f"{100 * row['study']['test_accuracy']:.2f}",
                      f"{100 * row['ours']['test_accuracy']:.2f}")  # fmt: skip
    console.print(table)
    console.print(markdown)


if __name__ == "__main__":
    main()
