"""One typed record of a run, and the committed record of every run that makes a claim.

A :class:`Run` is built once, from the files a run leaves (``metrics/``, DVCLive's summaries
and the machine beside them, ``params.yaml``) as any revision holds them: an experiment's
commit, a branch, the workspace. ``reports/runs.jsonl`` keeps one line per recipe run, seed,
validation trial and read of the test set, appended by the command that ran or collected it
(`fmnist recipe run`, `fmnist recipe collect`, `benchmarks/val_trials.py`), never by hand;
every table and figure on the pages is a query over it and ``metrics/``.

Accuracies are fractions of the split's images, as the metrics files hold them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fmnist.errors import ParamsError
from fmnist.params import Params, changes, override, parse_params, shown
from fmnist.paths import CNN_LIVE, DETAILS, METRICS, MLP_LIVE
from fmnist.recipes import RECIPES_DIR, Recipe, all_recipes, recipe_named
from fmnist.repo import Reader, experiments, git, params_at, reader

RECORD = Path("reports/runs.jsonl")

RECORDED = ("accuracy", "seconds", "epochs", "parameters")  # of each model, in the record; the rest in its files
FULL_TRAIN = 60_000
LIVE_SUMMARY = {"mlp": str(MLP_LIVE / "metrics.json"), "cnn": str(CNN_LIVE / "metrics.json")}
# Every file a run is read from (besides params.yaml): outputs of `evaluate` and the stages
# before it, so `fmnist recipe run` can stop there.
READ = (str(METRICS), str(DETAILS), *LIVE_SUMMARY.values())


def run_seed(params: dict) -> int:
    """The seed a run is known by: the CNN's where a recipe seeded it alone (``cnn.seed``)."""
    cnn_seed = (params.get("cnn") or {}).get("seed")
    return int(params.get("seed", 0) if cnn_seed is None else cnn_seed)


