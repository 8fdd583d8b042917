"""Every timing names its machine: the CPU and the instruction sets that decide the kernels."""

from __future__ import annotations

from fmnist.machine import caption, cpuinfo, describe

ZEN4 = """processor	: 0
model name	: AMD EPYC 9R14
flags		: fpu sse2 avx2 avx512f avx512_bf16 avx512vl
processor	: 1
model name	: AMD EPYC 9R14
flags		: fpu sse2 avx2 avx512f avx512_bf16 avx512vl
"""


def test_the_cpu_and_its_flags_come_from_cpuinfo(tmp_path):
    (tmp_path / "cpuinfo").write_text(ZEN4)
    model, flags = cpuinfo(tmp_path / "cpuinfo")
    assert model == "AMD EPYC 9R14" and {"avx2", "avx512_bf16"} <= flags and "amx_tile" not in flags


def test_the_caption_names_the_isa_that_matters_for_bfloat16(tmp_path):
    (tmp_path / "cpuinfo").write_text(ZEN4)
    d = describe(tmp_path / "cpuinfo")
    assert (d["amx"], d["avx512_bf16"], d["avx512"], d["avx2"]) == (False, True, True, True)
    assert caption(d).startswith("AMD EPYC 9R14 (AVX-512 BF16, AVX-512, AVX2; no AMX), ")
    zen3 = d | {"avx512_bf16": False, "avx512": False}
    assert caption(zen3).startswith("AMD EPYC 9R14 (AVX2; no AVX-512, AVX-512 BF16, AMX), ")
    assert f"torch {d['torch']}" in caption(d)


def test_a_machine_without_cpuinfo_is_still_named(tmp_path):
    model, flags = cpuinfo(tmp_path / "absent")
    assert model and flags == set()
