"""The MLP-against-CNN row that every view of the runs prints, one way: each model's accuracy
in percent with its 95 % interval (one run) or its mean ± std over seeds (a group), the
difference with its interval, McNemar's p in scientific notation, both training seconds.

Built from a run's metrics files (:func:`from_metrics`), an exp_show row
(:func:`from_exp_row`) or a group of seeds (:func:`from_seeds`); rendered for the console
(:func:`console_table`: two lines a row, 80 columns), markdown (:func:`markdown`) and JSON
(:func:`as_json`).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass

from rich import box
from rich.table import Table

from fmnist.tools.expdata import column, train_seconds


@dataclass(frozen=True)
class Figure:
    """A number and its uncertainty: a 95 % interval for one run, a std over n seeds."""

    value: float
    low: float | None = None
    high: float | None = None
    std: float | None = None
    n: int = 1

    def lines(self, digits: int = 2, signed: bool = False) -> tuple[str, str]:
        """(the value, its uncertainty): ``('89.41', '88.79-90.00')`` or ``('92.69', '± 0.14')``."""
        number = lambda v: f"{v:{'+' if signed else ''}.{digits}f}"  # noqa: E731
        if self.n > 1:
            return number(self.value), f"± {self.std:.{digits}f}"
        if self.low is not None and self.high is not None:
            return number(self.value), f"{number(self.low)}..{number(self.high)}"
        return number(self.value), ""

    def text(self, digits: int = 2, signed: bool = False) -> str:
        """One line: ``89.41 [88.79, 90.00]``, ``92.69 ± 0.14`` or ``89.04``."""
        value, spread = self.lines(digits, signed)
        if self.n > 1:
            return f"{value} {spread}"
        return f"{value} [{spread.replace('..', ', ')}]" if spread else value


@dataclass(frozen=True)
class PairRow:
    """One run, one group of seeds, or a published reference, MLP against CNN."""

    label: str  # what ran: an experiment, a recipe and seed, a group
    detail: str = ""  # a second line: its changes, its seeds
    mlp: Figure | None = None  # accuracy, percent
    cnn: Figure | None = None
    gap: Figure | None = None  # CNN minus MLP, points
    p: float | None = None  # McNemar's exact test, one run only
    mlp_seconds: Figure | None = None
    cnn_seconds: Figure | None = None
    n: int = 1  # runs pooled (seeds)


def p_text(p: float | None) -> str:
    if p is None:
        return ""
    return "< 1e-300" if p == 0 else f"{p:.1e}"


def _percent(value, low=None, high=None) -> Figure | None:
    if value is None:
        return None
    scaled = [None if v is None else 100 * v for v in (low, high)]
    return Figure(100 * value, *scaled)


def _seconds(value) -> Figure | None:
    return None if value is None else Figure(float(value))


def from_metrics(label: str, headline: dict, seconds: dict, detail: str = "") -> PairRow:
    """From metrics/metrics.json (``headline``) and each model's DVCLive train_seconds."""
    m, c, g = (headline.get(k, {}) for k in ("mlp", "cnn", "cnn_minus_mlp"))
    return PairRow(label, detail, _percent(m.get("accuracy"), m.get("accuracy_low"), m.get("accuracy_high")),
                   _percent(c.get("accuracy"), c.get("accuracy_low"), c.get("accuracy_high")),
                   _percent(g.get("accuracy"), g.get("accuracy_low"), g.get("accuracy_high")), g.get("mcnemar_p"),
                   _seconds(seconds.get("mlp")), _seconds(seconds.get("cnn")))  # fmt: skip


def from_exp_row(label: str, row: dict, detail: str = "") -> PairRow:
    """From a ``dvc.api.exp_show`` row."""
    get = lambda key: column(row, key)  # noqa: E731
    return PairRow(label, detail, *(_percent(get(f"{k}.accuracy"), get(f"{k}.accuracy_low"), get(f"{k}.accuracy_high"))
                                     for k in ("mlp", "cnn", "cnn_minus_mlp")),
                   get("cnn_minus_mlp.mcnemar_p"), _seconds(train_seconds(row, "mlp")),
                   _seconds(train_seconds(row, "cnn")))  # fmt: skip


