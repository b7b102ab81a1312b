"""An explanation for a terminal, through rich: headings, a table of what the records say,
the rules that fired, the near misses and every other rule that did not fire. Piped, it is
plain text (no colour codes) at a fixed width."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .model import Explanation, PatientExplanation
from .words import (
    check_line,
    concept_line,
    concept_name,
    fired_head,
    matched_line,
    near_misses,
    not_fired_head,
    shortfall,
)


def to_text(explanation: Explanation, *, width: int = 100, colour: bool = False) -> str:
    """The explanation as a terminal shows it (`colour`: with rich's styles)."""
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        force_terminal=colour,
        no_color=not colour,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    console.print(
        Text(
            f"Ruleset {explanation.ruleset} {explanation.version}, as of {explanation.as_of}",
            style="bold",
        )
    )
    if not explanation.patients:
        _say(console, "(no patients found)")
    for patient in explanation.patients:
        _patient(console, patient)
    if colour:
        return out.getvalue()
    return "".join(f"{line.rstrip()}\n" for line in out.getvalue().splitlines())


def _say(console: Console, text: Text | str) -> None:
    """One line, wrapped by the terminal, never cut into lines of the console's width."""
    console.print(text, soft_wrap=True)


def _patient(console: Console, p: PatientExplanation) -> None:
    console.print()
    console.rule(Text(f"{p.patient}: {p.escalation}", style="bold"), align="left")
    table = Table(title=None, show_lines=False, expand=False, box=None, padding=(0, 1))
    table.add_column("Concept", style="cyan", no_wrap=True)
    table.add_column("What the records say", overflow="fold")
    for c in p.concepts:
        table.add_row(concept_name(c), concept_line(c))
    _say(console, Text("What the records say", style="bold underline"))
    console.print(table)
    console.print()
    _say(console, Text("Rules that fired", style="bold underline"))
    if not p.fired:
        _say(console, "  none")
    for n, f in enumerate(p.fired, 1):
        _say(console, Text(f"{n}. {fired_head(f)}", style="green"))
        for line in matched_line(f):
            _say(console, Text(f"   {line}"))
    console.print()
    misses = near_misses(p)
    _say(console, Text("Near misses (one condition short)", style="bold underline"))
    if not misses:
        _say(console, "  none")
    for miss in misses:
        _say(console, Text(f"- {not_fired_head(miss)}", style="yellow"))
        for check in miss.held:
            _say(console, Text(f"    held {check_line(check)}"))
        _say(console, Text(f"    failed {check_line(miss.failed)}"))
        for value in miss.failed.values:
            _say(console, Text(f"      {value}"))
    console.print()
    _say(console, Text("Rules that did not fire", style="bold underline"))
    near = {m.rule for m in misses}
    others = [n for n in p.not_fired if n.rule not in near]
    if not others:
        _say(console, "  none")
    for miss in others:
        _say(console, Text(f"- {not_fired_head(miss)}: {shortfall(miss)}"))
        _say(console, Text(f"    failed {check_line(miss.failed)}"))
        for value in miss.failed.values:
            _say(console, Text(f"      {value}"))
    if p.warnings:
        console.print()
        _say(console, Text("Data warnings", style="bold underline"))
        for warning in p.warnings:
            _say(console, Text(f"- {warning}"))
