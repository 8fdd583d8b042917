"""With the optional tensorflow extra, keras sees the same data the pipeline prepares."""

import shutil

import numpy as np
import pytest

from fmnist.idx import RAW_FILES, load_raw
from fmnist.prepared import scale
from fmnist.sources import KERAS_SOURCE, acquire

pytestmark = pytest.mark.tf
keras = pytest.importorskip("keras", reason="the optional tensorflow extra is not installed")


@pytest.fixture
def keras_home(tmp_path, monkeypatch, real_raw):
    """A private keras cache seeded with the four files, so keras downloads nothing."""
    cache = tmp_path / "keras" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    for spec in RAW_FILES:
        shutil.copyfile(real_raw / spec.name, cache / spec.name)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    # keras reads KERAS_HOME once, when it is imported; point the already-imported module too.
    monkeypatch.setattr("keras.src.backend.config._KERAS_DIR", str(tmp_path / "keras"))
    return cache


def test_prepared_arrays_equal_what_keras_load_data_returns(keras_home, real_raw):
    from keras.datasets import fashion_mnist

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    raw = load_raw(real_raw)
    np.testing.assert_array_equal(scale(raw.train_images), x_train.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(scale(raw.test_images), x_test.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(raw.train_labels, y_train)
    np.testing.assert_array_equal(raw.test_labels, y_test)


def test_the_keras_loader_is_a_source(keras_home, tmp_path):
    dest = tmp_path / "raw"
    dest.mkdir()
    assert acquire((KERAS_SOURCE,), dest, timeout=5) == KERAS_SOURCE
    assert sorted(p.name for p in dest.iterdir()) == sorted(s.name for s in RAW_FILES)
