"""Stage `fetch`: bring the four official Fashion-MNIST files into data/raw, verified."""

from __future__ import annotations

from pathlib import Path

from fmnist.io import atomic_dir
from fmnist.params import Params
from fmnist.paths import RAW_DIR
from fmnist.runner import run_stage
from fmnist.sources import acquire


def fetch(sources: tuple[str, ...], dest: Path, timeout: float) -> str:
    """Fill ``dest`` from the first usable source; ``dest`` is replaced only when complete."""
    with atomic_dir(dest) as tmp:
        return acquire(sources, tmp, timeout)


def stage(params: Params) -> None:
    used = fetch(params.data.sources, RAW_DIR, params.data.download_timeout)
    print(f"fetch: verified the four files from {used} into {RAW_DIR}")


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
