"""The review page as one self-contained HTML file: inline CSS, no script, nothing fetched.

Every text from the ruleset goes through `esc` (HTML-escaped, quotes too); a link is made only
of an http(s) URL. A Content-Security-Policy forbids the page any request, and the layout
reads on a 390-pixel-wide phone (tables scroll sideways inside their own box).
"""

from __future__ import annotations

from html import escape

from ..findings import Finding
from ..wording import Line
from .model import RULES_LEGEND, CitationEntry, Page, RuleEntry
from .scenarios import ScenarioRow

STYLE = """
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;
background:#fff}
main{max-width:60rem;margin:0 auto;padding:1rem;overflow-wrap:break-word}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0}
h2{font-size:1.25rem;border-bottom:2px solid #d0d7de;padding-bottom:.25rem;margin-top:2rem}
h3{font-size:1.05rem;margin:0 0 .25rem}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f2f4f7;
padding:0 .2em;border-radius:3px;overflow-wrap:anywhere}
a{color:#0550ae;overflow-wrap:anywhere}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dl.meta dt{font-weight:600}
dl.meta dd{margin:0;overflow-wrap:anywhere}
.rule{border:1px solid #d0d7de;border-radius:6px;padding:.75rem;margin:.75rem 0}
.rule ul{margin:.25rem 0;padding-left:1.25rem}
.badge{display:inline-block;border-radius:1em;padding:0 .6em;font-size:.85em;
background:#eaeef2;white-space:nowrap}
.critical{background:#ffd8d3}.warning{background:#fff1c2}.info{background:#ddf4ff}
.pass{color:#116329;font-weight:600}.fail{color:#a40e26;font-weight:600}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.95em}
th,td{border:1px solid #d0d7de;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.notreviewed{color:#a40e26;font-weight:600}
.finding{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;
overflow-wrap:anywhere}
nav ul{padding-left:1.25rem}
@media (max-width:480px){main{padding:.6rem}dl.meta{grid-template-columns:1fr}
dl.meta dd{margin-bottom:.4rem}
table,tbody,tr,td{display:block;width:100%}thead{display:none}
tr{border:1px solid #d0d7de;border-radius:6px;margin:.5rem 0}td{border:0}
td{padding:.1rem .45rem}td::before{content:attr(data-label) ": ";color:#57606a}}
"""
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def esc(text: object) -> str:
    """Text for HTML: `<`, `>`, `&` and both quotes escaped."""
    return escape(str(text), quote=True)


def link(text: str, url: str | None) -> str:
    """A link when `url` is http(s), else the text alone: no other scheme becomes a link."""
    if url and url.lower().startswith(("https://", "http://")):
        return f'<a href="{esc(url)}">{esc(text)}</a>'
    return esc(text)


