"""The structure experiments' parts: the pixel permutation, the corruptions and the
robustness stage. What the experiments found is checked in test_readme.py (the page)."""

import csv
import json

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from fmnist.corruptions import SEVERITIES, TRANSFORMS, corrupt
from fmnist.errors import ParamsError
from fmnist.idx import load_raw
from fmnist.params import parse_params
from fmnist.paths import PLOTS_DIR, PREPARED_DIR, ROBUSTNESS
from fmnist.prepared import load_prepared, permute_pixels, pixel_permutation
from fmnist.sklearn_mlp import ReportingMLPClassifier, fit_mlp, flatten
from fmnist.stages import prepare, robustness, train_cnn, train_mlp
from fmnist.tools import structure

from conftest import load_default_params, small_params

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
    plain = MLPClassifier(**vars(p), random_state=0).fit(flatten(x), y)  # the control: a different start
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


def exp_row(name: str, mlp: float, cnn: float, epochs: int = 15) -> dict:
    """An exp_show row as DVC names its columns."""
    return {"Experiment": name, "rev": name, "State": "Success", "metrics/metrics.json:mlp.accuracy": mlp,
            "metrics/metrics.json:cnn.accuracy": cnn, "metrics/metrics.json:cnn_minus_mlp.accuracy": cnn - mlp,
            "metrics/metrics.json:cnn_minus_mlp.mcnemar_p": 1e-9, "dvclive/train_cnn/metrics.json:machine": "a CPU",
            "dvclive/train_mlp/metrics.json:step": 99, "params.yaml:cnn.epochs": epochs, "params.yaml:cnn.batch_size": 64}  # fmt: skip


def sweep_rows(permuted_cnn: float) -> list[dict]:
    rows = [exp_row(structure.original(n, s), 0.80 + 0.01 * i, 0.81 + 0.02 * i + 0.001 * s)
            for i, n in enumerate(structure.SIZES) for s in structure.SEEDS]  # fmt: skip
    return rows + [exp_row(structure.permuted(s), 0.84, permuted_cnn) for s in structure.SEEDS]


def fake_predictions(monkeypatch):
    """Each run's predictions: right on the first round(accuracy * 1000) of 1,000 images."""
    y = np.arange(1000) % 10

    def predictions(rev):
        row = next(r for r in sweep_rows(0.0) if r["rev"] == rev)
        return y, {m: np.where(np.arange(1000) < round(1000 * row[f"metrics/metrics.json:{m}.accuracy"]), y, (y + 1) % 10)
                   for m in ("mlp", "cnn")}  # fmt: skip

    monkeypatch.setattr(structure, "predictions", predictions)


def test_collect_pairs_each_permuted_run_with_its_seed_on_the_original_pixels(monkeypatch):
    fake_predictions(monkeypatch)
    data = structure.collect(sweep_rows(0.0))
    first = data["permuted"][0]
    assert first["original"]["experiment"] == "study-train_size60000-seed0"
    assert first["change"]["mlp"]["accuracy"] == 0.0 and first["change"]["mlp"]["mcnemar_p"] == 1.0
    assert first["change"]["cnn"]["accuracy"] == pytest.approx(0.0 - 0.89)  # permuted: 0 %, original: 89 %
    assert len(data["sizes"]) == len(structure.SIZES) * len(structure.SEEDS)
    with pytest.raises(SystemExit, match="not finished here: permuted-seed2"):
        structure.collect(sweep_rows(0.0)[:-1])
    assert data["equal_steps"] == []  # optional: the page says how many seeds it has
    more = structure.collect(sweep_rows(0.0) + [exp_row(structure.equal_steps(1), 0.80, 0.83, epochs=900)])
    assert [(r["seed"], r["cnn"]["epochs"], r["train_images"]) for r in more["equal_steps"]] == [(1, 900, 1000)]


def robustness_rows() -> list[dict]:
    return [{"transform": t, "severity": s, "amount": s, "unit": "pixels", "model": m, "accuracy": acc - 5 * s}
            for t in ("translate", "contrast") for s in range(3) for m, acc in (("mlp", 88.0), ("cnn", 91.0))]  # fmt: skip


def test_the_page_reads_its_verdicts_from_the_numbers(monkeypatch):
    monkeypatch.setattr(structure, "predictions", lambda rev: (np.zeros(1), {}))
    summary = {m: {"corrupted_accuracy": 0.8, "translated_accuracy": 0.8} for m in ("mlp", "cnn")}
    for permuted_cnn, verdict in ((0.81, "to -3.00 on permuted ones: without the layout the CNN's lead is gone, and the MLP is ahead"),
                                  (0.86, "takes away 33% of the CNN's lead")):  # fmt: skip
        data = {"sizes": [structure.run_record(r) | {"train_images": int(r["Experiment"].split("size")[1].split("-")[0]), "seed": 0}
                                              for r in sweep_rows(0)[:15]],  # fmt: skip
                "permuted": [{"seed": s, "original": structure.run_record(exp_row("o", 0.84, 0.87)),
                              "permuted": structure.run_record(exp_row("p", 0.84, permuted_cnn)),
                              "change": {"mlp": {"accuracy": 0.0, "accuracy_low": -0.001, "accuracy_high": 0.001, "mcnemar_p": 0.9},
                                         "cnn": {"accuracy": permuted_cnn - 0.87, "accuracy_low": -0.1, "accuracy_high": 0.0, "mcnemar_p": 1e-5}}}
                             for s in structure.SEEDS]}  # fmt: skip
        data["equal_steps"] = [structure.run_record(exp_row(structure.equal_steps(1), 0.80, 0.83, epochs=900))
                               | {"train_images": 1000, "seed": 1}]  # fmt: skip
        text = structure.page(data, summary, robustness_rows(), 5000)
        assert verdict in text and "no seed's change is significant at 5 %" in text
        assert "Trained on: a CPU (as each run recorded it)." in text  # the runs' machine, not the reader's
        assert "the lead does not grow as data shrinks" in text  # the fake lead grows with data
        assert "1,000 images give it 240 steps against 14,070 on all 60,000" in text
        assert "(100-100 epochs at 1,000 images)" in text
        assert "(`-S cnn.epochs=900`: 14,400; 1 seed), the CNN reaches" in text and "CNN − MLP +3.00 points" in text
