"""The review page as Markdown: the same content as the HTML page, for a repository or a wiki.

Text from the ruleset is escaped (`md`) so that no markup or HTML in it takes effect; names and
codes are code spans; tables escape `|`.
"""

from __future__ import annotations

import re

from ..findings import Finding
from .model import RULES_LEGEND, CitationEntry, Page, RuleEntry

_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def md(text: object) -> str:
    """Text with Markdown's markup characters backslash-escaped and `<`, `>`, `&` as entities."""
    plain = " ".join(str(text).split())
    plain = plain.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", plain)


def code(text: object) -> str:
    """A code span (backticks inside become quotes)."""
    inner = " ".join(str(text).replace("`", "'").split())
    return f"`{inner}`"


def link(text: str, url: str | None) -> str:
    """A link when `url` is http(s), else the text alone."""
    if url and url.lower().startswith(("https://", "http://")):
        safe = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        return f"[{md(text)}](<{safe.replace('<', '%3C').replace('>', '%3E')}>)"
    return md(text)


def cite(entry: CitationEntry) -> str:
    return link(entry.title, entry.url) + (f", {md(entry.section)}" if entry.section else "")


def to_markdown(page: Page) -> str:
    """The whole page as one Markdown document."""
    out: list[str] = [f"# {md(page.title)}", "", md(page.description), ""]
    reviewers = ", ".join(md(r) for r in page.reviewers) or "**not yet reviewed**"
    out += [
        f"- Ruleset: {code(page.id)}",
        f"- Version: {md(page.version)}",
        f"- Status: {md(page.status)}",
        f"- Effective: {md(page.effective or 'no period set')}",
        f"- Authors: {md(', '.join(page.authors) or 'none named')}",
        f"- Reviewers: {reviewers}",
        f"- Content: {code(page.key)}",
        "",
    ]
    if page.scope:
        out += ["Applies only when:", ""]
        out += [f"{'    ' * line.depth}- {md(line.text)}" for line in page.scope]
        out.append("")
    out += [
        "## Levels, lowest first",
        "",
    ]
    for number, level in enumerate(page.levels, 1):
        out.append(f"{number}. **{md(level.title)}** ({code(level.id)}, {md(level.indicator)})")
        out += [f"    - proposes by default: {md(p)}" for p in level.proposals]
    out += ["", f"## Rules ({len(page.rules)})", "", md(RULES_LEGEND), ""]
    for entry in page.rules:
        out += rule(entry)
    out += concepts(page)
    out += value_sets(page)
    out += ["## Citations", ""]
    out += [f"- {code(c.id)} {cite(c)}" for c in page.citations] or ["None."]
    out += ["", "## Referrals, notes and red flags", "", "### Referrals by level", ""]
    out += [f"- {md(r)}" for r in page.referrals] or ["None."]
    out += ["", "### Card notes", ""]
    out += [f"- {code(i)} {md(t)}" for i, t in page.notes] or ["None."]
    out += ["", "### Red flags", ""]
    out += [f"- {code(i)} {md(t)}" for i, t in page.red_flags] or ["None."]
    out += ["", *scenarios(page), *findings(page.findings)]
    return "\n".join(out).rstrip("\n") + "\n"


def rule(entry: RuleEntry) -> list[str]:
    level = f" ({md(entry.level_title)})" if entry.level_title else ""
    where = f"{code(entry.id)}, line {entry.line}" if entry.line else code(entry.id)
    out = [f"### {md(entry.title)}{level}", "", where, ""]
    out += ["When:", ""]
    out += [f"{'    ' * line.depth}- {md(line.text)}" for line in entry.conditions]
    out += ["", f"Then it {md(entry.then)}.", ""]
    if entry.summary:
        out += [f"Card summary: {md(entry.summary)}", ""]
    if entry.detail:
        out += [f"Card detail: {md(entry.detail)}", ""]
    if entry.proposals:
        out += ["Proposes:", "", *(f"- {md(p)}" for p in entry.proposals), ""]
    if entry.advice:
        out += [*(f"- {md(a)}" for a in entry.advice), ""]
    if entry.citations:
        out += ["Cites:", "", *(f"- {cite(c)}" for c in entry.citations), ""]
    elif entry.level is not None:
        out += ["Cites no source.", ""]
    return out


def cell(text: str) -> str:
    return text.replace("\n", " ")


def concepts(page: Page) -> list[str]:
    out = ["## Concepts and codes", "", "| Concept | Kind | Unit systems | Codes |"]
    out.append("|---|---|---|---|")
    for concept in page.concepts:
        codes = "<br>".join(
            code(c.compact) + (f" {md(c.display)}" if c.display else "") for c in concept.codes
        )
        units = md(", ".join(concept.unit_systems) or "no unit")
        out.append(
            cell(
                f"| **{md(concept.label)}** {code(concept.name)} | {md(concept.kind)} | {units} "
                f"| {codes or 'none'} |"
            )
        )
    out += ["", "### Code systems", ""]
    out += [f"- {code(prefix or '(none)')}: {md(uri)}" for prefix, uri in page.code_systems]
    return [*out, ""]


def value_sets(page: Page) -> list[str]:
    out = ["## Value sets", ""]
    if not page.value_sets:
        return [*out, "None.", ""]
    for value_set in page.value_sets:
        out += [f"### {md(value_set.title)}", "", f"{code(value_set.file)} {md(value_set.url)}", ""]
        if value_set.problem:
            out += [md(value_set.problem), ""]
        out += ["| Code | Display | System |", "|---|---|---|"]
        out += [
            f"| {code(c.compact)} | {md(c.display or '')} | {md(c.system)} |"
            for c in value_set.codes
        ]
        out.append("")
    return out


def scenarios(page: Page) -> list[str]:
    out = ["## Scenarios", ""]
    if page.scenarios is None:
        return [*out, "Not run for this page.", ""]
    out += [f"{page.scenarios_passed} of {len(page.scenarios)} scenarios pass.", ""]
    out += ["| Result | Scenario | Expects | Got |", "|---|---|---|---|"]
    for row in page.scenarios:
        result = "pass" if row.passed else "**fail**"
        why = "".join(f"<br>{md(f)}" for f in row.failures)
        out.append(
            f"| {result} | {md(row.name)} {code(row.file)}{why} "
            f"| {md(row.expected or 'not stated')} | {md(row.got or 'not evaluated')} |"
        )
    return [*out, ""]


def findings(found: tuple[Finding, ...]) -> list[str]:
    out = ["## Lint findings", ""]
    return [*out, *(f"- {code(f)}" for f in found)] if found else [*out, "None."]