def to_html(page: Page) -> str:
    """The whole page as one HTML document."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(POLICY)}">',
        f"<title>{esc(page.title)} {esc(page.version)}: review</title>",
        f"<style>{STYLE}</style></head><body><main>",
        f"<h1>{esc(page.title)}</h1>",
        metadata(page),
        contents(page),
        levels(page),
        rules(page),
        concepts(page),
        value_sets(page),
        citations(page),
        extras(page),
        scenarios(page),
        findings(page.findings),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def metadata(page: Page) -> str:
    reviewers = (
        esc(", ".join(page.reviewers))
        if page.reviewers
        else '<span class="notreviewed">not yet reviewed</span>'
    )
    rows = [
        ("Ruleset", f"<code>{esc(page.id)}</code>"),
        ("Version", esc(page.version)),
        ("Status", esc(page.status)),
        ("Effective", esc(page.effective or "no period set")),
        ("Authors", esc(", ".join(page.authors) or "none named")),
        ("Reviewers", reviewers),
        ("Content", f"<code>{esc(page.key)}</code>"),
    ]
    items = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    scope = f"<p>Applies only when:</p>{nested(page.scope)}" if page.scope else ""
    return f'<p>{esc(page.description)}</p><dl class="meta">{items}</dl>{scope}'


def contents(page: Page) -> str:
    sections = [
        ("levels", "Levels"),
        ("rules", f"Rules ({len(page.rules)})"),
        ("concepts", "Concepts and codes"),
        ("value-sets", "Value sets"),
        ("citations", "Citations"),
        ("more", "Referrals, notes and red flags"),
        ("scenarios", "Scenarios"),
        ("findings", "Lint findings"),
    ]
    items = "".join(f'<li><a href="#{key}">{esc(title)}</a></li>' for key, title in sections)
    return f"<nav><ul>{items}</ul></nav>"


def levels(page: Page) -> str:
    items = []
    for level in page.levels:
        proposals = "".join(f"<li>{esc(p)}</li>" for p in level.proposals)
        items.append(
            f'<li><span class="badge {esc(level.indicator)}">{esc(level.indicator)}</span> '
            f"<strong>{esc(level.title)}</strong> (<code>{esc(level.id)}</code>)"
            + (f"<br>Proposes by default:<ul>{proposals}</ul>" if proposals else "")
            + "</li>"
        )
    return f'<h2 id="levels">Levels, lowest first</h2><ol>{"".join(items) or "<li>none</li>"}</ol>'


def nested(lines: tuple[Line, ...]) -> str:
    """Lines with depths as nested lists."""
    out: list[str] = ["<ul>"]
    depth = 0
    for line in lines:
        while depth < line.depth:
            out.append("<ul>")
            depth += 1
        while depth > line.depth:
            out.append("</ul>")
            depth -= 1
        out.append(f"<li>{esc(line.text)}</li>")
    out.extend("</ul>" for _ in range(depth + 1))
    return "".join(out)


def cited(entries: tuple[CitationEntry, ...]) -> str:
    items = "".join(
        f"<li>{link(c.title, c.url)}{esc(', ' + c.section) if c.section else ''}</li>"
        for c in entries
    )
    return f"<p>Cites:</p><ul>{items}</ul>" if items else "<p>Cites no source.</p>"


def rule(entry: RuleEntry, indicators: dict[str, str]) -> str:
    badge = ""
    if entry.level is not None:
        indicator = indicators.get(entry.level, "")
        badge = f' <span class="badge {esc(indicator)}">{esc(entry.level_title)}</span>'
    parts = [
        f'<section class="rule" id="rule-{esc(entry.id)}">',
        f"<h3>{esc(entry.title)}{badge}</h3>",
        f"<p><code>{esc(entry.id)}</code>"
        + (f", line {entry.line}" if entry.line else "")
        + "</p>",
        f"<p>When:</p>{nested(entry.conditions)}",
        f"<p>Then it {esc(entry.then)}.</p>",
    ]
    if entry.summary:
        parts.append(f"<p>Card summary: {esc(entry.summary)}</p>")
    if entry.detail:
        parts.append(f"<p>Card detail: {esc(entry.detail)}</p>")
    if entry.proposals:
        items = "".join(f"<li>{esc(p)}</li>" for p in entry.proposals)
        parts.append(f"<p>Proposes:</p><ul>{items}</ul>")
    if entry.advice:
        parts.append(f"<ul>{''.join(f'<li>{esc(a)}</li>' for a in entry.advice)}</ul>")
    if entry.level is not None or entry.citations:
        parts.append(cited(entry.citations))
    parts.append("</section>")
    return "".join(parts)


def rules(page: Page) -> str:
    indicators = {level.id: level.indicator for level in page.levels}
    body = "".join(rule(entry, indicators) for entry in page.rules)
    return f'<h2 id="rules">Rules ({len(page.rules)})</h2><p>{esc(RULES_LEGEND)}</p>{body}'


def table(head: tuple[str, ...], rows: list[list[str]]) -> str:
    """A table of already escaped cells; on a narrow screen each row is a block of labelled
    lines, and anything still too wide scrolls sideways inside the table's own box."""
    cells = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(f'<td data-label="{esc(h)}">{c}</td>' for h, c in zip(head, row, strict=True))
        + "</tr>"
        for row in rows
    )
    head_row = f"<thead><tr>{cells}</tr></thead>"
    return f'<div class="scroll"><table>{head_row}<tbody>{body}</tbody></table></div>'


