"""The README's generated blocks are the committed metrics and sweep, not typed numbers."""

from fmnist.readme import END, START, render, render_all

from conftest import REPO


def test_readme_results_match_the_committed_metrics_and_sweep():
    readme = (REPO / "README.md").read_text()
    assert render_all(readme, REPO) == readme, "run `fmnist-readme` and commit README.md"


def test_render_replaces_only_the_marked_block():
    text = f"intro\n{START}\nold\n{END}\noutro\n"
    assert render(text, "new") == f"intro\n{START}\nnew\n{END}\noutro\n"
