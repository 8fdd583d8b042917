"""DVCLive set up for a hand-written pipeline: dvc.yaml stays ours, no CDN report, no auto-exp."""

from __future__ import annotations

from pathlib import Path

from dvclive import Live


def live_logger(directory: Path | str) -> Live:
    return Live(str(directory), dvcyaml=False, report=None, save_dvc_exp=False)


def epoch_logger(live: Live):
    """One DVCLive step per epoch, so curves grow while training runs."""

    def log(record: dict) -> None:
        for name, value in record.items():
            if name != "seconds":
                live.log_metric(name, value)
        live.next_step()

    return log