def _pooled(values: list, scale: float = 1.0) -> Figure | None:
    values = [scale * float(v) for v in values if isinstance(v, int | float)]
    if not values:
        return None
    return Figure(statistics.fmean(values), std=statistics.stdev(values) if len(values) > 1 else None, n=len(values))


def from_seeds(label: str, rows: list[dict], detail: str = "") -> PairRow:
    """Mean ± std over exp_show rows that differ in their seed only; one row keeps its intervals."""
    if len(rows) == 1:
        return from_exp_row(label, rows[0], detail)
    accuracy = lambda key: _pooled([column(r, key) for r in rows], 100)  # noqa: E731
    return PairRow(label, detail, accuracy("mlp.accuracy"), accuracy("cnn.accuracy"),
                   accuracy("cnn_minus_mlp.accuracy"), None,
                   _pooled([train_seconds(r, "mlp") for r in rows]), _pooled([train_seconds(r, "cnn") for r in rows]),
                   n=len(rows))  # fmt: skip


HEADER = ("MLP %", "CNN %", "CNN − MLP", "McNemar p", "MLP s", "CNN s")


def _cells(row: PairRow) -> list[str]:
    """The row's numbers, one line each, as markdown shows them."""
    figure = lambda f, **kw: "" if f is None else f.text(**kw)  # noqa: E731
    return [figure(row.mlp), figure(row.cnn), figure(row.gap, signed=True), p_text(row.p),
            figure(row.mlp_seconds, digits=0), figure(row.cnn_seconds, digits=0)]  # fmt: skip


def markdown(rows: list[PairRow], first: str = "run") -> str:
    """A markdown table: the label (and its detail) first, then the six numbers."""
    lines = [f"| {first} | " + " | ".join(HEADER) + " |", "|---|" + "---:|" * len(HEADER)]
    for row in rows:
        label = row.label + (f" ({row.detail})" if row.detail else "")
        lines.append(f"| {label} | " + " | ".join(_cells(row)) + " |")
    return "\n".join(lines) + "\n"


def as_json(row: PairRow) -> dict:
    return asdict(row)


def shorten(text: str, width: int) -> str:
    """A list ("a=1, b=2, c=3") cut to the whole items that fit and how many are left
    ("a=1 +2"); other text cut with an ellipsis."""
    if len(text) <= width:
        return text
    items = text.split(", ")
    for keep in range(len(items) - 1, 0, -1):
        head = f"{', '.join(items[:keep])} +{len(items) - keep}"
        if len(head) <= width:
            return head
    return text[: width - 1] + "…"


def console_table(rows: list[PairRow], title: str, first: str = "run", width: int = 80) -> Table:
    """Two lines a row at most (the number, then its interval or spread), no number cut:
    the numbers take what they need and the label column what is left of ``width``."""
    figure = lambda f, **kw: ("", "") if f is None else f.lines(**kw)  # noqa: E731
    cells = [[figure(r.mlp), figure(r.cnn), figure(r.gap, signed=True), (p_text(r.p), ""),
              figure(r.mlp_seconds, digits=0), figure(r.cnn_seconds, digits=0)] for r in rows]  # fmt: skip
    names = ("MLP %", "CNN %", "CNN−MLP", "p", "MLP s", "CNN s")
    widths = [max([len(name)] + [len(part) for row in cells for part in row[i]]) for i, name in enumerate(names)]
    label = max(12, width - sum(widths) - len(names) - 1)  # columns one space apart; numbers right-aligned
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=0, show_edge=False)
    table.add_column(first, justify="left", overflow="ellipsis", no_wrap=True, width=label)
    for name, w in zip(names, widths, strict=True):
        table.add_column(name, justify="right", no_wrap=True, width=w)
    for row, numbers in zip(rows, cells, strict=True):
        table.add_row(shorten(row.label, label) + ("\n" + shorten(row.detail, label) if row.detail else ""),
                      *("\n".join(part for part in cell if part) for cell in numbers))  # fmt: skip
    return table
