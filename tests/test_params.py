"""params.yaml is validated once; every mistake names its key and what was expected."""

import copy

import pytest

from fmnist.errors import ParamsError
from fmnist.params import load_params, parse_params

from conftest import REPO, load_default_params


def with_change(key: str, value):
    raw = copy.deepcopy(load_default_params())
    section, _, name = key.rpartition(".")
    (raw[section] if section else raw)[name] = value
    return raw


def test_the_committed_params_reproduce_the_study_defaults():
    p = load_params(REPO / "params.yaml")
    assert p.seed == 0
    assert p.prepare.train_size == 0 and p.prepare.test_size == 0 and p.prepare.val_fraction == 0
    assert p.mlp.hidden_layer_sizes == (256, 128)
    assert (p.mlp.activation, p.mlp.solver, p.mlp.alpha) == ("relu", "adam", 1e-4)
    assert (p.mlp.learning_rate_init, p.mlp.max_iter) == (1e-3, 200)
    assert (p.cnn.epochs, p.cnn.batch_size, p.cnn.lr, p.cnn.dropout) == (15, 64, 1e-3, 0.5)
    assert p.cnn.device == "auto"


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("cnn.epochs", 0, "cnn.epochs: expected an integer >= 1, got 0"),
        ("cnn.lr", -0.1, "cnn.lr: expected a finite number > 0.0, got -0.1"),
        ("cnn.lr", float("nan"), "cnn.lr: expected a finite number > 0.0, got nan"),
        ("cnn.lr", float("inf"), "cnn.lr: expected a finite number > 0.0, got inf"),
        ("mlp.alpha", float("inf"), "mlp.alpha: expected a finite number >= 0.0, got inf"),
        ("cnn.weight_decay", float("-inf"), "cnn.weight_decay: expected a finite number >= 0.0, got -inf"),
        ("data.download_timeout", float("nan"), "data.download_timeout: expected a finite number > 0"),
        ("cnn.arch", "", "cnn.arch: expected one of 'lenet', 'lenet_bn', 'resnet', 'vgg', got ''"),
        ("cnn.arch", "vgq", "cnn.arch: expected one of 'lenet', 'lenet_bn', 'resnet', 'vgg', got 'vgq'"),
        ("evaluate.split", "train", "evaluate.split: expected one of 'test', 'val', got 'train'"),
        ("cnn.optimizer", "lamb", "cnn.optimizer: expected one of 'adam', 'sgd', 'nesterov'"),
        ("cnn.epochs", 2.5, "cnn.epochs: expected an integer >= 1, got 2.5"),
        ("cnn.epochs", True, "cnn.epochs: expected an integer >= 1, got True"),
        ("cnn.epochs", "15", "cnn.epochs: expected an integer >= 1, got '15'"),
        ("cnn.dropout", 1.5, "cnn.dropout: expected a finite number in [0.0, 1.0], got 1.5"),
        ("cnn.device", "tpu", "cnn.device: expected one of 'auto', 'cpu', 'cuda', got 'tpu'"),
        ("mlp.activation", "gelu", "mlp.activation: expected one of 'relu', 'tanh'"),
        ("mlp.hidden_layer_sizes", [256, 0], "mlp.hidden_layer_sizes[1]: expected a positive integer"),
        ("mlp.hidden_layer_sizes", 256, "mlp.hidden_layer_sizes: expected a non-empty list"),
        ("prepare.val_fraction", 0.9, "prepare.val_fraction: expected a finite number in [0.0, 0.5]"),
        ("prepare.train_size", 70000, "prepare.train_size: expected an integer in [0, 60000]"),
        ("data.sources", [], "data.sources: expected a non-empty list"),
        ("seed", -1, "seed: expected an integer in [0, 4294967295], got -1"),
    ],
)
def test_a_bad_value_names_the_key_and_what_was_expected(key, value, message):
    with pytest.raises(ParamsError) as err:
        parse_params(with_change(key, value))
    assert message in str(err.value)


def test_an_unknown_key_suggests_the_near_miss():
    raw = with_change("cnn.epochz", 3)
    with pytest.raises(ParamsError, match=r"unknown key 'cnn.epochz' \(did you mean 'cnn.epochs'\?\)"):
        parse_params(raw)


def test_an_unknown_top_level_section_is_named():
    with pytest.raises(ParamsError, match="unknown key 'trainer'"):
        parse_params(with_change("trainer", {}))


def test_a_missing_section_is_named():
    raw = load_default_params()
    del raw["cnn"]
    with pytest.raises(ParamsError, match="missing key 'cnn'"):
        parse_params(raw)


def test_a_missing_key_is_named():
    raw = load_default_params()
    del raw["mlp"]["alpha"]
    with pytest.raises(ParamsError, match="missing key 'mlp.alpha'"):
        parse_params(raw)


def test_a_section_that_is_not_a_mapping_is_named():
    with pytest.raises(ParamsError, match="cnn: expected a mapping"):
        parse_params(with_change("cnn", 5))


def test_load_params_names_the_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("seed: [unclosed\n")
    with pytest.raises(ParamsError, match=f"{path} is not valid YAML"):
        load_params(path)
    with pytest.raises(ParamsError, match="cannot read"):
        load_params(tmp_path / "absent.yaml")


@pytest.mark.parametrize("text", [".nan", ".inf", "-.inf", ".NaN"])
def test_yaml_nan_and_infinity_written_by_hand_are_refused_with_the_key(tmp_path, text):
    source = (REPO / "params.yaml").read_text()
    path = tmp_path / "params.yaml"
    path.write_text(source.replace("\n  lr: 0.001", f"\n  lr: {text}"))
    with pytest.raises(ParamsError, match=rf"{path}: cnn.lr: expected a finite number > 0.0, got -?(nan|inf)"):
        load_params(path)


def test_integers_are_accepted_where_numbers_are_expected():
    assert parse_params(with_change("cnn.lr", 1)).cnn.lr == 1.0


def test_a_top_level_key_given_twice_is_refused_with_both_lines(tmp_path):
    source = (REPO / "params.yaml").read_text()
    second = "cnn:\n  epochs: 3\n"
    path = tmp_path / "params.yaml"
    path.write_text(source + second)
    first_line = 1 + [line.startswith("cnn:") for line in source.splitlines()].index(True)
    last_line = len(source.splitlines()) + 1
    with pytest.raises(ParamsError, match=rf"{path}: line {last_line}: key 'cnn' is given twice "
                                          rf"\(first on line {first_line}\)"):  # fmt: skip
        load_params(path)


def test_a_nested_key_given_twice_is_refused_even_with_equal_values(tmp_path):
    source = (REPO / "params.yaml").read_text()
    path = tmp_path / "params.yaml"
    path.write_text(source.replace("  epochs: 15\n", "  epochs: 15\n  epochs: 15\n", 1))
    with pytest.raises(ParamsError, match="key 'epochs' is given twice"):
        load_params(path)
