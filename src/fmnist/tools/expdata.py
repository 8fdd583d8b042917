"""Reading ``dvc.api.exp_show`` rows: a column by its key whatever file prefix DVC gave it,
the params a row changed, and which rows are finished runs."""

from __future__ import annotations

from pathlib import Path

import yaml

from fmnist.params import PARAMS_FILE


def column(row: dict, key: str):
    """A column of an exp_show row, whichever metrics or params file prefix DVC gave it;
    ``key`` may carry the end of that prefix (``train_cnn/metrics.json:train_seconds``).
    DVC drops the prefix of a name no other file has, so such a key also finds the bare name."""
    for name, value in row.items():
        if name == key or name.endswith((":" + key, "/" + key)):
            return value
    return row.get(key.rpartition(":")[2]) if ":" in key else None


def flatten(node, prefix: str = "") -> dict:
    """Dotted key -> value for every leaf of a params mapping, as ``dvc exp show`` names them."""
    if not isinstance(node, dict):
        return {prefix.rstrip("."): node}
    return {k: v for key, value in node.items() for k, v in flatten(value, f"{prefix}{key}.").items()}


def param_keys(path: Path = PARAMS_FILE) -> list[str]:
    """Dotted names of every leaf in params.yaml."""
    return list(flatten(yaml.safe_load(Path(path).read_text())))


def same_value(a, b) -> bool:
    """Equal as params: 0.001 and 1e-3, 20 and 20.0, true and True."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return shown(a) == shown(b)


def shown(value) -> str:
    """A param value as a person would type it after ``-S``: 20, not 20.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool) or value in ("True", "False"):  # exp_show gives some booleans as text
        return str(value).lower()
    return str(value)


def changed_params(row: dict, base: dict, keys: list[str]) -> list[str]:
    """``key=value`` for every param whose value differs from the baseline row's."""
    return [f"{k}={shown(column(row, k))}" for k in keys if not same_value(column(row, k), column(base, k))]


def train_seconds(row: dict, model: str):
    """From the DVCLive summary, or from metrics/timing.json in revisions that had it."""
    value = column(row, f"train_{model}/metrics.json:train_seconds")
    return value if value is not None else column(row, f"{model}.train_seconds")


def name_of(row: dict) -> str:
    return row.get("Experiment") or row.get("rev") or "?"


def is_finished(row: dict) -> bool:
    """A run whose metrics are its own: not queued, running (still the baseline's) or failed."""
    return row.get("State") in (None, "Success") and column(row, "mlp.accuracy") is not None


def with_baselines(rows: list[dict]) -> list[tuple[dict, dict]]:
    """Each row with the baseline it is compared against: experiments with the commit they
    branched from (exp_show lists it first), the workspace with HEAD."""
    baselines = [r for r in rows if r.get("typ") == "baseline" and r.get("rev") != "workspace"]
    head = baselines[0] if baselines else None
    paired, current = [], head
    for row in rows:
        if row.get("typ") == "baseline" and row.get("rev") != "workspace":
            current = row
        paired.append((row, (head if row.get("rev") == "workspace" else current) or row))
    return paired