def settings_digest(settings: dict) -> str:
    """A recipe's settings, hashed whatever their order or notation: one value per version."""
    canonical = json.dumps({k: shown(v) for k, v in settings.items()}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Model:
    """One model of a run."""

    accuracy: float | None = None
    low: float | None = None  # 95 % Wilson interval: read from a run's files, not kept in the record
    high: float | None = None
    seconds: float | None = None  # training
    epochs: int | None = None  # CNN epochs, MLP iterations
    macro_f1: float | None = None
    parameters: int | None = None


@dataclass(frozen=True)
class Gap:
    """A paired difference on the same images (CNN minus MLP, or a run minus another)."""

    accuracy: float
    low: float | None = None  # 95 % paired-bootstrap interval
    high: float | None = None
    p: float | None = None  # McNemar's exact test


@dataclass(frozen=True)
class Run:
    name: str  # the experiment, "workspace", a revision, or a trial's label
    seed: int
    split: str  # "test" or "val"
    mlp: Model = Model()
    cnn: Model = Model()
    gap: Gap | None = None
    recipe: str | None = None
    settings: dict = field(default_factory=dict)  # the recipe's params when it ran (dotted keys)
    overrides: dict = field(default_factory=dict)  # what else differed from the committed params.yaml
    views: dict = field(default_factory=dict)  # trials: CNN accuracy with each test-time augmentation
    precision: str | None = None  # what the CNN trained in
    device: str | None = None
    family: str | None = None  # "EPYC Zen 4", "Xeon AMX": rows are never pooled across families
    machine: str | None = None  # the details
    train_flops: float | None = None  # the CNN's training, forward and backward
    wall_seconds: float | None = None  # what the person waited for this seed, DVC included
    stopped_at: str | None = None  # the last stage a timed recipe run ran ("evaluate"); None: every stage
    commit: str | None = None  # the code's commit (an experiment's baseline)
    rev: str | None = None  # the experiment's own commit: one run, one entry
    date: str | None = None
    source: str = ""  # the command that wrote the entry

    @property
    def digest(self) -> str:
        return settings_digest(self.settings)

    @property
    def label(self) -> str:
        """What ran, in a few words: 'speed92', 'speed92 + cnn.epochs=20', 'cnn.epochs=20'."""
        extra = ", ".join(f"{k}={shown(v)}" for k, v in self.overrides.items())
        if self.recipe:
            return f"{self.recipe} + {extra}" if extra else self.recipe
        return extra or "no change"

    def as_json(self) -> dict:
        entry = {k: v for k, v in dataclasses.asdict(self).items() if v not in (None, {}, "")}
        for model in ("mlp", "cnn"):
            entry[model] = {k: v for k, v in entry.get(model, {}).items() if v is not None and k in RECORDED}
        return entry

    @classmethod
    def from_json(cls, entry: dict) -> Run:
        parts: dict[str, Model | Gap] = {"mlp": Model(**entry.get("mlp", {})), "cnn": Model(**entry.get("cnn", {}))}
        if entry.get("gap"):
            parts["gap"] = Gap(**entry["gap"])
        return cls(**{**entry, **parts})


@dataclass(frozen=True)
class Comparison:
    """Two runs scored on the same images, image by image: how much ``b`` changed each model."""

    a: str
    b: str
    seed: int
    mlp: Gap
    cnn: Gap
    date: str | None = None
    source: str = ""


# ----------------------------------------------------------------------------- the record


def read_record(path: Path = RECORD) -> tuple[list[Run], list[Comparison]]:
    """Every run and comparison in the record, in the order they were appended."""
    runs, comparisons = [], []
    for number, line in enumerate(path.read_text().splitlines() if path.is_file() else [], 1):
        try:
            entry = json.loads(line)
            kind = entry.pop("type", "run")
            if kind == "comparison":
                comparisons.append(Comparison(**{**entry, "mlp": Gap(**entry["mlp"]), "cnn": Gap(**entry["cnn"])}))
            else:
                runs.append(Run.from_json(entry))
        except (json.JSONDecodeError, TypeError, KeyError) as exc:
            raise ValueError(f"{path}:{number}: not a run of this record ({exc})") from None
    return runs, comparisons


def append(entries: Iterable[Run | Comparison], path: Path = RECORD) -> int:
    """Add entries at the end; a run already there (same experiment commit) is not added twice."""
    runs, comparisons = read_record(path)
    known: set = {r.rev for r in runs if r.rev} | {(c.a, c.b) for c in comparisons}
    lines = []
    for e in entries:
        key = (e.a, e.b) if isinstance(e, Comparison) else e.rev  # a trial has no commit: always added
        if key is not None and key in known:
            continue
        data = {"type": "comparison", **dataclasses.asdict(e)} if isinstance(e, Comparison) else e.as_json()
        lines.append(json.dumps(data, sort_keys=True))
        known.add(key)
    if lines:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            fh.write("".join(line + "\n" for line in lines))
    return len(lines)


# ----------------------------------------------------------------------------- from a run's files


def _json(read: Reader, path: str) -> dict:
    text = read(path)
    return json.loads(text) if text else {}


def read_run(read: Reader, name: str, base: dict, recipes: dict[str, Recipe] | None = None, **known) -> Run | None:
    """The run whose files ``read`` gives, or None where it has no metrics (never ran).

    ``base`` is the params.yaml the run is compared with (its baseline commit's): what it
    changed is its recipe's settings, if its name names a recipe whose params it ran, plus
    its overrides.
    """
    headline = _json(read, str(METRICS))
    if "cnn" not in headline:
        return None
    params = yaml.safe_load(read("params.yaml") or "null") or {}
    details = _json(read, str(DETAILS))
    live = {m: _json(read, path) for m, path in LIVE_SUMMARY.items()}
    where = details.get("trained_on", {}).get("cnn") or live["cnn"]  # older runs kept it in the summary

    def model(m: str, epochs: int | None) -> Model:
        h, d = headline.get(m, {}), details.get(m, {})
        return Model(h.get("accuracy"), d.get("accuracy_low", h.get("accuracy_low")),
                     d.get("accuracy_high", h.get("accuracy_high")), live[m].get("train_seconds"), epochs,
                     h.get("macro_f1"), d.get("parameters"))  # fmt: skip

    pair = headline.get("cnn_minus_mlp", {})
    recipe = recipe_named(name, recipes or {})
    try:  # a recipe's run: what it ran beyond the recipe, a recipe's key it changed included
        changed = changes(params, override(base, recipe.params) if recipe else base)
    except ParamsError:  # the recipe names a key this revision's params do not have
        recipe, changed = None, changes(params, base)
    settings = dict(recipe.params) if recipe else {}
    mlp_steps = live["mlp"].get("step")
    return Run(
        name=name, seed=run_seed(params), split=params.get("evaluate", {}).get("split", "test"),
        mlp=model("mlp", None if mlp_steps is None else mlp_steps + 1),
        cnn=model("cnn", params.get("cnn", {}).get("epochs")),
        gap=Gap(pair["accuracy"], pair.get("accuracy_low"), pair.get("accuracy_high"), pair.get("mcnemar_p"))
        if "accuracy" in pair else None,
        recipe=recipe.name if recipe else None, settings=settings,
        overrides=changed,
        precision=where.get("precision"), device=where.get("device"),
        family=where.get("family") or family_of_caption(where.get("machine")),
        machine=where.get("caption", where.get("machine")), **known,
    )  # fmt: skip


def family_of_caption(caption: str | None) -> str | None:
    """The family of a run recorded before families were, from its caption's words."""
    if not caption:
        return None
    has = caption.partition("(")[2].partition(";")[0]  # the instruction sets it has
    if "AMX" in has or caption.startswith("Intel Xeon with AMX"):
        return "Xeon AMX"
    if caption.startswith("AMD"):
        return "EPYC Zen 4" if "AVX-512 BF16" in has else "EPYC Zen 3"
    return None


def experiment_runs(revs: list[str] | None, root: Path = Path(".")) -> list[Run]:
    """The baseline commits' own runs (default: HEAD's, and the workspace against it), then
    their finished experiments, newest first; a revision without metrics is left out."""
    recipes = all_recipes(root / RECIPES_DIR)
    head = git("rev-parse", "HEAD", cwd=root) or "HEAD"
    runs = [] if revs else [read_run(reader(None, root), "workspace", params_at(head, root), recipes)]
    for rev in revs or [head]:
        runs.append(read_run(reader(rev, root), rev if revs else "HEAD", params_at(rev, root), recipes, commit=rev))
    for exp in experiments(revs or [head], root):
        runs.append(read_run(reader(exp.rev, root), exp.name, params_at(exp.baseline, root), recipes, rev=exp.rev))
    return [r for r in runs if r is not None]


# ----------------------------------------------------------------------------- recording


def train_flops(p: Params) -> float:
    """The CNN's training FLOPs: per image (forward and backward) times images times epochs."""
    import math

    from fmnist.networks import build_cnn, training_flops
    from fmnist.training import spec_of

    images = p.prepare.train_size or FULL_TRAIN
    images -= math.ceil(p.prepare.val_fraction * images)  # what the stratified hold-out leaves
    return training_flops(build_cnn(spec_of(p.cnn), p.cnn.dropout)) * images * p.cnn.epochs


def record_experiments(names: list[str], source: str, wall: dict[str, float] | None = None,
                       baseline: str | None = None, stopped_at: str | None = None) -> list[Run]:  # fmt: skip
    """The finished experiments of these names, run on ``baseline`` (default HEAD), as record
    entries: what they ran against the baseline's params, when, and their training FLOPs.
    A recipe run names the commit it started from: a commit made while it ran moves HEAD."""
    head = baseline or git("rev-parse", "HEAD") or "HEAD"
    base = params_at(head)
    recipes, found = all_recipes(), {e.name: e for e in experiments([head]) if e.name in names}
    runs = []
    for name in names:
        if (exp := found.get(name)) is None:
            continue
        read, date = reader(exp.rev), git("log", "-1", "--format=%cI", exp.rev)
        run = read_run(read, name, base, recipes, commit=head, rev=exp.rev, date=date, source=source,
                       wall_seconds=(wall or {}).get(name), stopped_at=stopped_at)  # fmt: skip
        if run is not None:
            flops = train_flops(parse_params(params_at(exp.rev)))
            runs.append(dataclasses.replace(run, train_flops=round(flops)))
    return runs


def predictions(rev: str) -> tuple[list[str], dict[str, list[str]]]:
    """(true classes, model -> predicted classes) from an experiment's plots/predictions.csv."""
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(git("show", f"{rev}:plots/predictions.csv") or "")))
    return [r["actual"] for r in rows], {m: [r[m] for r in rows] for m in ("mlp", "cnn")}


def paired(before: Run, after: Run, bootstrap: int = 2000) -> Comparison:
    """Per model, ``after`` minus ``before`` image by image on the same test images: the change,
    its paired bootstrap interval and McNemar's p (from both runs' predictions)."""
    import numpy as np

    from fmnist.metrics import pair_headline

    y, was = predictions(before.rev or "")
    y_after, now = predictions(after.rev or "")
    if y != y_after:
        raise ValueError(f"{before.name} and {after.name} scored different images")
    change = {m: pair_headline(np.array(y), np.array(was[m]), np.array(now[m]), bootstrap_samples=bootstrap,
                               seed=after.seed) for m in ("mlp", "cnn")}  # fmt: skip
    gap = {m: Gap(c["accuracy"], c["accuracy_low"], c["accuracy_high"], c["mcnemar_p"]) for m, c in change.items()}
    date = git("log", "-1", "--format=%cI", after.rev or "")
    return Comparison(before.name, after.name, after.seed, gap["mlp"], gap["cnn"], date, "fmnist structure collect")
