"""Every timing names its machine: the CPU and the instruction sets that decide the kernels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmnist.inference import cpu_runs_bf16_natively, resolve_precision
from fmnist.machine import caption, cpuinfo, describe, family
from fmnist.prepared import Split
from fmnist.training import train_network

from conftest import small_params

CPU, CUDA = torch.device("cpu"), torch.device("cuda")

ZEN4 = """processor	: 0
vendor_id	: AuthenticAMD
cpu family	: 25
model name	: AMD EPYC 9R14
flags		: fpu sse2 avx2 avx512f avx512_bf16 avx512vl

processor	: 1
vendor_id	: AuthenticAMD
cpu family	: 25
model name	: AMD EPYC 9R14
flags		: fpu sse2 avx2 avx512f avx512_bf16 avx512vl
"""


def test_the_cpu_and_its_flags_come_from_cpuinfo(tmp_path):
    (tmp_path / "cpuinfo").write_text(ZEN4)
    info = cpuinfo(tmp_path / "cpuinfo")
    flags = set(info["flags"].split())
    assert info["model name"] == "AMD EPYC 9R14" and {"avx2", "avx512_bf16"} <= flags and "amx_tile" not in flags
    assert (info["vendor_id"], info["cpu family"]) == ("AuthenticAMD", "25")


def test_the_caption_names_the_isa_that_matters_for_bfloat16(tmp_path):
    (tmp_path / "cpuinfo").write_text(ZEN4)
    d = describe(tmp_path / "cpuinfo")
    assert (d["amx"], d["avx512_bf16"], d["avx512"], d["avx2"]) == (False, True, True, True)
    assert caption(d).startswith("AMD EPYC 9R14 (AVX-512 BF16, AVX-512, AVX2; no AMX), ")
    zen3 = d | {"avx512_bf16": False, "avx512": False}
    assert caption(zen3).startswith("AMD EPYC 9R14 (AVX2; no AVX-512, AVX-512 BF16, AMX), ")
    assert f"torch {d['torch']}" in caption(d)
    assert family(d) == "EPYC Zen 4" and family(zen3) == "EPYC Zen 3"


def test_a_machine_without_cpuinfo_is_still_named(tmp_path):
    info = cpuinfo(tmp_path / "absent")
    assert info["model name"] and info["flags"] == ""


@pytest.mark.parametrize(("amx", "avx512_bf16", "chosen"),
                         [(True, False, "bf16"), (False, True, "bf16"), (False, False, "fp32")])  # fmt: skip
def test_auto_precision_is_bf16_only_on_cpus_with_bf16_instructions(monkeypatch, amx, avx512_bf16, chosen):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    assert resolve_precision(CPU, "auto") == chosen
    assert resolve_precision(CPU, "fp32") == "fp32" and resolve_precision(CPU, "bf16") == "bf16"


@pytest.mark.parametrize(("supported", "chosen"), [(True, "bf16"), (False, "fp32")])
def test_auto_precision_on_cuda_follows_the_device(monkeypatch, supported, chosen):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: supported)
    assert resolve_precision(CUDA, "auto") == chosen


def test_auto_precision_trains_exactly_as_the_precision_it_resolves_to_on_this_cpu():
    rng = np.random.default_rng(0)
    split = Split(rng.random((128, 28, 28), dtype=np.float32), rng.integers(0, 10, 128))
    empty = Split(np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64))

    def weights(precision: str) -> list[torch.Tensor]:
        p = small_params(**{"cnn.precision": precision, "cnn.batch_size": 32}).cnn
        model, _ = train_network(split, empty, p, 0, CPU)
        return [t.detach().clone() for t in model.state_dict().values()]

    resolved = "bf16" if cpu_runs_bf16_natively() else "fp32"
    assert all(torch.equal(a, b) for a, b in zip(weights("auto"), weights(resolved), strict=True))
