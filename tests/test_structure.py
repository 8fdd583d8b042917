"""The structure experiments' parts: the pixel permutation, the corruptions and the
robustness stage. What the experiments found is checked in test_readme.py (the page)."""

import csv
import dataclasses
import json

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from fmnist import params
from fmnist import runs as runs_module
from fmnist import structure_study as study
from fmnist.classes import CLASS_NAMES
from fmnist.corruptions import SEVERITIES, TRANSFORMS, corrupt
from fmnist.errors import ParamsError
from fmnist.idx import load_raw
from fmnist.networks import CNNSpec, build_cnn
from fmnist.params import parse_params
from fmnist.paths import PLOTS_DIR, PREPARED_DIR, ROBUSTNESS
from fmnist.prepared import load_prepared, permute_pixels, pixel_permutation
from fmnist.recipes import all_recipes
from fmnist.runs import Comparison, Gap, Model, Run
from fmnist.sklearn_mlp import ReportingMLPClassifier, fit_mlp, flatten, sklearn_kwargs
from fmnist.stages import prepare, robustness, train_cnn, train_mlp
from fmnist.tools import structure
from fmnist.torch_mlp import TorchMLP

from conftest import REPO, load_default_params, small_params

TINY = {"mlp.hidden_layer_sizes": [16], "mlp.max_iter": 2, "cnn.epochs": 1, "cnn.batch_size": 64}


# ----------------------------------------------------------------------------- permutation


def test_the_pixel_permutation_is_a_bijection_fixed_by_the_seed():
    order = pixel_permutation(7)
    assert sorted(order) == list(range(784))
    np.testing.assert_array_equal(order, pixel_permutation(7))
    assert not np.array_equal(order, pixel_permutation(8))
    images = np.random.default_rng(0).random((3, 28, 28), dtype=np.float32)
    np.testing.assert_array_equal(permute_pixels(permute_pixels(images, order), np.argsort(order)), images)


def test_pixels_are_unpermuted_by_default_so_the_study_bytes_stay():
    assert parse_params(load_default_params()).prepare.permute_pixels is False


def test_prepare_permutes_train_and_test_in_the_same_order(workdir):
    prepare.stage(small_params(**{"prepare.permute_pixels": True, "seed": 3}))
    raw, order = load_raw("data/raw"), pixel_permutation(3)
    for split, images in (("train", raw.train_images[:1000]), ("test", raw.test_images[:500])):
        expected = permute_pixels(images / np.float32(255), order)
        np.testing.assert_array_equal(load_prepared(PREPARED_DIR, split).x, expected)
    assert json.loads((workdir / "metrics/dataset.json").read_text())["permuted_pixels"] is True


class PermutedInit(ReportingMLPClassifier):
    """The MLP with its first layer's initial rows put in ``order``: the initialisation
    that, seen through a permutation, is the one a run on permuted pixels starts from."""

    order: np.ndarray

    def _initialize(self, y, layer_units, dtype):  # sklearn's private hook, pinned by TESTED_SKLEARN
        super()._initialize(y, layer_units, dtype)
        first = np.empty_like(self.coefs_[0])
        first[self.order] = self.coefs_[0]
        self.coefs_[0] = first


def test_an_mlp_on_permuted_pixels_is_the_same_mlp_with_its_first_layer_permuted(monkeypatch, workdir):
    """Fully connected layers do not see pixel order: training on permuted pixels equals
    training on the originals from the correspondingly permuted start, weight for weight
    up to float32 rounding (the sums run in another order)."""
    raw, order = load_raw("data/raw"), pixel_permutation(5)
    x, y = raw.train_images[:600] / np.float32(255), raw.train_labels[:600]
    p = small_params(**{"mlp.hidden_layer_sizes": [32], "mlp.max_iter": 4}).mlp
    on_permuted, _ = fit_mlp(permute_pixels(x, order), y, p, seed=0)
    PermutedInit.order = order
    monkeypatch.setattr("fmnist.sklearn_mlp.ReportingMLPClassifier", PermutedInit)
    on_original, _ = fit_mlp(x, y, p, seed=0)
    np.testing.assert_allclose(on_original.coefs_[0][order], on_permuted.coefs_[0], rtol=1e-3, atol=2e-5)
    np.testing.assert_allclose(on_original.coefs_[1], on_permuted.coefs_[1], rtol=1e-3, atol=2e-5)
    test = raw.test_images[:500] / np.float32(255)
    agree = on_original.predict(flatten(test)) == on_permuted.predict(flatten(permute_pixels(test, order)))
    assert agree.mean() >= 0.998
    plain = MLPClassifier(**sklearn_kwargs(p), random_state=0).fit(flatten(x), y)  # the control: a different start
    assert not np.allclose(plain.coefs_[0][order], on_permuted.coefs_[0], atol=1e-3)


# ----------------------------------------------------------------------------- corruptions


