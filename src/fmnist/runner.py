"""The one way a stage starts: params loaded, errors turned into a clear exit."""

from __future__ import annotations

import sys
from collections.abc import Callable

from fmnist.allocator import keep_freed_memory
from fmnist.errors import FmnistError
from fmnist.params import Params, load_params


def run_stage(stage: Callable[[Params], None]) -> None:
    """Run ``stage`` with the validated params; an :class:`FmnistError` exits 2 with its message."""
    module = sys.modules[stage.__module__]
    name = (module.__spec__.name if module.__spec__ else module.__name__).rsplit(".", 1)[-1]
    keep_freed_memory()
    try:
        stage(load_params())
    except FmnistError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"{name}: interrupted; its outputs were not written", file=sys.stderr)
        sys.exit(130)
