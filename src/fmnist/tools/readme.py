"""Regenerate the generated blocks of the project's pages (`fmnist pages`).

No number in those pages is typed: each block between two markers is rewritten from
``metrics/`` or ``reports/``, and a test fails when a page and its sources disagree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from fmnist.io import write_text
from fmnist.tools import model_card, structure
from fmnist.tools.results import load_results, markdown


def markers(block: str, comment: str = "html") -> tuple[str, str]:
    if comment == "yaml":
        return f"# {block}:start", f"# {block}:end"
    return f"<!-- {block}:start -->", f"<!-- {block}:end -->"


def render(text: str, content: str, block: str, comment: str = "html", where: str = "README.md") -> str:
    start, end = markers(block, comment)
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{where}: markers {start} ... {end} not found")
    return pattern.sub(lambda _: f"{start}\n{content}\n{end}", text)


def _report(name: str) -> Callable[[Path], str]:
    return lambda root: (root / "reports" / name).read_text().rstrip("\n")


def _first_table(name: str) -> Callable[[Path], str]:
    """The report's first markdown table, without what follows it."""
    return lambda root: (root / "reports" / name).read_text().split("\n\n")[0].rstrip("\n")


def export_check(root: Path) -> str:
    check = json.loads((root / "metrics" / "export.json").read_text())
    rows = ["| model | test images | same class | largest logit difference | ONNX file |",
            "|---|---:|---:|---:|---:|"]  # fmt: skip
    for model in ("cnn", "mlp"):
        c = check[model]
        rows.append(f"| {model.upper()} | {c['images']:,} | {c['same_class']:,} | "
                    f"{c['max_abs_logit_difference']:.2g} | {c['onnx_bytes'] / 1e6:.2f} MB |")  # fmt: skip
    return "\n".join(rows + ["", f"The committed run (`metrics/export.json`): ONNX Runtime {check['onnxruntime']}, "
                             f"torch {check['torch']}, opset {check['opset']}."])  # fmt: skip


# page -> block -> (comment style, what fills it, read from the repository root)
PAGES: dict[str, dict[str, tuple[str, Callable[[Path], str]]]] = {
    "README.md": {
        "results": ("html", lambda root: markdown(load_results(root))),
        "speedrun": ("html", _first_table("speedrun.md")),
        "structure": ("html", structure.front_page),
    },
    "reports/structure.md": {
        "structure": ("html", structure.body),
    },
    "docs/models.md": {
        "export": ("html", export_check),
        "latency": ("html", lambda root: (root / "benchmarks" / "results" / "predict_latency.md").read_text().rstrip("\n")),
    },
    "reports/README.md": {
        "speedrun": ("html", _report("speedrun.md")),
        "trials": ("html", _report("speedrun_trials.md")),
        "seeds": ("html", _report("seed_sweep.md")),
        "recipes": ("html", _report("recipes.md")),
        "ablation": ("html", _report("ablation.md")),
        "ablation_control": ("html", _report("ablation_control.md")),
    },
    "MODEL_CARD.md": {
        "model-index": ("yaml", lambda root: model_card.model_index(load_results(root))),
        "card-results": ("html", lambda root: model_card.results_section(load_results(root))),
    },
}


def render_page(page: str, text: str, root: Path = Path(".")) -> str:
    for block, (comment, fill) in PAGES[page].items():
        text = render(text, fill(root), block, comment, page)
    return text


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="fmnist pages", description="rewrite the generated blocks of "
                                     + ", ".join(PAGES) + " from metrics/ and reports/ (the workspace's)")  # fmt: skip
    parser.parse_args(argv)
    for page in PAGES:
        write_text(page, render_page(page, Path(page).read_text()))
        print(f"{page}: generated blocks rewritten")


if __name__ == "__main__":
    main()