IMAGES = np.random.default_rng(1).random((16, 28, 28), dtype=np.float32) * np.pad(np.ones((20, 20)), 4)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_each_corruption_is_the_identity_at_severity_0_and_changes_images_above(name):
    np.testing.assert_array_equal(corrupt(IMAGES, name, 0, seed=0), IMAGES)
    for severity in range(1, len(SEVERITIES[name])):
        out = corrupt(IMAGES, name, severity, seed=0)
        assert out.shape == IMAGES.shape and out.dtype == np.float32
        assert 0.0 <= out.min() and out.max() <= 1.0
        assert not np.allclose(out, IMAGES, atol=1e-3)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_each_corruption_is_fixed_by_its_seed(name):
    np.testing.assert_array_equal(corrupt(IMAGES, name, 2, seed=0), corrupt(IMAGES, name, 2, seed=0))


def test_translation_moves_the_garment_whole_and_fills_with_black():
    dot = np.zeros((200, 28, 28), np.float32)
    dot[:, 14, 14] = 1.0
    moved = corrupt(dot, "translate", 3, seed=0)
    rows, cols = np.nonzero(moved.sum(0) > 0)[0], np.nonzero(moved.sum(0) > 0)[1]
    assert set(rows) == {11, 14, 17} and set(cols) == {11, 14, 17}
    assert np.all(moved.reshape(200, -1).sum(1) == 1) and not np.any(moved[:, 14, 14])


def test_an_unknown_or_repeated_transformation_is_refused_with_its_key():
    with pytest.raises(ParamsError, match=r"robustness.transforms\[1\]: unknown 'fog'; known: translate, rotate"):
        small_params(**{"robustness.transforms": ["translate", "fog"]})
    with pytest.raises(ParamsError, match=r"robustness.transforms: an entry is listed twice"):
        small_params(**{"robustness.transforms": ["rotate", "rotate"]})


def test_params_name_exactly_the_transformations_and_architectures_the_code_has():
    from fmnist.networks import ARCHITECTURES

    assert tuple(TRANSFORMS) == params.TRANSFORMS
    assert tuple(ARCHITECTURES) == params.ARCHITECTURES


# ----------------------------------------------------------------------------- the stage


def test_robustness_scores_both_models_per_transformation_and_severity(workdir):
    params = small_params(**TINY | {"robustness.transforms": ["translate", "gaussian_noise"], "robustness.images": 200})
    prepare.stage(params)
    train_mlp.stage(params)
    train_cnn.stage(params)
    robustness.stage(params)
    summary = json.loads(ROBUSTNESS.read_text())
    assert set(summary) == {"mlp", "cnn"} and set(summary["cnn"]) == {"corrupted_accuracy", "translated_accuracy"}
    rows = list(csv.DictReader((PLOTS_DIR / "robustness.csv").open()))
    assert len(rows) == 2 * (len(SEVERITIES["translate"]) + len(SEVERITIES["gaussian_noise"]))
    corrupted = [float(r["accuracy"]) for r in rows if r["model"] == "cnn" and r["severity"] != "0"]
    assert summary["cnn"]["corrupted_accuracy"] == pytest.approx(np.mean(corrupted) / 100, abs=1e-4)
    assert (PLOTS_DIR / "robustness.png").read_bytes()[:4] == b"\x89PNG"
    first = ROBUSTNESS.read_bytes()
    robustness.stage(params)
    assert ROBUSTNESS.read_bytes() == first  # the corruptions are seeded: a rerun scores the same images


# ----------------------------------------------------------------------------- the page


def sweep(permuted_cnn: float) -> list[Run]:
    """The structure experiments as the record holds them, made up."""

    def run(name: str, mlp: float, cnn: float, rev: str) -> Run:
        seed = int(name.rsplit("seed", 1)[1])
        return Run(name, seed, "test", Model(mlp, epochs=120), Model(cnn, epochs=15), Gap(cnn - mlp, p=0.01),
                   family="EPYC Zen 4", rev=rev)  # fmt: skip

    runs = [run(study.original(n, s), 0.80 + 0.01 * i, 0.81 + 0.02 * i + 0.001 * s, f"o{i}{s}")
            for i, n in enumerate(study.SIZES) for s in study.SEEDS]  # fmt: skip
    runs += [run(study.permuted(s), 0.84, permuted_cnn, f"p{s}") for s in study.SEEDS]
    return runs + [run(study.equal_steps(s), 0.80, 0.83, f"e{s}") for s in study.SEEDS]


