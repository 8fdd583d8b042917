"""The structure study (why the CNN wins): which runs it is made of, and what they say.

Three sweeps of the study's two recipes, named by `fmnist recipe run`: the training sizes,
permuted pixels, and the small size given the full run's steps; each permuted seed is
paired, image by image, with the same seed on the original pixels (a
:class:`~fmnist.runs.Comparison` in the record). The page itself is `fmnist pages`'.
"""

from __future__ import annotations

from fmnist.runs import Comparison, Run
from fmnist.stats import spread_of

SEEDS = (0, 1, 2)
SIZES = (1000, 3000, 10000, 30000, 60000)
EQUAL_STEPS = (1000, 900)  # training images, CNN epochs: as many steps of 64 as 15 epochs of all 60,000
MODELS = ("mlp", "cnn")


def original(size: int, seed: int) -> str:
    return f"study-train_size{size}-seed{seed}"


def permuted(seed: int) -> str:
    return f"permuted-seed{seed}"


def equal_steps(seed: int) -> str:
    return f"study-train_size{EQUAL_STEPS[0]}-epochs{EQUAL_STEPS[1]}-seed{seed}"


def names() -> list[str]:
    sizes = [original(n, s) for n in SIZES for s in SEEDS]
    return sizes + [permuted(s) for s in SEEDS] + [equal_steps(s) for s in SEEDS]


def by_name(runs: list[Run]) -> dict[str, Run]:
    return {r.name: r for r in runs if r.name in set(names())}


def accuracy(r: Run, model: str) -> float:
    if (value := getattr(r, model).accuracy) is None:
        raise SystemExit(f"fmnist structure: {r.name} has no {model} accuracy in the record")
    return value


def gap(r: Run) -> float:
    return accuracy(r, "cnn") - accuracy(r, "mlp")


def mean(values) -> float:
    return spread_of(values).mean


def sizes(runs: dict[str, Run]) -> list[tuple[int, list[Run]]]:
    return [(n, [runs[original(n, s)] for s in SEEDS]) for n in SIZES]


def permutation(runs: dict[str, Run], comparisons: list[Comparison]) -> dict:
    pairs = [next(c for c in comparisons if c.b == permuted(s)) for s in SEEDS]
    before, after = [runs[original(SIZES[-1], s)] for s in SEEDS], [runs[permuted(s)] for s in SEEDS]
    change = {m: mean(getattr(c, m).accuracy for c in pairs) for m in MODELS}
    return {"pairs": pairs, "before": before, "after": after, "gap_before": mean(map(gap, before)),
            "gap_after": mean(map(gap, after)), **change}  # fmt: skip


# The controlled pair (recipes/): one loop, one recipe, about as many weights, only the
# architecture different; then its MLP with translation augmentation, the CNN unchanged.
ALONE = ("structure-alone", "structure-alone-shift")


def alone(recipes: dict, runs: list[Run]) -> dict[str, list[Run]]:
    """Each recipe of the pair -> its runs as it is now, one per seed, on one CPU family."""
    from fmnist.targets import seeds_of

    return {name: seeds_of(recipes[name], runs) for name in ALONE if name in recipes}


def shift_gain(pair: dict[str, list[Run]]) -> list[float]:
    """What translation augmentation gives the MLP, seed by seed (the same seed without it)."""
    plain = {r.seed: accuracy(r, "mlp") for r in pair.get(ALONE[0], [])}
    return [accuracy(r, "mlp") - plain[r.seed] for r in pair.get(ALONE[1], []) if r.seed in plain]
