"""Model files: safetensors only, checked before use; a bad file is refused by name."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.neural_network import MLPClassifier

from fmnist.errors import ModelFileError
from fmnist.mlp import load_mlp, mlp_predict_proba, save_mlp
from fmnist.networks import LeNet, load_cnn, save_cnn
from fmnist.sklearn_mlp import weights_of

# The tiny fits here stop after a few iterations on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def fitted_mlp():
    rng = np.random.default_rng(0)
    x = rng.random((200, 784), dtype=np.float32)
    y = np.arange(200) % 10
    return MLPClassifier((16, 8), max_iter=5, random_state=0).fit(x, y), x


def test_the_numpy_forward_pass_matches_sklearn(fitted_mlp):
    clf, x = fitted_mlp
    np.testing.assert_allclose(mlp_predict_proba(weights_of(clf), x), clf.predict_proba(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activation", ["tanh", "logistic", "identity"])
def test_the_numpy_forward_pass_matches_sklearn_for_each_activation(activation):
    rng = np.random.default_rng(1)
    x, y = rng.random((100, 784), dtype=np.float32), np.arange(100) % 10
    clf = MLPClassifier((8,), activation=activation, max_iter=3, random_state=0).fit(x, y)
    np.testing.assert_allclose(mlp_predict_proba(weights_of(clf), x), clf.predict_proba(x), rtol=1e-5, atol=1e-6)


def test_mlp_weights_round_trip(fitted_mlp, tmp_path):
    clf, x = fitted_mlp
    save_mlp(tmp_path / "mlp.safetensors", weights_of(clf))
    loaded = load_mlp(tmp_path / "mlp.safetensors")
    np.testing.assert_array_equal(mlp_predict_proba(loaded, x), mlp_predict_proba(weights_of(clf), x))


def test_cnn_weights_round_trip(tmp_path):
    torch.manual_seed(0)
    model = LeNet().eval()
    save_cnn(tmp_path / "cnn.safetensors", model)
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(load_cnn(tmp_path / "cnn.safetensors")(x), model(x), rtol=0, atol=0)


def test_a_missing_model_file_is_named(tmp_path):
    with pytest.raises(ModelFileError, match="cnn.safetensors: model file not found"):
        load_cnn(tmp_path / "cnn.safetensors")


def test_a_truncated_model_file_is_named(tmp_path):
    path = tmp_path / "cnn.safetensors"
    save_cnn(path, LeNet())
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ModelFileError, match=f"{path}: not a complete safetensors file"):
        load_cnn(path)


@pytest.mark.parametrize("content", [b"", b"hello, not weights", b"\x00" * 7], ids=["empty", "text", "short"])
def test_a_file_that_is_not_safetensors_is_named(tmp_path, content):
    path = tmp_path / "cnn.safetensors"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=f"{path}: (not a complete|corrupt) safetensors file"):
        load_cnn(path)


def test_a_tampered_header_is_refused(tmp_path):
    path = tmp_path / "cnn.safetensors"
    save_cnn(path, LeNet())
    data = bytearray(path.read_bytes())
    data[8:9] = b"["  # the header's opening brace: no longer the JSON object it must be
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=f"{path}: corrupt safetensors file"):
        load_cnn(path)


def test_tampered_weights_that_are_not_finite_are_refused(tmp_path):
    model = LeNet()
    with torch.no_grad():
        model.fc3.weight[0, 0] = float("nan")
    save_cnn(tmp_path / "cnn.safetensors", model)
    with pytest.raises(ModelFileError, match="tensor 'fc3.weight' has non-finite values"):
        load_cnn(tmp_path / "cnn.safetensors")


def test_a_weights_file_for_another_architecture_names_the_mismatch(tmp_path):
    other = LeNet()
    other.fc1 = torch.nn.Linear(1600, 300)
    other.fc2 = torch.nn.Linear(300, 128)
    save_cnn(tmp_path / "cnn.safetensors", other)
    with pytest.raises(ModelFileError) as err:
        load_cnn(tmp_path / "cnn.safetensors")
    assert "fc1.weight has shape (300, 1600), expected (256, 1600)" in str(err.value)
    assert "fc2.weight has shape (128, 300), expected (128, 256)" in str(err.value)


def test_the_mlp_file_is_refused_where_the_cnn_is_expected(fitted_mlp, tmp_path):
    save_mlp(tmp_path / "x.safetensors", weights_of(fitted_mlp[0]))
    with pytest.raises(ModelFileError, match="holds a 'mlp' model, expected 'lenet'"):
        load_cnn(tmp_path / "x.safetensors")


class _Exploit:
    def __reduce__(self):
        return (exec, ("raise SystemExit('pickle code ran')",))


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_a_pickle_in_place_of_a_model_is_refused_and_never_run(tmp_path, writer):
    path = tmp_path / "cnn.safetensors"
    if writer == "pickle":
        path.write_bytes(pickle.dumps(_Exploit()))
    else:
        torch.save({"payload": _Exploit()}, path)
    with pytest.raises(ModelFileError, match="looks like a pickle or torch.save archive; refusing"):
        load_cnn(path)
    with pytest.raises(ModelFileError, match="refusing"):
        load_mlp(path)