def test_each_permuted_run_is_paired_image_by_image_with_its_seed_on_the_original_pixels(monkeypatch):
    runs = {r.name: r for r in sweep(0.0)}
    by_rev = {r.rev: r for r in runs.values()}
    y = [CLASS_NAMES[i % 10] for i in range(1000)]

    def predictions(rev):  # right on the first round(accuracy * 1000) of 1,000 images
        right = lambda m: round(1000 * getattr(by_rev[rev], m).accuracy)  # noqa: E731
        return y, {
            m: [c if i < right(m) else "Bag" if c != "Bag" else "Coat" for i, c in enumerate(y)] for m in study.MODELS
        }

    monkeypatch.setattr(runs_module, "predictions", predictions)
    monkeypatch.setattr(runs_module, "git", lambda *args: "2026-12-06T00:00:00+00:00")
    pair = runs_module.paired(runs[study.original(60000, 0)], runs[study.permuted(0)], bootstrap=200)
    assert (pair.a, pair.b, pair.seed) == ("study-train_size60000-seed0", "permuted-seed0", 0)
    assert pair.mlp.accuracy == pytest.approx(0.0) and pair.mlp.p == 1.0
    assert pair.cnn.accuracy == pytest.approx(-0.89) and pair.cnn.p < 1e-100  # permuted: 0 %, original: 89 %


def robustness_csv(folder) -> None:
    rows = [{"transform": t, "severity": s, "amount": s, "unit": "pixels", "model": m, "accuracy": acc - 5 * s}
            for t in ("translate", "contrast") for s in range(3) for m, acc in (("mlp", 88.0), ("cnn", 91.0))]  # fmt: skip
    (folder / "plots").mkdir()
    with open(folder / "plots" / "robustness.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_the_page_reads_its_verdicts_from_the_numbers(tmp_path):
    robustness_csv(tmp_path)
    summary = {m: {"corrupted_accuracy": 0.8, "translated_accuracy": 0.8} for m in ("mlp", "cnn")}
    for permuted_cnn, verdict in ((0.81, "the CNN's lead is gone, and the MLP is ahead"), (0.86, "takes away 61% of")):
        runs = sweep(permuted_cnn)
        pairs = [Comparison(study.original(60000, s), study.permuted(s), s, Gap(0.0, -0.001, 0.001, 0.9),
                            Gap(permuted_cnn - 0.89, -0.1, 0.0, 1e-5)) for s in study.SEEDS]  # fmt: skip
        page = structure.body(runs, pairs, tmp_path, summary, 5000)
        assert verdict in page and "no seed's change is significant at 5 %" in page
        assert "| 1,000 | 80.00 ± 0.00 | 81.10 ± 0.10 |" in page and "Trained on: EPYC Zen 4" in page
    with pytest.raises(StopIteration):
        structure.body(runs, pairs[:2], tmp_path, summary, 5000)  # a seed without its paired test


# ----------------------------------------------------------------------------- structure alone


def alone_run(recipe: str, seed: int, mlp: float, cnn: float, p: float) -> Run:
    settings = all_recipes(REPO / "recipes")[recipe].params
    return Run(f"{recipe}-seed{seed}", seed, "test", Model(mlp, seconds=20.0, parameters=535_818),
               Model(cnn, seconds=130.0, parameters=496_490), Gap(cnn - mlp, p=p), recipe=recipe,
               settings=settings, family="EPYC Zen 4")  # fmt: skip


def test_the_controlled_pair_has_one_recipe_for_both_models_and_about_as_many_weights():
    recipe = all_recipes(REPO / "recipes")[study.ALONE[0]]
    p = parse_params(params.override(load_default_params(), recipe.params))
    unused = {"muon_lr", "momentum"} if p.cnn.optimizer == "adam" else set()  # what Adam never reads
    shared = {f.name for f in dataclasses.fields(params.TrainingParams)} - {"device"} - unused
    assert {k: getattr(p.cnn, k) for k in shared} == {k: getattr(p.mlp.torch, k) for k in shared}
    assert p.mlp.impl == "torch" and p.cnn.arch in ("lenet", "lenet_bn")
    weights = {"cnn": sum(w.numel() for w in build_cnn(CNNSpec(p.cnn.arch)).parameters()),
               "mlp": sum(w.numel() for w in TorchMLP(p.mlp.hidden_layer_sizes, batch_norm=True).parameters())}  # fmt: skip
    assert 1 / 1.5 <= weights["mlp"] / weights["cnn"] <= 1.5


def test_the_pair_section_pools_paired_differences_over_seeds_and_says_what_shifts_gave_the_mlp():
    runs = [alone_run("structure-alone", s, m, c, p) for s, m, c, p in ((0, 0.90, 0.92, 1e-9), (1, 0.91, 0.925, 1e-6),
                                                                         (2, 0.905, 0.93, 1e-12))]  # fmt: skip
    runs += [alone_run("structure-alone-shift", s, m, 0.92, 1e-3) for s, m in ((0, 0.91), (1, 0.915), (2, 0.912))]
    pair = study.alone(all_recipes(REPO / "recipes"), runs)
    assert [len(v) for v in pair.values()] == [3, 3]
    assert study.shift_gain(pair) == pytest.approx([0.01, 0.005, 0.007])
    text = "\n".join(structure.alone_section(pair))
    assert "| structure-alone | 3 | EPYC Zen 4 | 496,490, 535,818 | 92.50 ± 0.50 | 90.50 ± 0.50 | +2.00 [" in text
    assert "| 1.0e-06 |" in text and "moves the MLP +0.73 ± 0.25 points, seed for seed (3 seeds)" in text
