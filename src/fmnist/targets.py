"""Which recipes meet their targets: the time-to-accuracy table as data, a query over the
run record. One row per recipe and CPU family, for the settings the recipe has now; a seed
run twice counts with its newest run; rows are never pooled across families. How often a
recipe's settings were scored on the test set is counted from the record too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fmnist.recipes import Recipe
from fmnist.runs import Model, Run, settings_digest
from fmnist.stats import Spread, spread, spread_of

PEAKS = Path("benchmarks/results/matmul_peak.json")  # machine caption -> {"fp32": GFLOP/s, "bf16": ...}
RULE = ("A target is met when the mean test accuracy over the seeds reaches it and the slowest "
        "seed's training stays within its time.")  # fmt: skip


@dataclass(frozen=True)
class Row:
    recipe: Recipe
    family: str
    runs: list[Run]
    reads: int  # how many settings of this recipe were scored on the test set, in the record

    @property
    def model(self) -> str:
        """Whose accuracy and seconds the row shows: the target's model ("cnn" or "mlp")."""
        return self.recipe.target.model if self.recipe.target else "cnn"

    def scored(self, run: Run) -> Model:
        return run.mlp if self.model == "mlp" else run.cnn

    @property
    def accuracy(self) -> Spread:
        """Test accuracy in percent."""
        return spread_of(self.scored(r).accuracy for r in self.runs).scaled(100)

    @property
    def seconds(self) -> Spread:
        return spread_of(self.scored(r).seconds for r in self.runs)

    @property
    def wall(self) -> Spread | None:
        return spread(r.wall_seconds for r in self.runs)

    @property
    def every_stage(self) -> bool:
        """Whether a timed seed of the row ran robustness and export too (their seconds in its wall)."""
        return any(r.wall_seconds is not None and r.stopped_at is None for r in self.runs)

    def share_of_peak(self, peaks: dict) -> tuple[float, float | None] | None:
        """(training GFLOP/s, its share of the machine's measured peak in that precision)."""
        run = self.runs[0]
        if not run.train_flops or self.model != "cnn":  # the record counts the CNN's FLOPs
            return None
        rate = run.train_flops / self.seconds.mean / 1e9
        peak = peaks.get(run.machine or "", {}).get(run.precision or "")
        return rate, rate / peak if peak else None

    def verdict(self) -> str:
        t = self.recipe.target
        if t is None:
            return ""
        short = (t.accuracy or 0) - self.accuracy.mean
        misses = [f"{short:.2f} points short"] if short > 0 else []
        misses += [f"{self.seconds.high - t.seconds:.1f} s over"] if self.seconds.high > t.seconds else []
        return "missed: " + ", ".join(misses) if misses else "met"


@dataclass(frozen=True)
class Budget:
    """Both families at one budget: each run of an MLP recipe also trains the CNN recipe it
    extends, from the same seed, and scores both on the same images."""

    mlp: Row

    @property
    def cnn(self) -> Spread:
        return spread_of(r.cnn.accuracy for r in self.mlp.runs).scaled(100)

    @property
    def cnn_seconds(self) -> Spread:
        return spread_of(r.cnn.seconds for r in self.mlp.runs)

    @property
    def gap(self) -> Spread:
        """CNN minus MLP, in points, one paired difference per seed."""
        return paired_gap(self.mlp.runs)

    @property
    def largest_p(self) -> float | None:
        """McNemar's p of the seed where the difference is least sure."""
        return max((r.gap.p for r in self.mlp.runs if r.gap and r.gap.p is not None), default=None)


def paired_gap(runs: list[Run]) -> Spread:
    """CNN minus MLP in points over runs that each scored both on the same images."""
    return spread_of(r.gap.accuracy if r.gap else None for r in runs).scaled(100)


def budgets(table: list[Row]) -> list[Budget]:
    """One per MLP recipe that extends a CNN recipe, quickest first."""
    return [Budget(row) for row in table if row.model == "mlp" and row.recipe.extends]


def timed(recipes: dict[str, Recipe]) -> list[Recipe]:
    """The time-to-accuracy recipes, quickest target first: those with a target, and the study's for scale."""
    chosen = [r for r in recipes.values() if r.target or r.name == "study"]
    return sorted(chosen, key=lambda r: (r.target.seconds, r.target.model) if r.target else (0, ""))


def test_runs(recipe: str, runs: list[Run]) -> list[Run]:
    """Every run of the recipe itself (no override) scored on the test set, in record order."""
    return [r for r in runs if r.recipe == recipe and r.split == "test" and not r.overrides]


def tested_versions(recipe: str, runs: list[Run]) -> set[str]:
    """The settings digests of every version of ``recipe`` scored on the test set."""
    return {r.digest for r in test_runs(recipe, runs)}


def test_reads(recipe: str, runs: list[Run]) -> int:
    return len(tested_versions(recipe, runs))


def current(recipe: Recipe, runs: list[Run]) -> list[Run]:
    """The recipe's runs on the test set with the settings it has now, nothing added."""
    return [r for r in test_runs(recipe.name, runs) if r.digest == settings_digest(recipe.params)]


def by_family(runs: list[Run]) -> dict[str, list[Run]]:
    """CPU family -> one run per seed, in seed order; a seed run twice (the same bits, another
    hour) counts with its newest run."""
    grouped: dict[str, dict[int, Run]] = {}
    for run in runs:
        grouped.setdefault(run.family or "not recorded", {})[run.seed] = run
    return {family: [seeds[s] for s in sorted(seeds)] for family, seeds in grouped.items()}


def rows(recipes: list[Recipe], runs: list[Run]) -> list[Row]:
    return [Row(recipe, family, members, test_reads(recipe.name, runs))
            for recipe in recipes for family, members in by_family(current(recipe, runs)).items()]  # fmt: skip


def read_peaks(path: Path = PEAKS) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def seeds_of(recipe: Recipe, runs: list[Run]) -> list[Run]:
    """The recipe as it is now on the CPU family with the most seeds, one run per seed: a
    spread over seeds that pools no machines."""
    return max(by_family(current(recipe, runs)).values(), key=len, default=[])
