"""`vigil docs`: load a ruleset, run its scenarios, and write its review page as
DIR/index.html and DIR/index.md.

Raises `engine.RulesetError` for a ruleset that does not load and `OSError` for a folder
that cannot be written; a scenario file that cannot be read is a failed row of the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine import Ruleset, load_ruleset

from ..findings import Finding
from ..lint import lint
from ..source import load_with_source, ruleset_folder
from .html import to_html
from .markdown import to_markdown
from .model import Page, build_page
from .scenarios import folder_scenarios
from .sources import read_raw


def page_for(
    ruleset: Ruleset,
    folder: Path | None,
    findings: Sequence[Finding] = (),
) -> Page:
    """The review page of a loaded ruleset; its scenarios are run when `folder` is given."""
    rows = None if folder is None else folder_scenarios(ruleset, folder)
    return build_page(ruleset, scenarios=rows, findings=findings, raw=read_raw(ruleset.source))


def write_docs(
    ref: str | Path,
    out: Path,
    *,
    findings: Sequence[Finding] | None = None,
    run_scenarios: bool = True,
) -> tuple[Page, list[Path]]:
    """Write the review page of the ruleset `ref` into the folder `out` (created if needed):
    the page and the paths written, HTML first. `findings` default to the ruleset's lint
    warnings and answers."""
    if findings is None:
        ruleset, source = load_with_source(ref)
        findings = lint(ruleset, source)
    else:
        ruleset = load_ruleset(ref)
    page = page_for(ruleset, ruleset_folder(ref) if run_scenarios else None, findings)
    out.mkdir(parents=True, exist_ok=True)
    html, markdown = out / "index.html", out / "index.md"
    html.write_text(to_html(page), encoding="utf-8")
    markdown.write_text(to_markdown(page), encoding="utf-8")
    return page, [html, markdown]
