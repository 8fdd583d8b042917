"""fmnist predict: a person's own images, preprocessed as documented, classified by either
runtime; every bad input is one line naming the file, and the rest is still classified."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from fmnist.images import ImageError, load_example, load_idx
from fmnist.mlp import MLPWeights, save_mlp
from fmnist.networks import LeNet, save_cnn
from fmnist.onnx_models import export_mlp
from fmnist.tools import predict

from conftest import REPO, idx_bytes, write_gz


def garment(size=(28, 28), background=0, value=200) -> np.ndarray:
    """A bright rectangle (a 'garment') on a uniform background."""
    h, w = size
    img = np.full((h, w), background, np.uint8)
    img[h // 4 : 3 * h // 4, w // 3 : 2 * w // 3] = value
    return img


# ----------------------------------------------------------------------------- preprocessing


def test_a_28x28_image_is_taken_exactly_as_the_dataset_stores_it(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    pixels[0] = pixels[-1] = pixels[:, 0] = pixels[:, -1] = 0  # a dark background, as in the dataset
    Image.fromarray(pixels).save(tmp_path / "x.png")
    example = load_example(tmp_path / "x.png")
    np.testing.assert_array_equal(example.pixels, pixels.astype(np.float32) / np.float32(255))
    assert example.notes == []


def test_a_light_background_is_inverted(tmp_path):
    Image.fromarray(garment(background=255, value=40)).save(tmp_path / "x.png")
    example = load_example(tmp_path / "x.png")
    assert example.pixels[0, 0] == 0 and example.pixels[14, 14] == pytest.approx(215 / 255)
    assert "light background: inverted" in example.notes


def test_a_large_image_is_trimmed_centred_and_resized_to_28x28(tmp_path):
    img = np.zeros((300, 500), np.uint8)
    img[100:200, 50:250] = 255  # 200 wide, 100 high, off-centre
    Image.fromarray(img).save(tmp_path / "x.png")
    example = load_example(tmp_path / "x.png")
    lit = example.pixels > 0.5
    rows, cols = np.flatnonzero(lit.any(1)), np.flatnonzero(lit.any(0))
    assert example.pixels.shape == (28, 28) and cols[0] == 0 and cols[-1] == 27  # longest side fills 28
    assert rows[0] == 27 - rows[-1] and 12 <= len(rows) <= 15  # centred, aspect ratio kept
    assert any("trimmed, centred, resized" in n for n in example.notes)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "CMYK", "I;16", "P", "RGB"])
def test_other_colour_modes_are_converted_and_say_so(tmp_path, mode):
    base = Image.fromarray(garment(size=(40, 40)))
    if mode == "I;16":
        image = Image.fromarray(garment(size=(40, 40)).astype(np.uint16) * 257)
    elif mode in ("RGBA", "LA"):  # a dark garment on a transparent background, as product photos are
        image = Image.fromarray(garment(size=(40, 40), value=40)).convert(mode)
        alpha = np.where(garment(size=(40, 40)) > 0, 255, 0).astype(np.uint8)
        image.putalpha(Image.fromarray(alpha))
    else:
        image = base.convert(mode)
    suffix = ".tif" if mode in ("CMYK", "I;16") else ".png"
    image.save(tmp_path / f"x{suffix}")
    example = load_example(tmp_path / f"x{suffix}")
    assert example.pixels.shape == (28, 28) and example.pixels.dtype == np.float32
    assert example.pixels.max() > 0.5 and example.pixels[0, 0] == 0  # a garment on black
    expected = {"RGBA": "transparency composited over white", "LA": "transparency composited over white",
                "CMYK": "CMYK converted to RGB", "I;16": "I;16 (16/32-bit) scaled to 8 bits"}.get(mode)  # fmt: skip
    if expected:
        assert expected in example.notes


def test_an_animated_gif_gives_its_first_frame_and_says_so(tmp_path):
    frames = [Image.fromarray(garment(value=v)) for v in (250, 60, 120)]
    frames[0].save(tmp_path / "x.gif", save_all=True, append_images=frames[1:])
    example = load_example(tmp_path / "x.gif")
    assert "animated (3 frames): classified the first" in example.notes
    assert example.pixels.max() > 0.9


def test_an_idx_file_gives_every_image_as_stored(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    path = write_gz(tmp_path / "t10k-images-idx3-ubyte.gz", idx_bytes(images))
    examples = load_idx(path)
    assert [e.name for e in examples] == [f"{path}[{i}]" for i in range(3)]
    np.testing.assert_array_equal(examples[2].pixels, images[2] / np.float32(255))


# ----------------------------------------------------------------------------- bad input


def write_bad(tmp_path, kind: str):
    path = tmp_path / f"{kind}.png"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)).save(path)
        path.write_bytes(path.read_bytes()[:200])
    elif kind == "text":
        path.write_text("this is not a picture\n")
    elif kind == "tiny":
        Image.fromarray(np.zeros((1, 1), np.uint8)).save(path)
    return path


@pytest.mark.parametrize("kind, message", [
    ("empty", "empty file (0 bytes)"),
    ("truncated", "truncated or corrupt image"),
    ("text", "not an image Pillow can read"),
    ("tiny", "1x1 px is too small (at least 8x8)"),
])  # fmt: skip
def test_a_bad_image_is_named_with_what_is_wrong(tmp_path, kind, message):
    path = write_bad(tmp_path, kind)
    with pytest.raises(ImageError, match=re.escape(f"{path}: {message}")):
        load_example(path)


@pytest.mark.parametrize("pixels", [3000, 1200])  # over twice Pillow's limit (an error), and just over it (a warning)
def test_a_decompression_bomb_is_refused_before_it_is_decoded(tmp_path, monkeypatch, pixels):
    Image.fromarray(np.zeros((pixels // 30, 30), np.uint8)).save(tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning may leak out either
        with pytest.raises(ImageError, match="refused: more pixels than Pillow's decompression-bomb limit of 1,000"):
            load_example(tmp_path / "bomb.png")


# ----------------------------------------------------------------------------- the command


@pytest.fixture
def models(tmp_path):
    """Untrained models: the command's plumbing does not care what they learned."""
    torch.manual_seed(0)
    save_cnn(tmp_path / "cnn.safetensors", LeNet())
    rng = np.random.default_rng(0)
    weights = MLPWeights((rng.standard_normal((784, 16)).astype(np.float32), rng.standard_normal((16, 10)).astype(np.float32)),
                         (np.zeros(16, np.float32), np.zeros(10, np.float32)), "relu")  # fmt: skip
    save_mlp(tmp_path / "mlp.safetensors", weights)
    export_mlp(weights, tmp_path / "mlp.onnx")
    return tmp_path


