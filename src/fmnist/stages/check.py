"""Stage `check`: every param validated before any stage runs.

DVC deletes a stage's outputs before running it, so a typo that only the training stage
noticed would leave the workspace without that stage's model. This stage reads every
params group, has no outputs, and comes first in dvc.yaml: a wrong key or value stops
`dvc repro` and `dvc exp run` here, with every output still in place.
"""

from __future__ import annotations

from fmnist.params import Params
from fmnist.runner import run_stage


def stage(params: Params) -> None:
    print("check: params.yaml is valid")


def main() -> None:
    run_stage(stage)


if __name__ == "__main__":
    main()
