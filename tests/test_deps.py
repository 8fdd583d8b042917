"""dvc.yaml's deps are what each stage's code imports, derived from the source: a change to a
module reruns exactly the stages that import it, and no stage imports another."""

from __future__ import annotations

import ast
import copy
import functools
from pathlib import Path

import pytest
import yaml

from conftest import REPO

SRC = REPO / "src"
# Modules that cannot change a result, left out of every stage's deps: editing them reruns
# nothing. They may import only each other, so nothing that decides a result hides behind them.
PLUMBING = {
    "fmnist": "package marker",
    "fmnist.stages": "package marker",
    "fmnist.errors": "error types",
    "fmnist.io": "atomic writes",
    "fmnist.params": "reads and validates params.yaml; DVC tracks the values themselves",
    "fmnist.paths": "file names, which dvc.yaml declares too",
    "fmnist.runner": "starts a stage and turns its errors into an exit status",
    "fmnist.allocator": "glibc allocator tuning: speed only",
    "fmnist.tracking": "DVCLive's settings",
}


def module_file(name: str) -> Path:
    path = SRC.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def is_module(name: str) -> bool:
    return module_file(name).is_file()


def run_time_nodes(tree: ast.AST):
    """Every node Python runs: an `if TYPE_CHECKING:` block only informs the type checker."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            continue
        yield node
        yield from run_time_nodes(node)


@functools.cache
def imports_of(name: str) -> frozenset[str]:
    """The package modules a module imports, and the packages those sit in (Python runs them)."""
    found = set()
    for node in run_time_nodes(ast.parse(module_file(name).read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "fmnist"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "fmnist":
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if is_module(f"{node.module}.{a.name}")}
    parents = {".".join(m.split(".")[:i]) for m in found for i in range(1, m.count(".") + 1)}
    return frozenset(found | parents)


def closure(name: str) -> set[str]:
    """Every package module ``name`` runs, itself included."""
    seen, todo = set(), [name]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += imports_of(module)
    return seen


def src_path(name: str) -> str:
    return str(module_file(name).relative_to(REPO))


def stages(dvc_yaml: dict) -> dict[str, dict]:
    return {name: s for name, s in dvc_yaml["stages"].items() if s["cmd"].startswith("python -m ")}


def dep_problems(dvc_yaml: dict) -> list[str]:
    """What dvc.yaml gets wrong: a module a stage runs but does not depend on, or the reverse."""
    problems = []
    for name, stage in stages(dvc_yaml).items():
        module = stage["cmd"].removeprefix("python -m ").split()[0]
        needed = {src_path(m) for m in closure(module) if m not in PLUMBING}
        declared = {d for d in stage["deps"] if d.startswith("src/")}
        problems += [f"{name}: imports {p}, not in its deps" for p in sorted(needed - declared)]
        problems += [f"{name}: lists {p}, which it does not import" for p in sorted(declared - needed)]
    return problems


@pytest.fixture(scope="module")
def dvc_yaml() -> dict:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())


def test_each_stage_depends_on_exactly_the_modules_it_imports(dvc_yaml):
    assert dep_problems(dvc_yaml) == []


def test_removing_any_module_dep_is_caught(dvc_yaml):
    for name, stage in stages(dvc_yaml).items():
        for dep in [d for d in stage["deps"] if d.startswith("src/")]:
            broken = copy.deepcopy(dvc_yaml)
            broken["stages"][name]["deps"].remove(dep)
            assert f"{name}: imports {dep}, not in its deps" in dep_problems(broken)


def test_no_stage_imports_another_stage(dvc_yaml):
    for name, stage in stages(dvc_yaml).items():
        module = stage["cmd"].removeprefix("python -m ").split()[0]
        others = {m for m in closure(module) if m.startswith("fmnist.stages.") and m != module}
        assert not others, f"{name} imports {others}"


def test_every_stage_module_is_a_pipeline_stage(dvc_yaml):
    commands = {s["cmd"] for s in stages(dvc_yaml).values()}
    for path in (SRC / "fmnist" / "stages").glob("[!_]*.py"):
        assert f"python -m fmnist.stages.{path.stem}" in commands, f"{path.name} is no dvc.yaml stage"


def test_plumbing_imports_only_plumbing():
    for name in PLUMBING:
        assert imports_of(name) <= set(PLUMBING), f"{name} imports {imports_of(name) - set(PLUMBING)}"


def test_the_library_never_imports_the_tools_or_the_stages():
    library = [p for p in (SRC / "fmnist").glob("*.py")]
    for path in library:
        name = "fmnist" if path.stem == "__init__" else f"fmnist.{path.stem}"
        bad = {m for m in imports_of(name) if m.startswith(("fmnist.tools", "fmnist.stages"))}
        assert not bad, f"{name} imports {bad}"


def test_no_module_imports_itself_through_others():
    """No import circle: each module can be read, and changed, before the ones that use it."""
    modules = [
        ".".join(p.relative_to(REPO / "src").with_suffix("").parts) for p in (REPO / "src" / "fmnist").rglob("*.py")
    ]
    modules = [m.removesuffix(".__init__") for m in modules]
    for module in modules:
        others = {m for m in closure(module) - {module} if not module.startswith(m + ".")}  # a package runs its parents
        assert not any(module in closure(m) for m in others if not m.startswith(module + ".")), (
            f"{module} imports itself through {sorted(m for m in others if module in closure(m))}"
        )