def concepts(page: Page) -> str:
    rows = []
    for concept in page.concepts:
        codes = "<br>".join(
            f"<code>{esc(c.compact)}</code>" + (f" {esc(c.display)}" if c.display else "")
            for c in concept.codes
        )
        rows.append(
            [
                f"<strong>{esc(concept.label)}</strong><br><code>{esc(concept.name)}</code>",
                esc(concept.kind),
                esc(", ".join(concept.unit_systems) or "no unit"),
                codes or "none",
            ]
        )
    systems = "".join(
        f"<li><code>{esc(prefix or '(none)')}</code>: {esc(uri)}</li>"
        for prefix, uri in page.code_systems
    )
    return (
        '<h2 id="concepts">Concepts and codes</h2>'
        + table(("Concept", "Kind", "Unit systems", "Codes"), rows)
        + f"<h3>Code systems</h3><ul>{systems}</ul>"
    )


def value_sets(page: Page) -> str:
    if not page.value_sets:
        return '<h2 id="value-sets">Value sets</h2><p>None.</p>'
    parts = ['<h2 id="value-sets">Value sets</h2>']
    for value_set in page.value_sets:
        parts.append(
            f"<h3>{esc(value_set.title)}</h3><p><code>{esc(value_set.file)}</code> "
            f"{esc(value_set.url)}</p>"
        )
        if value_set.problem:
            parts.append(f'<p class="fail">{esc(value_set.problem)}</p>')
        rows = [
            [f"<code>{esc(c.compact)}</code>", esc(c.display or ""), esc(c.system)]
            for c in value_set.codes
        ]
        parts.append(table(("Code", "Display", "System"), rows))
    return "".join(parts)


def citations(page: Page) -> str:
    items = "".join(
        f"<li><code>{esc(c.id)}</code> {link(c.title, c.url)}"
        f"{esc(', ' + c.section) if c.section else ''}</li>"
        for c in page.citations
    )
    return f'<h2 id="citations">Citations</h2><ul>{items or "<li>none</li>"}</ul>'


def extras(page: Page) -> str:
    parts = ['<h2 id="more">Referrals, notes and red flags</h2>']
    listed = [
        ("Referrals by level", [esc(r) for r in page.referrals]),
        ("Card notes", [f"<code>{esc(i)}</code> {esc(t)}" for i, t in page.notes]),
        ("Red flags", [f"<code>{esc(i)}</code> {esc(t)}" for i, t in page.red_flags]),
    ]
    for title, items in listed:
        body = "".join(f"<li>{item}</li>" for item in items) or "<li>none</li>"
        parts.append(f"<h3>{esc(title)}</h3><ul>{body}</ul>")
    return "".join(parts)


def scenario_cells(row: ScenarioRow) -> list[str]:
    result = '<span class="pass">pass</span>' if row.passed else '<span class="fail">fail</span>'
    why = "".join(f"<br>{esc(f)}" for f in row.failures)
    return [
        result,
        f"{esc(row.name)}<br><code>{esc(row.file)}</code>{why}",
        esc(row.expected or "not stated"),
        esc(row.got or "not evaluated"),
    ]


def scenarios(page: Page) -> str:
    head = '<h2 id="scenarios">Scenarios</h2>'
    if page.scenarios is None:
        return head + "<p>Not run for this page.</p>"
    total = len(page.scenarios)
    summary = f"<p>{page.scenarios_passed} of {total} scenarios pass.</p>"
    rows = [scenario_cells(row) for row in page.scenarios]
    return head + summary + table(("Result", "Scenario", "Expects", "Got"), rows)


def findings(found: tuple[Finding, ...]) -> str:
    head = '<h2 id="findings">Lint findings</h2>'
    if not found:
        return head + "<p>None.</p>"
    items = "".join(f'<li class="finding">{esc(f)}</li>' for f in found)
    return head + f"<ul>{items}</ul>"
