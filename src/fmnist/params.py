"""One typed, validated view of ``params.yaml``.

Every stage calls :func:`load_params` and passes plain values on. A wrong key, type or
value stops the stage with an error that names the key and what was expected, so a typo
in ``dvc exp run -S`` never trains a model on a silently ignored setting.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fmnist.errors import ParamsError

PARAMS_FILE = Path("params.yaml")
SEEDS = ("seed", "cnn.seed")  # which draw a run is, not what it changed

# The names a param may take where the code that honours it lives in a module with heavy
# imports: networks.py and corruptions.py register exactly these (checked at import), so a
# typo is refused here, by every reader of params.yaml, before any stage runs.
ARCHITECTURES = ("lenet", "lenet_bn", "resnet", "vgg")
TRANSFORMS = ("translate", "rotate", "scale", "shear", "gaussian_noise", "shot_noise", "impulse_noise",
              "gaussian_blur", "motion_blur", "contrast", "occlude")  # fmt: skip


def _spec(*, lo=None, hi=None, lo_open=False, choices=None) -> dict:
    """A field's validation metadata: a closed range [lo, hi] (or (lo, hi]) or a choice set."""
    return {"lo": lo, "hi": hi, "lo_open": lo_open, "choices": choices}


@dataclass(frozen=True)
class DataParams:
    sources: tuple[str, ...]
    download_timeout: float = field(metadata=_spec(lo=0, lo_open=True))


@dataclass(frozen=True)
class PrepareParams:
    train_size: int = field(metadata=_spec(lo=0, hi=60_000))  # 0 = all 60,000 (the study); N = first N
    test_size: int = field(metadata=_spec(lo=0, hi=10_000))  # 0 = all 10,000
    val_fraction: float = field(metadata=_spec(lo=0.0, hi=0.5))  # stratified hold-out carved from train
    permute_pixels: bool = field(metadata=_spec())  # one fixed pixel order, drawn from seed, for every split


@dataclass(frozen=True)
class TrainingParams:
    """How a PyTorch network is trained: the keys the CNN and the PyTorch MLP share, honoured
    by one training loop (training.py), so both families get the same tools."""

    epochs: int = field(metadata=_spec(lo=1))
    batch_size: int = field(metadata=_spec(lo=1))
    lr: float = field(metadata=_spec(lo=0.0, lo_open=True))
    optimizer: str = field(metadata=_spec(choices=("adam", "sgd", "nesterov", "muon")))
    momentum: float = field(metadata=_spec(lo=0.0, hi=0.999))  # sgd, nesterov, muon
    muon_lr: float = field(metadata=_spec(lo=0.0, lo_open=True))  # muon: peak rate of the matrices Muon steps
    schedule: str = field(metadata=_spec(choices=("constant", "onecycle", "cosine", "triangular")))
    warmup: float = field(metadata=_spec(lo=0.0, hi=1.0))  # onecycle, triangular: share of steps rising to the peak
    weight_decay: float = field(metadata=_spec(lo=0.0))
    label_smoothing: float = field(metadata=_spec(lo=0.0, hi=0.5))
    dropout: float = field(metadata=_spec(lo=0.0, hi=1.0))
    crop_padding: int = field(metadata=_spec(lo=0, hi=8))
    hflip: bool = field(metadata=_spec())
    random_erasing: float = field(metadata=_spec(lo=0.0, hi=1.0))
    ema: float = field(metadata=_spec(lo=0.0, hi=0.9999))  # 0 = off
    lookahead: bool = field(metadata=_spec())  # airbench's: pull the weights to their slow average every 5 steps
    bn_momentum: float = field(metadata=_spec(lo=0.0, hi=1.0, lo_open=True))
    bn_scale: bool = field(metadata=_spec())  # false: BatchNorm scales frozen at 1, only biases learn
    bn_bias_lr: float = field(metadata=_spec(lo=0.0, lo_open=True))  # learning-rate multiplier of BatchNorm biases
    precision: str = field(metadata=_spec(choices=("auto", "fp32", "bf16")))  # training's mixed precision
    device: str = field(metadata=_spec(choices=("auto", "cpu", "cuda")))


@dataclass(frozen=True)
class TorchMLPParams(TrainingParams):
    """``mlp.torch``: the PyTorch MLP's training (the CNN's keys) and its BatchNorm switch;
    its layers and activation are ``mlp.hidden_layer_sizes`` and ``mlp.activation``."""

    batch_norm: bool = field(metadata=_spec())  # after each hidden dense layer; folded into it when saved


