"""The commands a page tells its reader to type, taken from the page itself, so that a test
runs exactly what the page says."""

from __future__ import annotations

import re
from pathlib import Path


def section(page: Path, heading: str) -> str:
    """The text under ``heading`` (a markdown heading line), up to the next heading of any level."""
    text = page.read_text()
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    following = re.search(r"^#{1,6} ", text[start:], re.M)
    return text[start : start + following.start()] if following else text[start:]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)


def commands(page: Path, heading: str, language: str = "bash") -> list[str]:
    """Each command line of the section's code blocks, without its trailing comment."""
    lines = [line for block in code_blocks(section(page, heading), language) for line in block.splitlines()]
    return [
        re.sub(r"\s+#\s.*$", "", line).strip() for line in lines if line.strip() and not line.lstrip().startswith("#")
    ]
