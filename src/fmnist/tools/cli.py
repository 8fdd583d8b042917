"""`fmnist`: the project's commands as verbs of one, as `dvc`, `gto` and `git` have them.

    fmnist --help                  # every verb with a line
    fmnist results                 # then `fmnist VERB --help` for a verb's options

A verb's module is imported only when it runs, so `fmnist predict` works in the base
install (NumPy, Pillow, safetensors, optionally ONNX Runtime) without DVC or torch.
"""

from __future__ import annotations

import difflib
import importlib
import sys

# verb -> (module whose main(argv) runs it, what it does)
VERBS = {
    "results": ("fmnist.tools.results", "this run against the study: both models, the gap, seconds"),
    "exps": ("fmnist.tools.exps", "every experiment side by side: its changes, both models, the gap"),
    "summary": ("fmnist.tools.summary", "mean ± std over seeds, one group per set of params and CPU family"),
    "compare": ("fmnist.tools.compare", "two revisions compared, as markdown (the pull-request report)"),
    "recipe": ("fmnist.tools.recipe", "named recipes: list, show, run by seed (recorded), collect, table"),
    "structure": ("fmnist.tools.structure", "why the CNN wins: collect the paired permutation tests"),
    "pages": ("fmnist.tools.pages", "rewrite every generated block, table and figure from the record and metrics/"),
    "restore": ("fmnist.tools.restore", "put back params.yaml and the outputs after a failed `dvc exp run`"),
    "predict": ("fmnist.tools.predict", "classify your own images with either model"),
}


def usage() -> str:
    width = max(map(len, VERBS))
    lines = ["usage: fmnist VERB [options]   (fmnist VERB --help for a verb's options)", "",
             "MLP against CNN on Fashion-MNIST, tracked with DVC. Verbs:"]  # fmt: skip
    return "\n".join(lines + [f"  {verb:<{width}}  {line}" for verb, (_, line) in VERBS.items()])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        sys.exit(0 if argv else 2)
    verb, rest = argv[0], argv[1:]
    if verb not in VERBS:
        near = difflib.get_close_matches(verb, list(VERBS), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise SystemExit(f"fmnist: no verb '{verb}'{hint}; `fmnist --help` lists them")
    importlib.import_module(VERBS[verb][0]).main(rest)


if __name__ == "__main__":
    main()