def run_predict(capsys, *args) -> tuple[int, dict, str]:
    capsys.readouterr()  # drop what earlier steps printed
    with pytest.raises(SystemExit) as exit_:
        predict.main([*map(str, args), "--json"])
    out = capsys.readouterr()
    return exit_.value.code, json.loads(out.out) if out.out.strip() else {}, out.err


def test_a_folder_with_bad_files_reports_each_and_classifies_the_rest(tmp_path, models, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(garment(value=100 + 50 * i)).save(folder / f"good{i}.png")
    bad = [write_bad(folder, kind) for kind in ("empty", "text", "truncated")]
    (folder / "notes.txt").write_text("not an image, and not named like one: skipped")
    code, out, err = run_predict(
        capsys, folder, "--cnn", models / "cnn.safetensors", "--mlp", models / "mlp.safetensors"
    )
    assert code == 1
    assert [r["image"] for r in out["results"]] == [str(folder / f"good{i}.png") for i in range(3)]
    assert all(len(r["cnn"]) == 3 and len(r["mlp"]) == 3 for r in out["results"])
    for path in bad:
        assert f"fmnist predict: error: {path}: " in err
    assert "notes.txt" not in err


def test_a_folder_without_images_is_an_error(tmp_path, models, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = run_predict(capsys, tmp_path / "empty", "--mlp", models / "mlp.safetensors", "--model", "mlp")
    assert code == 2 and f"{tmp_path / 'empty'}: no images in this folder" in err


@pytest.mark.parametrize("kind", ["pickle", "wrong architecture"])
def test_a_model_file_that_is_no_model_of_ours_is_refused_by_name(tmp_path, models, capsys, kind):
    bad = tmp_path / "bad.safetensors"
    if kind == "pickle":
        bad.write_bytes(b"\x80\x04\x95" + b"\x00" * 20)
    else:
        other = LeNet()
        other.fc1 = torch.nn.Linear(1600, 300)
        other.fc2 = torch.nn.Linear(300, 128)
        save_cnn(bad, other)
    Image.fromarray(garment()).save(tmp_path / "x.png")
    code, _, err = run_predict(capsys, tmp_path / "x.png", "--cnn", bad, "--model", "cnn")
    assert code == 2
    assert f"{bad}: " in err and ("refusing to load it" in err or "not this architecture" in err)


def test_the_mlp_gives_the_same_classes_in_numpy_and_onnx_runtime(tmp_path, models, capsys):
    for i in range(5):
        Image.fromarray(np.random.default_rng(i).integers(0, 256, (28, 28), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    pngs = sorted(tmp_path.glob("*.png"))
    _, numpy_run, _ = run_predict(capsys, *pngs, "--model", "mlp", "--mlp", models / "mlp.safetensors")
    _, onnx_run, _ = run_predict(capsys, *pngs, "--model", "mlp", "--mlp", models / "mlp.onnx")
    classes = lambda run: [r["mlp"][0]["class"] for r in run["results"]]  # noqa: E731
    assert classes(numpy_run) == classes(onnx_run)


BLOCK_TORCH_AND_SKLEARN = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "sklearn"):
            raise ImportError(f"{name} is blocked in this test")
sys.meta_path.insert(0, Block())
from fmnist.tools.predict import main
main()
"""


def test_onnx_inference_needs_neither_torch_nor_sklearn(tmp_path, models):
    Image.fromarray(garment()).save(tmp_path / "x.png")
    result = subprocess.run([sys.executable, "-c", BLOCK_TORCH_AND_SKLEARN, str(tmp_path / "x.png"), "--model",
                             "mlp", "--runtime", "onnx", "--mlp", str(models / "mlp.onnx"), "--json"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["mlp"][0]["class"]


# ----------------------------------------------------------------------------- against evaluate


@pytest.mark.slow
def test_pngs_of_test_images_get_exactly_the_predictions_evaluate_made(workdir, capsys):
    import csv

    from fmnist.paths import PLOTS_DIR, PREPARED_DIR
    from fmnist.prepared import load_prepared
    from fmnist.stages import evaluate, export, prepare, train_cnn, train_mlp

    from conftest import small_params

    params = small_params()
    for stage in (prepare, train_mlp, train_cnn, evaluate, export):
        stage.stage(params)
    with open(PLOTS_DIR / "predictions.csv") as fh:
        expected = list(csv.DictReader(fh))[:40]
    test = load_prepared(PREPARED_DIR, "test")
    folder = workdir / "pngs"
    folder.mkdir()
    for i in range(40):
        Image.fromarray(np.rint(np.asarray(test.x[i]) * 255).astype(np.uint8)).save(folder / f"{i:02d}.png")
    for runtime in ("torch", "onnx"):
        code, out, err = run_predict(capsys, folder, "--runtime", runtime)
        assert code == 0, err
        for model in ("cnn", "mlp"):
            got = [r[model][0]["class"] for r in out["results"]]
            assert got == [row[model] for row in expected], (runtime, model)