@dataclass(frozen=True)
class MLPParams:
    impl: str = field(metadata=_spec(choices=("sklearn", "torch")))  # sklearn: the study's; torch: the CNN's trainer
    hidden_layer_sizes: tuple[int, ...]
    activation: str = field(metadata=_spec(choices=("relu", "tanh", "logistic", "identity")))
    solver: str = field(metadata=_spec(choices=("adam", "sgd")))
    alpha: float = field(metadata=_spec(lo=0.0))
    learning_rate_init: float = field(metadata=_spec(lo=0.0, lo_open=True))
    learning_rate: str = field(metadata=_spec(choices=("constant", "invscaling", "adaptive")))  # sgd only
    max_iter: int = field(metadata=_spec(lo=1))
    batch_size: int = field(metadata=_spec(lo=1))
    tol: float = field(metadata=_spec(lo=0.0))
    n_iter_no_change: int = field(metadata=_spec(lo=1))
    early_stopping: bool = field(metadata=_spec())  # sklearn holds out validation_fraction and keeps the best
    validation_fraction: float = field(metadata=_spec(lo=0.0, hi=0.5, lo_open=True))
    torch: TorchMLPParams  # impl: torch only


@dataclass(frozen=True)
class CNNParams(TrainingParams):
    arch: str = field(metadata=_spec(choices=ARCHITECTURES))
    width: int = field(metadata=_spec(lo=1, hi=1024))  # resnet, vgg: channels of the first stage
    blocks: int = field(metadata=_spec(lo=1, hi=16))  # resnet, vgg: blocks per stage
    whiten: bool = field(metadata=_spec())  # vgg: first convolution fixed to the training patches' whitening
    identity_init: bool = field(metadata=_spec())  # vgg: later convolutions start as the identity on their inputs
    seed: int | None = field(metadata=_spec(lo=0, hi=2**32 - 1))  # None: the top-level seed


@dataclass(frozen=True)
class EvaluateParams:
    split: str = field(metadata=_spec(choices=("test", "val")))  # val while choosing: the test set stays unread
    batch_size: int = field(metadata=_spec(lo=1))
    bootstrap_samples: int = field(metadata=_spec(lo=100))
    tta_flip: bool = field(metadata=_spec())  # CNN: also average the logits of each image's mirror image
    tta_shift: int = field(metadata=_spec(lo=0, hi=4))  # CNN: also average the image moved by N px each way


@dataclass(frozen=True)
class RobustnessParams:
    transforms: tuple[str, ...] = field(metadata=_spec(choices=TRANSFORMS))  # each once
    images: int = field(metadata=_spec(lo=0))  # the first N images of the evaluation split; 0 = all


@dataclass(frozen=True)
class Params:
    seed: int = field(metadata=_spec(lo=0, hi=2**32 - 1))
    data: DataParams
    prepare: PrepareParams
    mlp: MLPParams
    cnn: CNNParams
    evaluate: EvaluateParams
    robustness: RobustnessParams

    @property
    def cnn_seed(self) -> int:
        """The CNN's seed: ``cnn.seed`` where set, so a CNN recipe's seeds retrain the CNN
        alone; otherwise the run's, which seeds both families."""
        return self.seed if self.cnn.seed is None else self.cnn.seed


def _describe(f: dataclasses.Field, kind: type) -> str:
    meta = f.metadata
    if meta.get("choices"):
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    nouns = {int: "an integer", float: "a finite number", str: "a string", bool: "true or false"}
    noun = nouns.get(kind, kind.__name__)
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and hi is not None:
        return f"{noun} in {'(' if meta['lo_open'] else '['}{lo}, {hi}]"
    if lo is not None:
        return f"{noun} {'>' if meta['lo_open'] else '>='} {lo}"
    return noun


def _check_scalar(value, kind: type, f: dataclasses.Field, key: str, optional: bool = False):
    # bool is an int subclass in Python; `epochs: true` is a mistake, not 1.
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind is str:
        ok = isinstance(value, str) and value != ""
    else:
        ok = isinstance(value, kind) and not isinstance(value, bool)
    want = _describe(f, kind) + (" or null" if optional else "")
    if not ok or (kind is float and not math.isfinite(value)):
        raise ParamsError(f"{key}: expected {want}, got {value!r}")
    value = float(value) if kind is float else value
    meta = f.metadata
    if meta.get("choices") and value not in meta["choices"]:
        raise ParamsError(f"{key}: expected {want}, got {value!r}")
    lo, hi = meta.get("lo"), meta.get("hi")
    below = lo is not None and (value <= lo if meta.get("lo_open") else value < lo)
    if below or (hi is not None and value > hi):
        raise ParamsError(f"{key}: expected {want}, got {value!r}")
    return value


