"""`vigil diff`'s output: the changes by section, then the population's impact as tables.

`write_report` draws on a `rich` Console: colour and box lines on a terminal, plain text when
piped (rich detects no tty). `report_dict` is the same content for `--format json`.
"""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine import Ruleset

from .change import SECTIONS, Change
from .changes import RulesetDiff
from .impact import Impact

_MARKS = {"added": ("+", "green"), "removed": ("-", "red"), "changed": ("~", "yellow")}


def ruleset_label(ruleset: Ruleset) -> str:
    where = f" ({ruleset.source})" if ruleset.source is not None else ""
    return f"{ruleset.id} {ruleset.version} [{ruleset.status}]{where}"


def _place(change: Change, diff: RulesetDiff) -> str:
    source: Path | None = diff.old.source if change.kind == "removed" else diff.new.source
    if not change.line or source is None:
        return ""
    return f"  {source}:{change.line}"


def write_changes(diff: RulesetDiff, console: Console) -> None:
    console.print(Text(f"{ruleset_label(diff.old)}\n  -> {ruleset_label(diff.new)}", style="bold"))
    if diff.identical:
        console.print("\nNo changes: the two rulesets say the same.")
        return
    for section in SECTIONS:
        changes = diff.in_section(section)
        if not changes:
            continue
        console.print(Text(f"\n{section.capitalize()}", style="bold underline"))
        for change in changes:
            mark, colour = _MARKS[change.kind]
            line = Text(f"  {mark} ", style=colour)
            line.append(change.text)
            line.append(_place(change, diff), style="dim")
            console.print(line)
    count = len(diff.changes)
    console.print(f"\n{count} change{'s' if count != 1 else ''}.")


def write_impact(impact: Impact, console: Console) -> None:
    share = f" ({impact.changed / impact.patients:.1%})" if impact.patients else ""
    console.print(
        Text(
            f"\nPopulation: {impact.patients} patients as of {impact.as_of.isoformat()}; "
            f"escalation changes for {impact.changed}{share}",
            style="bold",
        )
    )
    if impact.moves:
        moves = Table(title="Escalation changes", box=box.SIMPLE_HEAD, title_justify="left")
        for header in ("From", "To", "Patients"):
            moves.add_column(header, justify="right" if header == "Patients" else "left")
        moves.add_column("Examples", overflow="fold")
        for move in impact.moves:
            moves.add_row(move.before, move.after, str(move.count), ", ".join(move.examples))
        console.print(moves)
    levels = Table(title="Patients per level", box=box.SIMPLE_HEAD, title_justify="left")
    levels.add_column("Level")
    levels.add_column("Old", justify="right")
    levels.add_column("New", justify="right")
    for level, before, after in impact.levels:
        style = "yellow" if before != after else ""
        levels.add_row(level, str(before), str(after), style=style)
    console.print(levels)
    if impact.rules:
        rules = Table(
            title="Rules that start or stop firing", box=box.SIMPLE_HEAD, title_justify="left"
        )
        rules.add_column("Rule")
        rules.add_column("Starts", justify="right")
        rules.add_column("Stops", justify="right")
        rules.add_column("Examples", overflow="fold")
        for shift in impact.rules:
            examples = ", ".join(shift.started_examples or shift.stopped_examples)
            rules.add_row(shift.rule, str(shift.started), str(shift.stopped), examples)
        console.print(rules)
    else:
        console.print("No rule starts or stops firing for any patient.")


def write_report(diff: RulesetDiff, impact: Impact | None, console: Console) -> None:
    """The changes, then (with a population) their impact."""
    write_changes(diff, console)
    if impact is not None:
        write_impact(impact, console)


def report_dict(diff: RulesetDiff, impact: Impact | None) -> dict[str, object]:
    """The changes and the impact (None without a population), ready for JSON."""
    return {**diff.to_dict(), "impact": impact.to_dict() if impact is not None else None}
