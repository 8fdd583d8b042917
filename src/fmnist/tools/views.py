"""The MLP-against-CNN row that every view prints, one way: each model's accuracy (with its
95 % interval for one run, mean ± std over seeds for a group), CNN − MLP with its interval,
McNemar's p, and both training times; for the console (two lines a row, the terminal's
width), markdown and JSON. Built from a :class:`~fmnist.runs.Run`, a group of runs that
differ in their seed only, or the study's published figures."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rich import box
from rich.table import Table

from fmnist import formats
from fmnist.runs import Run
from fmnist.stats import Spread, spread
from fmnist.study import STUDY_ACCURACY, STUDY_GAP


@dataclass(frozen=True)
class Figure:
    """A number and its uncertainty: a 95 % interval (one run) or a spread over seeds."""

    value: float
    low: float | None = None
    high: float | None = None
    std: float | None = None
    n: int = 1

    def parts(self, kind: str) -> tuple[str, str]:
        """(the value, its uncertainty) as text; ``kind`` is 'pct', 'pts' or 's'."""
        if kind == "s":
            return formats.seconds(self.value), "" if self.std is None else f"± {formats.seconds(self.std)}"
        write = formats.points if kind == "pts" else formats.percent
        if self.n > 1:
            return write(self.value), f"± {formats.percent(self.std)}"
        return write(self.value), formats.interval(self.low, self.high, signed=kind == "pts")


def _figure(s: Spread | None) -> Figure | None:
    return None if s is None else Figure(s.mean, std=s.std, n=s.n)


@dataclass(frozen=True)
class Row:
    label: str  # what ran
    detail: str = ""  # its changes, its seeds, its machine
    mlp: Figure | None = None  # accuracy, fraction
    cnn: Figure | None = None
    gap: Figure | None = None  # CNN minus MLP
    p: float | None = None
    mlp_seconds: Figure | None = None
    cnn_seconds: Figure | None = None
    n: int = 1


def run_row(run: Run, label: str | None = None, detail: str = "") -> Row:
    accuracy = lambda m: None if m.accuracy is None else Figure(m.accuracy, m.low, m.high)  # noqa: E731
    seconds = lambda m: None if m.seconds is None else Figure(m.seconds)  # noqa: E731
    g = run.gap
    return Row(label or run.name, detail, accuracy(run.mlp), accuracy(run.cnn),
               Figure(g.accuracy, g.low, g.high) if g else None, g.p if g else None,
               seconds(run.mlp), seconds(run.cnn))  # fmt: skip


def group_row(runs: list[Run], label: str, detail: str = "") -> Row:
    """Runs that differ in their seed only: mean ± std of each number; one run keeps its intervals."""
    if len(runs) == 1:
        return run_row(runs[0], label, detail)
    of = lambda get: _figure(spread(get(r) for r in runs))  # noqa: E731
    return Row(label, detail, of(lambda r: r.mlp.accuracy), of(lambda r: r.cnn.accuracy),
               of(lambda r: r.gap.accuracy if r.gap else None), None,
               of(lambda r: r.mlp.seconds), of(lambda r: r.cnn.seconds), len(runs))  # fmt: skip


def study_row() -> Row:
    return Row("the study", "published", Figure(STUDY_ACCURACY["mlp"] / 100),
               Figure(STUDY_ACCURACY["cnn"] / 100), Figure(STUDY_GAP / 100))  # fmt: skip


COLUMNS = (("MLP %", "pct"), ("CNN %", "pct"), ("CNN−MLP", "pts"), ("p", ""), ("MLP s", "s"), ("CNN s", "s"))


def _cells(row: Row) -> list[tuple[str, str]]:
    figures = (row.mlp, row.cnn, row.gap, None, row.mlp_seconds, row.cnn_seconds)
    cells = [("", "") if f is None else f.parts(kind) for f, (_, kind) in zip(figures, COLUMNS, strict=True)]
    cells[3] = (formats.p_value(row.p), "")
    return cells


def markdown(rows: list[Row], first: str = "run") -> str:
    """One line a row: label (and detail), then each number with its uncertainty."""
    lines = [f"| {first} | MLP % | CNN % | CNN − MLP (points) | McNemar p | MLP s | CNN s |", "|---|" + "---:|" * 6]
    for row in rows:
        numbers = [" ".join(filter(None, cell)) for cell in _cells(row)]
        lines.append(f"| {row.label}" + (f" ({row.detail})" if row.detail else "") + " | " + " | ".join(numbers) + " |")
    return "\n".join(lines) + "\n"


def as_json(row: Row) -> dict:
    return asdict(row)


def shorten(text: str, width: int) -> str:
    """A list ("a=1, b=2, c=3") cut to the whole items that fit and how many are left
    ("a=1 +2"); other text cut with an ellipsis."""
    if len(text) <= width:
        return text
    items = text.split(", ")
    for keep in range(len(items) - 1, 0, -1):
        if len(head := f"{', '.join(items[:keep])} +{len(items) - keep}") <= width:
            return head
    return text[: width - 1] + "…"


def console_table(rows: list[Row], title: str, first: str = "run", width: int = 80) -> Table:
    """Two lines a row at most (the number, then its interval or spread), no number cut: the
    numbers take what they need and the label column what is left of ``width``."""
    cells = [_cells(r) for r in rows]
    widths = [max([len(name)] + [len(part) for row in cells for part in row[i]]) for i, (name, _) in enumerate(COLUMNS)]
    label = max(12, width - sum(widths) - len(COLUMNS) - 1)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=0, show_edge=False)
    table.add_column(first, justify="left", overflow="ellipsis", no_wrap=True, width=label)
    for (name, _), w in zip(COLUMNS, widths, strict=True):
        table.add_column(name, justify="right", no_wrap=True, width=w)
    for row, numbers in zip(rows, cells, strict=True):
        table.add_row(shorten(row.label, label) + ("\n" + shorten(row.detail, label) if row.detail else ""),
                      *("\n".join(part for part in cell if part) for cell in numbers))  # fmt: skip
    return table
