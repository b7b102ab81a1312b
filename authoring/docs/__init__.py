"""The review page of a ruleset (`vigil docs`), for colleagues who do not read YAML.

`build_page` gathers the page once (`model`); `to_html` and `to_markdown` render it;
`write_docs` does both for a ruleset reference and writes DIR/index.html and DIR/index.md.
"""

from .html import to_html
from .markdown import to_markdown
from .model import Page, build_page
from .scenarios import ScenarioRow, run_scenarios
from .write import page_for, write_docs

__all__ = [
    "Page",
    "ScenarioRow",
    "build_page",
    "page_for",
    "run_scenarios",
    "to_html",
    "to_markdown",
    "write_docs",
]
