"""The README's results table is the committed metrics, not typed numbers."""

from fmnist.readme import END, START, current_table, render

from conftest import REPO


def test_readme_results_match_the_committed_metrics():
    readme = (REPO / "README.md").read_text()
    assert render(readme, current_table(REPO)) == readme, "run `fmnist-readme` and commit README.md"


def test_render_replaces_only_the_marked_block():
    text = f"intro\n{START}\nold\n{END}\noutro\n"
    assert render(text, "new") == f"intro\n{START}\nnew\n{END}\noutro\n"
