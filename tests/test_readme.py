"""Generated pages: README.md, reports/README.md and MODEL_CARD.md say what metrics/ and
reports/ hold, never typed numbers; and the README stays a front page."""

import re

import pytest

from fmnist.tools.readme import PAGES, render, render_page

from conftest import REPO


@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_generated_page_matches_the_committed_metrics_and_reports(page):
    text = (REPO / page).read_text()
    assert render_page(page, text, REPO) == text, f"run `fmnist-readme` and commit {page}"


def test_render_replaces_only_the_marked_block():
    text = "intro\n<!-- results:start -->\nold\n<!-- results:end -->\noutro\n"
    assert render(text, "new", "results") == "intro\n<!-- results:start -->\nnew\n<!-- results:end -->\noutro\n"


def test_the_readme_is_a_front_page_a_clone_can_resolve():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 220
    assert not re.search(r"\bissue \d+|#\d{1,3}\b", text), "issue numbers mean nothing to a reader"
    for link in re.findall(r"\]\(([^)#:]+)\)", text):
        assert (REPO / link).exists(), f"README links to {link}, which a clone does not have"
