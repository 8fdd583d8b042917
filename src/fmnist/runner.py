"""The one way a stage starts: params loaded, errors turned into a clear exit."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from fmnist.allocator import keep_freed_memory
from fmnist.errors import FmnistError
from fmnist.params import Params, load_params


def after_failure(name: str) -> str:
    """What the person does next. Under `dvc exp run` in their workspace, `-S` has already
    rewritten params.yaml, and a stage past `check` had its outputs deleted by DVC before it ran."""
    if "DVC_EXP_BASELINE_REV" not in os.environ or "/.dvc/tmp/" in os.environ.get("DVC_ROOT", ""):
        return ""
    lost = "nothing ran; " if name == "check" else f"DVC removed {name}'s outputs before it ran; "
    return (f"\n{name}: {lost}`fmnist restore` puts back the committed params.yaml and every output "
            "(git's index may not show params.yaml as changed)")  # fmt: skip


def run_stage(stage: Callable[[Params], None]) -> None:
    """Run ``stage`` with the validated params; an :class:`FmnistError` exits 2 with its message."""
    module = sys.modules[stage.__module__]
    name = (module.__spec__.name if module.__spec__ else module.__name__).rsplit(".", 1)[-1]
    keep_freed_memory()
    try:
        stage(load_params())
    except FmnistError as exc:
        print(f"{name}: error: {exc}{after_failure(name)}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"{name}: interrupted; its outputs were not written{after_failure(name)}", file=sys.stderr)
        sys.exit(130)