def _check_tuple(value, item: type, key: str, choices: tuple | None = None) -> tuple:
    if not isinstance(value, list) or not value:
        raise ParamsError(f"{key}: expected a non-empty list, got {value!r}")
    for i, v in enumerate(value):
        bad_int = item is int and (not isinstance(v, int) or isinstance(v, bool) or v < 1)
        if bad_int or (item is str and not (isinstance(v, str) and v)):
            want = "a positive integer" if item is int else "a non-empty string"
            raise ParamsError(f"{key}[{i}]: expected {want}, got {v!r}")
        if choices and v not in choices:
            near = difflib.get_close_matches(str(v), choices, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ParamsError(f"{key}[{i}]: unknown {v!r}{hint}; known: {', '.join(choices)}")
    if choices and len(set(value)) != len(value):
        raise ParamsError(f"{key}: an entry is listed twice in {value}")
    return tuple(value)


def _build(cls, raw, prefix: str):
    if not isinstance(raw, dict):
        raise ParamsError(f"{prefix.rstrip('.') or 'params'}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            near = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean '{prefix}{near[0]}'?)" if near else ""
            known = ", ".join(fields)
            raise ParamsError(f"unknown key '{prefix}{key}'{hint}; known keys: {known}")
    values: dict[str, object] = {}
    for name, f in fields.items():
        key = prefix + name
        if name not in raw:
            raise ParamsError(f"missing key '{key}'")
        hint = hints[name]
        optional = type(None) in typing.get_args(hint)
        if optional:
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        if optional and raw[name] is None:
            values[name] = None
        elif dataclasses.is_dataclass(hint):
            values[name] = _build(hint, raw[name], key + ".")
        elif typing.get_origin(hint) is tuple:
            values[name] = _check_tuple(raw[name], typing.get_args(hint)[0], key, f.metadata.get("choices"))
        else:
            values[name] = _check_scalar(raw[name], hint, f, key, optional)
    return cls(**values)


def parse_params(raw) -> Params:
    """Validate an already-loaded mapping; raises :class:`ParamsError` naming the key."""
    return _build(Params, raw, "")


class _DuplicateKey(Exception):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error:
    plain YAML readers keep the last, so a second ``cnn:`` block would hide the first."""

    def construct_mapping(self, node, deep=False):
        first_line: dict = {}
        for key_node, _ in node.value:
            key, line = self.construct_object(key_node, deep=True), key_node.start_mark.line + 1
            if key in first_line:
                raise _DuplicateKey(f"line {line}: key '{key}' is given twice (first on line "
                                    f"{first_line[key]}); YAML readers would keep the last, so keep one")  # fmt: skip
            first_line[key] = line
        return super().construct_mapping(node, deep)


def read_yaml(path: Path | str, text: str | None = None):
    """A YAML file's data (``text`` if already read), refusing duplicate keys; every error
    is a ParamsError that names the file."""
    if text is None:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ParamsError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no Python objects
    except _DuplicateKey as exc:
        raise ParamsError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path} is not valid YAML: {exc}") from exc


def load_params(path: Path = PARAMS_FILE) -> Params:
    raw = read_yaml(path)
    try:
        return parse_params(raw)
    except ParamsError as exc:
        raise ParamsError(f"{path}: {exc}") from None


# ----------------------------------------------------------------------------- dotted keys


def flatten(node, prefix: str = "") -> dict:
    """Dotted key -> value for every leaf of a params mapping, as ``-S`` and DVC name them."""
    if not isinstance(node, dict):
        return {prefix.rstrip("."): node}
    return {k: v for key, value in node.items() for k, v in flatten(value, f"{prefix}{key}.").items()}


def override(raw: dict, changes: dict) -> dict:
    """params.yaml's mapping with dotted-key changes applied; an unknown key is an error."""
    raw = copy.deepcopy(raw)
    for key, value in changes.items():
        *sections, leaf = key.split(".")
        node = raw
        for section in sections:
            if not isinstance(node.get(section), dict):
                raise ParamsError(f"unknown key '{key}'")
            node = node[section]
        if leaf not in node:
            raise ParamsError(f"unknown key '{key}'")
        node[leaf] = value
    return raw


def same_value(a, b) -> bool:
    """Equal as params: 0.001 and 1e-3, 20 and 20.0, true and True."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    return float(a) == float(b) if numbers else shown(a) == shown(b)


def shown(value) -> str:
    """A param value as a person would type it after ``-S``: 20, not 20.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def drifted(workspace: dict, base: dict) -> dict:
    """The ``base`` value of every param the workspace changed (an applied experiment, an edit):
    what a recipe sets back, so that it runs on the committed params plus its own."""
    before = flatten(base)
    return {k: before[k] for k, v in flatten(workspace).items() if k in before and not same_value(v, before[k])}


def changes(params: dict, base: dict) -> dict:
    """Dotted key -> value of every leaf of ``params`` that differs from ``base``, the seed aside."""
    flat, before = flatten(params), flatten(base)
    return {k: v for k, v in flat.items() if k not in SEEDS and not (k in before and same_value(v, before[k]))}
