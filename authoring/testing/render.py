"""A suite report as a clinician reads it: a block per failing scenario, located findings, the
coverage tables and a summary line. Plain text (readable piped, pinned by tests), or with
colour and drawn tables on a terminal (`rich`)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..findings import Finding
from .suite import ScenarioReport, SuiteReport


def failure_block(report: ScenarioReport) -> list[str]:
    """A failing scenario in words: where and what, each expectation that does not hold as
    `expected:` / `got:` lines, the rules that fired with what they matched, and the nearest
    misses of the rules expected to fire."""
    head = Finding(str(report.file), report.line, 1, "error", f"scenario failed: {report.name}")
    lines = [str(head)]
    if report.differences:
        for difference in report.differences:
            lines += [
                f"  {difference.key}",
                f"    expected: {difference.expected}",
                f"    got:      {difference.got}",
            ]
    else:
        lines += [f"  {failure}" for failure in report.failures]
    if report.outcome is not None and report.outcome.result is not None:
        if report.fired:
            lines.append("  rules that fired:")
            for fired in report.fired:
                title = f": {fired.title}" if fired.title else ""
                lines.append(f"    {fired.rule} ({fired.level}){title}")
                lines += [f"      {matched}" for matched in fired.matched]
        else:
            lines.append("  rules that fired: none")
    if report.warnings:
        lines.append("  data warnings:")
        lines += [f"    {warning}" for warning in report.warnings]
    if report.nearest_misses:
        lines.append("  nearest miss:")
        lines += [f"    {miss}" for miss in report.nearest_misses]
    return lines


def findings(report: SuiteReport) -> list[Finding]:
    """The located lines after the failures: each unchecked suggesting rule (an error), each
    deriving rule never seen firing (a warning), each boundary no scenario sits on (a note)."""
    file = str(report.source) if report.source is not None else report.ruleset
    found: list[Finding] = []
    if not report.scenarios:
        folder = Path(file).parent / "scenarios" if report.source is not None else Path(file)
        message = f"no scenario files in {folder}: write one YAML file per case there"
        return [Finding(str(folder), 0, 0, "error", message, "no-scenarios")]
    for rule in report.rules:
        if rule.suggesting and not rule.checked_firing:
            message = f"no scenario expects {rule.rule} to fire"
            found.append(Finding(file, rule.line, 1, "error", message, "unchecked-firing"))
        if rule.suggesting and not rule.checked_not_firing:
            message = f"no scenario expects {rule.rule} not to fire"
            found.append(Finding(file, rule.line, 1, "error", message, "unchecked-not-firing"))
        if not rule.suggesting and rule.fired_in == 0:
            message = f"{rule.rule} derives a finding no scenario derives"
            found.append(Finding(file, rule.line, 1, "warning", message, "never-fired"))
    for boundary in report.boundaries:
        if not boundary.covered:
            message = (
                f"no scenario has {boundary.concept} at {boundary.parameter} "
                f"({boundary.shown}), where {', '.join(boundary.rules)} changes"
            )
            place = (boundary.line, boundary.column)
            found.append(Finding(file, *place, "note", message, "boundary"))
    return found


def summary(report: SuiteReport) -> str:
    total = len(report.scenarios)
    return f"{report.ruleset}: {total - len(report.failed)} of {total} scenarios passed"


def coverage_tables(report: SuiteReport) -> list[tuple[str, list[str], list[list[str]]]]:
    """The coverage tables, each (title, header, rows); none when nothing is left untested."""
    tables: list[tuple[str, list[str], list[list[str]]]] = []
    if not report.scenarios:
        return tables  # every rule and boundary untested: the one finding says why
    gaps = [r for r in report.rules if not r.complete]
    if gaps:
        rows = [
            [
                r.rule,
                str(r.fired_in),
                str(r.not_fired_in),
                ("yes" if r.checked_firing else "NO") if r.suggesting else "-",
                ("yes" if r.checked_not_firing else "NO") if r.suggesting else "-",
            ]
            for r in gaps
        ]
        header = ["rule", "fired in", "not fired in", "checked firing", "checked not firing"]
        tables.append(("Rules not seen both ways", header, rows))
    open_ = [b for b in report.boundaries if not b.covered]
    if open_:
        rows = [[b.concept, b.parameter, b.shown, ", ".join(b.rules)] for b in open_]
        title = (
            f"Parameter boundaries no scenario sits on ({len(open_)} of {len(report.boundaries)})"
        )
        tables.append((title, ["concept", "parameter", "value", "rules"], rows))
    return tables


def plain_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [title, line(header), line(["-" * w for w in widths]), *map(line, rows)]


def render_text(report: SuiteReport) -> str:
    """The whole report as plain text."""
    lines: list[str] = []
    for failed in report.failed:
        lines += [*failure_block(failed), ""]
    for title, header, rows in coverage_tables(report):
        lines += [*plain_table(title, header, rows), ""]
    lines += [str(f) for f in findings(report)]
    lines.append(summary(report))
    return "".join(f"{line}\n" for line in lines)


def render_rich(report: SuiteReport, width: int = 100) -> str:
    """The whole report for a terminal: the same words, in colour, with drawn tables."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=True, width=width, highlight=False, soft_wrap=True
    )
    for failed in report.failed:
        block = failure_block(failed)
        console.print(Text(block[0], style="bold red"))
        for line in block[1:]:
            style = "green" if line.lstrip().startswith("expected:") else ""
            style = "red" if line.lstrip().startswith("got:") else style
            console.print(Text(line, style=style))
        console.print()
    for title, header, rows in coverage_tables(report):
        table = Table(title=title, title_justify="left")
        for name in header:
            table.add_column(name)
        for row in rows:
            table.add_row(*row)
        console.print(table, soft_wrap=False)
    colours = {"error": "red", "warning": "yellow", "note": "cyan"}
    for finding in findings(report):
        console.print(Text(str(finding), style=colours[finding.level]))
    style = "bold red" if report.exit_code else "bold green"
    console.print(Text(summary(report), style=style))
    return buffer.getvalue()
