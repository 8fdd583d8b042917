"""Training: the CNN architectures, every recipe switch of the training loop, the PyTorch MLP it also
trains, and the sklearn MLP's options."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.neural_network import MLPClassifier

from fmnist import sklearn_mlp, training
from fmnist.augment import augment, random_erase, random_hflip, random_translate
from fmnist.errors import ParamsError
from fmnist.inference import pick_device, predict_logits
from fmnist.mlp import mlp_logits
from fmnist.networks import ARCHITECTURES, CNNSpec, build_cnn, load_cnn, pooled_conv, save_cnn
from fmnist.prepared import Split
from fmnist.torch_mlp import mlp_weights

from conftest import small_params

CPU = torch.device("cpu")


def images(n: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def tiny_split(n: int = 256, seed: int = 0) -> Split:
    rng = np.random.default_rng(seed)
    return Split(rng.random((n, 28, 28), dtype=np.float32), rng.integers(0, 10, n))


EMPTY = Split(np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64))


# ----------------------------------------------------------------------------- architectures


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_each_architecture_maps_images_to_ten_logits_and_takes_a_training_step(arch):
    model = build_cnn(CNNSpec(arch, width=8, blocks=1))
    before = [p.detach().clone() for p in model.parameters()]
    logits = model(images())
    assert logits.shape == (8, 10)
    torch.nn.functional.cross_entropy(logits, torch.arange(8)).backward()
    torch.optim.Adam(model.parameters(), lr=1e-2).step()
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


@pytest.mark.parametrize("spec", [CNNSpec("lenet"), CNNSpec("lenet_bn"), CNNSpec("resnet", 8, 2), CNNSpec("vgg", 8, 2)])
def test_each_architecture_reloads_from_its_file_with_the_same_outputs(tmp_path, spec):
    model = build_cnn(spec)
    model(images(16))  # move BatchNorm's running statistics off their initial values
    model.eval()
    save_cnn(tmp_path / "cnn.safetensors", model, spec)
    again = load_cnn(tmp_path / "cnn.safetensors")
    assert type(again) is type(model)
    torch.testing.assert_close(again(images()), model(images()), rtol=0, atol=0)


def test_the_default_lenet_has_exactly_the_study_layers():
    names = {k: tuple(v.shape) for k, v in build_cnn(CNNSpec()).state_dict().items()}
    assert names == {
        "conv1.weight": (32, 1, 5, 5), "conv1.bias": (32,), "conv2.weight": (64, 32, 5, 5), "conv2.bias": (64,),
        "fc1.weight": (256, 1600), "fc1.bias": (256,), "fc2.weight": (128, 256), "fc2.bias": (128,),
        "fc3.weight": (10, 128), "fc3.bias": (10,),
    }  # fmt: skip


def test_resnet_depth_and_width_follow_its_params():
    small, deep = build_cnn(CNNSpec("resnet", 16, 1)), build_cnn(CNNSpec("resnet", 16, 3))
    convs = [sum(isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) for m in net.modules())
             for net in (small, deep)]  # fmt: skip
    assert convs == [1 + 6, 1 + 18]  # stem + 2 per block: ResNet-8 and ResNet-20
    assert deep.fc.in_features == 64
    assert sum(p.numel() for p in deep.parameters()) < 1_000_000


# ----------------------------------------------------------------------------- augmentation


def test_translation_shifts_content_and_fills_with_background():
    x = torch.zeros(200, 1, 28, 28)
    x[:, 0, 10:18, 10:18] = 1.0
    out = random_translate(x, 3, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    assert torch.all(out.sum((1, 2, 3)) == 64)  # the square never leaves the frame
    rows = out[:, 0].amax(2).argmax(1) - 10  # first lit row, relative to the original
    assert set(rows.tolist()) == set(range(-3, 4))
    assert torch.equal(random_translate(x[:1], 0, torch.Generator()), x[:1])


def test_flip_mirrors_about_half_of_the_images_and_leaves_the_rest():
    x = images(1000)
    out = random_hflip(x, torch.Generator().manual_seed(0))
    flipped = (out != x).flatten(1).any(1)
    assert torch.equal(out[flipped], x[flipped].flip(3)) and torch.equal(out[~flipped], x[~flipped])
    assert 400 < flipped.sum() < 600


def test_erasing_blanks_one_rectangle_within_the_area_range_at_the_given_rate():
    x = torch.ones(2000, 1, 28, 28)
    out = random_erase(x, 0.5, torch.Generator().manual_seed(0))
    erased = (out == 0).flatten(1).sum(1).float()
    hit = erased > 0
    assert 900 < hit.sum() < 1100
    frac = erased[hit] / 784
    assert frac.min() >= 0.01 and frac.max() <= 0.4  # (0.02, 0.33) of the area, after rounding
    for img in out[hit][:50, 0] == 0:  # a solid rectangle: its bounding box is all zeros
        r, c = img.any(1).nonzero(), img.any(0).nonzero()
        assert img[r.min() : r.max() + 1, c.min() : c.max() + 1].all()
    assert torch.equal(random_erase(x, 0.0, torch.Generator()), x)


def test_augmentation_is_reproducible_from_the_generator_seed():
    a = augment(images(64), torch.Generator().manual_seed(5), 2, True, 0.5)
    b = augment(images(64), torch.Generator().manual_seed(5), 2, True, 0.5)
    c = augment(images(64), torch.Generator().manual_seed(6), 2, True, 0.5)
    assert torch.equal(a, b) and not torch.equal(a, c)


# ----------------------------------------------------------------------------- recipe


def recipe(**changes):
    return dataclasses.replace(small_params().cnn, **{"epochs": 2, "batch_size": 32, **changes})


SWITCHES = {
    "lenet_bn": {"arch": "lenet_bn"},
    "resnet": {"arch": "resnet", "width": 8},
    "vgg": {"arch": "vgg", "width": 8},
    "onecycle": {"schedule": "onecycle"},
    "cosine": {"schedule": "cosine"},
    "triangular": {"schedule": "triangular"},
    "sgd": {"optimizer": "sgd", "lr": 0.05},
    "nesterov": {"optimizer": "nesterov", "lr": 0.05},
    "muon": {"arch": "vgg", "width": 8, "optimizer": "muon", "muon_lr": 0.2, "momentum": 0.6},
    "weight_decay": {"weight_decay": 0.05},
    "label_smoothing": {"label_smoothing": 0.1},
    "crop_padding": {"crop_padding": 2},
    "hflip": {"hflip": True},
    "random_erasing": {"random_erasing": 0.5},
    "ema": {"ema": 0.9},
    "lookahead": {"lookahead": True},
    "bn_momentum": {"arch": "lenet_bn", "bn_momentum": 0.5},
    "bn_scale": {"arch": "lenet_bn", "bn_scale": False},
    "bn_bias_lr": {"arch": "lenet_bn", "bn_bias_lr": 10.0},
    "whiten": {"arch": "vgg", "width": 8, "whiten": True},
    "identity_init": {"arch": "vgg", "width": 8, "identity_init": True},
}
BASELINE = {"bn_momentum": {"arch": "lenet_bn"}, "bn_scale": {"arch": "lenet_bn"},
            "bn_bias_lr": {"arch": "lenet_bn"}, "whiten": {"arch": "vgg", "width": 8},
            "muon": {"arch": "vgg", "width": 8}, "identity_init": {"arch": "vgg", "width": 8}}  # fmt: skip


@pytest.mark.parametrize("name", SWITCHES)
def test_each_switch_trains_changes_the_result_and_reproduces(name):
    def weights(p):
        model, _ = training.train_network(tiny_split(96), EMPTY, p, 0, CPU)
        return torch.cat([t.flatten().float() for t in model.state_dict().values()])

    default = weights(recipe(**BASELINE.get(name, {})))
    switched = weights(recipe(**SWITCHES[name]))
    if default.shape == switched.shape:
        assert not torch.equal(default, switched), f"{name} had no effect"
    assert torch.equal(switched, weights(recipe(**SWITCHES[name])))


@pytest.mark.parametrize("schedule, peak_at", [("onecycle", 0.3), ("cosine", 0.0), ("triangular", 0.3)])
def test_schedules_peak_at_the_configured_lr_and_end_near_zero(schedule, peak_at):
    p = recipe(schedule=schedule, lr=0.01, epochs=10)
    run = training.start_run(p, 0, CPU, steps_per_epoch=10)
    lrs = []
    for _ in range(100):
        lrs.append(run.opt.param_groups[0]["lr"])
        run.opt.step()
        run.schedule.step()
    assert max(lrs) == pytest.approx(0.01)
    assert np.argmax(lrs) == pytest.approx(peak_at * 100, abs=1)
    assert lrs[-1] < 1e-4


def test_weight_decay_spares_biases_and_batchnorm():
    run = training.start_run(recipe(arch="lenet_bn", weight_decay=0.1), 0, CPU, steps_per_epoch=1)
    decayed, spared = run.opt.param_groups
    assert decayed["weight_decay"] == 0.1 and all(p.ndim > 1 for p in decayed["params"])
    assert spared["weight_decay"] == 0.0 and all(p.ndim == 1 for p in spared["params"])


def test_batchnorm_biases_can_take_a_higher_rate_and_scales_can_stay_fixed():
    run = training.start_run(recipe(arch="vgg", width=8, bn_bias_lr=4.0, bn_scale=False, lr=0.01),
                                 0, CPU, steps_per_epoch=1)  # fmt: skip
    bn = [m for m in run.model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(not m.weight.requires_grad for m in bn)
    fast = next(g for g in run.opt.param_groups if g["lr"] == pytest.approx(0.04))
    assert {id(p) for p in fast["params"]} == {id(m.bias) for m in bn}


def test_muon_steps_the_convolution_filters_in_place_and_adam_the_rest():
    p = recipe(arch="vgg", width=8, optimizer="muon", lr=0.01, muon_lr=0.2, momentum=0.6,
               weight_decay=0.05, schedule="onecycle", epochs=1)  # fmt: skip
    run = training.start_run(p, 0, CPU, steps_per_epoch=10)
    filters = [w for w in run.model.parameters() if w.ndim == 4]
    *adam, muon = run.opt.param_groups
    assert muon["momentum"] == 0.6 and len(muon["params"]) == len(filters)
    assert all(w.ndim < 4 for g in adam for w in g["params"]) and adam[0]["weight_decay"] == 0.05
    before = [w.detach().clone() for w in run.model.parameters()]
    run.model(torch.rand(4, 1, 28, 28).contiguous(memory_format=torch.channels_last)).sum().backward()
    run.opt.step()
    run.schedule.step()
    assert all(not torch.equal(b, w) for b, w in zip(before, run.model.parameters(), strict=True))
    assert muon["lr"] / adam[0]["lr"] == pytest.approx(0.2 / 0.01)  # one schedule scales both parts
    assert muon["lr"] > 0.2 / 25  # and it has stepped up from one-cycle's start (peak / 25)
    run.opt.zero_grad()
    assert all(w.grad is None for w in run.model.parameters())


def test_muon_refuses_filters_it_cannot_view_as_one_matrix():
    from fmnist.muon import filter_matrix

    with pytest.raises(ValueError, match="channels-last"):
        filter_matrix(torch.nn.Conv2d(4, 8, 3).weight)


def test_sgd_uses_nesterov_momentum_and_decays_only_weights():
    run = training.start_run(recipe(optimizer="nesterov", weight_decay=5e-4), 0, CPU, steps_per_epoch=1)
    assert isinstance(run.opt, torch.optim.SGD)
    decayed, spared = run.opt.param_groups
    assert decayed["nesterov"] and decayed["momentum"] == 0.9 and decayed["weight_decay"] == 5e-4
    assert spared["weight_decay"] == 0.0 and all(p.ndim == 1 for p in spared["params"])


def test_whitening_fixes_the_stem_to_decorrelated_unit_variance_filters():
    x = torch.from_numpy(tiny_split(200).x).unsqueeze(1)
    run = training.start_run(recipe(arch="vgg", width=24, whiten=True), 0, CPU, steps_per_epoch=1, train_x=x)
    conv = run.model.stem[0]
    assert not conv.weight.requires_grad
    assert all(conv.weight is not p for g in run.opt.param_groups for p in g["params"])
    patches = torch.nn.functional.unfold(x, 3).transpose(1, 2).reshape(-1, 9).double()
    whitened = patches @ conv.weight[:18:2].reshape(9, 9).double().T  # one of each ± pair
    cov = torch.cov(whitened.T)
    torch.testing.assert_close(cov, torch.diag(torch.diag(cov)), atol=1e-6, rtol=0)  # decorrelated
    assert torch.all(torch.diag(cov) < 1.0)  # unit variance, less the eps
    torch.testing.assert_close(conv.weight[18:], conv.weight[:6])  # 24 channels: the strongest repeat


def test_a_whitened_stem_is_computed_once_and_trains_as_the_images_would():
    p = recipe(arch="vgg", width=8, whiten=True, batch_size=16)
    x, y = images(64), torch.randint(0, 10, (64,))
    runs = [training.start_run(p, 0, CPU, steps_per_epoch=4, train_x=x) for _ in range(2)]
    pooled, forward = training.training_inputs(runs[1].model, p, x)
    assert pooled.shape == (64, 8, 14, 14) and forward == runs[1].model.from_pooled_stem
    training.train_epoch(runs[0], p, x, y, torch.arange(64))
    training.train_epoch(runs[1], p, pooled, y, torch.arange(64), forward=forward)
    for a, b in zip(runs[0].model.state_dict().values(), runs[1].model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_augmented_training_runs_the_stem_on_every_batch():
    p = recipe(arch="vgg", width=8, whiten=True, hflip=True)
    x = images(8)
    run = training.start_run(p, 0, CPU, steps_per_epoch=1, train_x=x)
    assert training.training_inputs(run.model, p, x) == (x, run.model)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("size", [28, 27])  # the images, and an odd size that pooling floors
def test_the_stem_pools_four_strided_convolutions_to_the_same_bits_as_pooling_one(dtype, size):
    x = images(16)[..., :size, :size].contiguous(memory_format=torch.channels_last)
    x[:, :, :3] = 0  # background: ties in every pooling window
    weight = torch.randn(24, 1, 3, 3, generator=torch.Generator().manual_seed(1)).to(memory_format=torch.channels_last)
    with torch.no_grad(), torch.autocast("cpu", torch.bfloat16, enabled=dtype == torch.bfloat16):
        pooled = F.max_pool2d(F.conv2d(x, weight, padding=1), 2)
        assert torch.equal(pooled_conv(x, weight), pooled)


def test_a_trainable_stem_pools_as_before_and_a_frozen_one_takes_the_strided_path():
    model, x = build_cnn(CNNSpec("vgg", 8, 1)), images(4)
    trainable = model.pooled_stem(x)
    assert trainable.grad_fn is not None and "MaxPool" in type(trainable.grad_fn).__name__
    model.stem[0].weight.requires_grad_(False)
    frozen = model.pooled_stem(x)
    assert frozen.grad_fn is None
    torch.testing.assert_close(frozen, trainable.detach(), rtol=0, atol=0)


@pytest.mark.parametrize("key", ["whiten", "identity_init"])
def test_a_vgg_only_switch_on_another_architecture_names_the_key(key):
    with pytest.raises(ParamsError, match=f"cnn.{key}: only the 'vgg' architecture has it, not 'lenet'"):
        training.start_run(recipe(**{key: True}), 0, CPU, steps_per_epoch=1, train_x=images(8))


def test_identity_init_makes_each_later_convolution_pass_its_input_channels_on():
    run = training.start_run(recipe(arch="vgg", width=8, identity_init=True), 0, CPU, steps_per_epoch=1)
    first, *later = [m for m in run.model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert not torch.equal(first.weight, torch.nn.init.dirac_(torch.empty_like(first.weight)))
    for conv in later:
        x = torch.rand(2, conv.in_channels, 7, 7)
        out = conv(x)
        torch.testing.assert_close(out[:, : conv.in_channels], x)
        assert out[:, conv.in_channels :].abs().sum() > 0  # the other filters keep their random start


def test_ema_saves_the_moving_average_of_the_weights_step_by_step():
    p = recipe(ema=0.5, batch_size=16)
    run = training.start_run(p, 0, CPU, steps_per_epoch=4)
    x, y = images(64), torch.randint(0, 10, (64,))
    seen = []  # the live weights after each of the 4 steps
    training.train_epoch(run, p, x, y, torch.arange(64), on_batch=lambda *_: seen.append(run.model.fc3.weight.clone()))
    expected = seen[0]  # the first update copies, each later one averages: 0.5 * average + 0.5 * weights
    for weights in seen[1:]:
        expected = 0.5 * expected + 0.5 * weights
    assert run.final_model is run.ema.module and len(seen) == 4
    torch.testing.assert_close(run.ema.module.fc3.weight, expected)
    assert not torch.allclose(expected, seen[-1])  # the average is not the last step's weights


def test_lookahead_pulls_the_weights_to_their_slow_average_every_fifth_step_harder_at_the_end():
    p = recipe(lookahead=True, batch_size=8)
    run = training.start_run(p, 0, CPU, steps_per_epoch=10)
    x, y = images(80), torch.randint(0, 10, (80,))
    start = run.model.fc3.weight.clone()
    live = []  # the weights each step leaves, after any pull
    training.train_epoch(run, p, x, y, torch.arange(80), on_batch=lambda *_: live.append(run.model.fc3.weight.clone()))
    assert run.lookahead.steps == 10 and p.epochs * 10 == run.lookahead.total
    assert training.Lookahead.PEAK == pytest.approx(0.95**5) and training.Lookahead.EVERY == 5
    torch.testing.assert_close(run.lookahead.slow["fc3.weight"], live[-1])  # the pull leaves both the same
    assert not torch.equal(live[3], live[4]) and not torch.equal(start, run.lookahead.slow["fc3.weight"])
    before = run.model.fc3.weight.clone()
    run.lookahead.pull(run.model, 1.0)  # how training ends: the network takes the slow weights
    torch.testing.assert_close(run.model.fc3.weight, run.lookahead.slow["fc3.weight"])
    torch.testing.assert_close(run.model.fc3.weight, before)


def test_shift_tta_averages_the_image_and_its_four_one_pixel_shifts():
    model = build_cnn(CNNSpec()).eval()
    x = images(6)
    pad = torch.nn.functional.pad(x, (1, 1, 1, 1))
    views = [x, pad[..., :-2, 1:-1], pad[..., 2:, 1:-1], pad[..., 1:-1, :-2], pad[..., 1:-1, 2:]]
    with torch.no_grad():
        expected = sum(model(v) for v in views) / 5
    torch.testing.assert_close(predict_logits(model, x, 4, tta_shift=1), expected)


def test_flip_tta_averages_the_logits_of_each_image_and_its_mirror():
    model = build_cnn(CNNSpec()).eval()
    x = images(10)
    with torch.no_grad():
        expected = (model(x) + model(x.flip(3))) / 2
    torch.testing.assert_close(predict_logits(model, x, 4, tta_flip=True), expected)


# ----------------------------------------------------------------------------- MLP


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_mlp_reports_every_iteration_without_changing_the_fit():
    split = tiny_split(300)
    p = dataclasses.replace(small_params().mlp, max_iter=4, hidden_layer_sizes=(16,))
    seen = []
    reported, _ = sklearn_mlp.fit_mlp(split.x, split.y, p, 0, on_iteration=lambda clf: seen.append(clf.loss_curve_[-1]))
    silent, _ = sklearn_mlp.fit_mlp(split.x, split.y, p, 0)
    assert seen == reported.loss_curve_ and len(seen) == 4
    for a, b in zip(reported.coefs_, silent.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_float32_adam_takes_sklearns_steps_with_every_operand_in_float32():
    rng = np.random.default_rng(0)
    shapes = [(64, 32), (32,)]
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    expected = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    adam = sklearn_mlp.Float32Adam(params, 1e-3)
    f32 = np.float32
    for t in range(1, 4):
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        adam.update_params(params, grads)
        rate = 1e-3 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)  # sklearn's bias-corrected rate
        for i, g in enumerate(grads):
            m[i] = f32(0.9) * m[i] + f32(1 - 0.9) * g
            v[i] = f32(0.999) * v[i] + f32(1 - 0.999) * g**2
            expected[i] += f32(-rate) * m[i] / (np.sqrt(v[i]) + f32(1e-8))
    for got, want in zip(params, expected, strict=True):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_mlp_fits_with_float32_adam_and_follows_sklearns_fit_to_rounding():
    split = tiny_split(300)
    p = dataclasses.replace(small_params().mlp, max_iter=4, hidden_layer_sizes=(16,))
    ours, _ = sklearn_mlp.fit_mlp(split.x, split.y, p, 0)
    plain = MLPClassifier(hidden_layer_sizes=(16,), max_iter=4, random_state=0, batch_size=200, alpha=1e-4).fit(
        sklearn_mlp.flatten(split.x), split.y
    )
    assert type(ours._optimizer) is sklearn_mlp.Float32Adam
    assert type(plain._optimizer) is not sklearn_mlp.Float32Adam
    np.testing.assert_allclose(ours.loss_curve_, plain.loss_curve_, rtol=1e-5)
    for a, b in zip(ours.coefs_, plain.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_mlp_early_stopping_uses_sklearns_validation_and_keeps_its_scores():
    split = tiny_split(300)
    p = dataclasses.replace(small_params().mlp, max_iter=5, hidden_layer_sizes=(16,), early_stopping=True,
                            validation_fraction=0.2)  # fmt: skip
    scores = []
    clf, _ = sklearn_mlp.fit_mlp(split.x, split.y, p, 0, on_iteration=lambda c: scores.append(c.validation_scores_[-1]))
    assert scores == clf.validation_scores_ and len(scores) == clf.n_iter_


# ----------------------------------------------------------------------------- the PyTorch MLP


def torch_mlp(hidden=(32, 16), **training_changes):
    """The mlp params with impl torch, and its training keys changed."""
    p = small_params(**{"mlp.impl": "torch"}).mlp
    return dataclasses.replace(p, hidden_layer_sizes=hidden, torch=dataclasses.replace(p.torch, **training_changes))


def test_the_pytorch_mlp_is_dense_layers_only_no_weight_shared_across_pixel_positions():
    model = training.mlp_network(torch_mlp(batch_norm=True))(CPU, None)
    kinds = {type(m).__name__ for m in model.modules()} - {"TorchMLP", "Sequential"}
    assert kinds == {"Flatten", "Linear", "BatchNorm1d", "ReLU", "Dropout"}
    assert [m.in_features for m in model.modules() if isinstance(m, torch.nn.Linear)] == [784, 32, 16]


@pytest.mark.parametrize("changes", [{}, {"batch_norm": True, "ema": 0.9}, {"batch_norm": True, "precision": "bf16"}])
def test_the_saved_arrays_predict_what_the_trained_network_predicts(changes):
    p = torch_mlp(epochs=2, **changes)
    model, _ = training.train_network(tiny_split(256), EMPTY, p.torch, 0, CPU, network=training.mlp_network(p))
    x = images(64)
    with torch.no_grad():
        expected = model.eval()(x).numpy()
    saved = mlp_weights(model)  # BatchNorm folded into the dense layers, dropout gone
    assert saved.activation == "relu" and len(saved.coefs) == 3
    np.testing.assert_allclose(mlp_logits(saved, x.reshape(64, -1).numpy()), expected, rtol=1e-5, atol=1e-5)


def test_the_pytorch_mlp_trains_with_the_cnns_loop_and_the_same_seed_gives_the_same_bytes():
    p = torch_mlp(epochs=2, batch_norm=True, crop_padding=2, schedule="onecycle", label_smoothing=0.1)
    train = lambda seed: training.train_network(tiny_split(256), EMPTY, p.torch, seed, CPU,  # noqa: E731
                                                network=training.mlp_network(p))[0]  # fmt: skip
    first, again, other = (mlp_weights(train(s)).tensors() for s in (0, 0, 1))
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["coef_0"], other["coef_0"])


def test_muon_steps_the_mlps_hidden_matrices_and_adam_its_output_layer_and_biases():
    p = torch_mlp(optimizer="muon", muon_lr=0.05, lr=0.01)
    run = training.start_run(p.torch, 0, CPU, steps_per_epoch=4, network=training.mlp_network(p))
    dense = [m for m in run.model.modules() if isinstance(m, torch.nn.Linear)]
    *adam, muon = run.opt.param_groups
    assert [w.shape for w in muon["params"]] == [(32, 784), (16, 32)]
    assert {id(w) for g in adam for w in g["params"]} == {id(w) for m in dense for w in m.parameters()} - {
        id(dense[0].weight), id(dense[1].weight)}  # fmt: skip
    before = [w.detach().clone() for w in run.model.parameters()]
    F.cross_entropy(run.model(images(8)), torch.arange(8)).backward()
    run.opt.step()
    assert all(not torch.equal(b, w) for b, w in zip(before, run.model.parameters(), strict=True))


def test_the_study_mlp_ignores_the_torch_keys_and_the_torch_one_names_its_own_device():
    p = small_params(**{"mlp.torch.epochs": 3, "mlp.torch.optimizer": "muon"}).mlp
    assert sklearn_mlp.sklearn_kwargs(p) == sklearn_mlp.sklearn_kwargs(small_params().mlp)
    if not torch.cuda.is_available():
        with pytest.raises(ParamsError, match=r"^mlp.torch.device: 'cuda' was asked for"):
            pick_device("cuda", "mlp.torch.device")
