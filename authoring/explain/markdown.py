"""An explanation as Markdown: one section per patient, for a review or an issue."""

from __future__ import annotations

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


def to_markdown(explanation: Explanation) -> str:
    """The explanation as Markdown text."""
    lines = [
        f"# {explanation.ruleset} {explanation.version}, as of {explanation.as_of}",
        "",
    ]
    if not explanation.patients:
        lines += ["No patients found.", ""]
    for patient in explanation.patients:
        lines += _patient(patient)
    return "\n".join(lines).rstrip("\n") + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _patient(p: PatientExplanation) -> list[str]:
    lines = [f"## {p.patient}: {p.escalation}", "", "### What the records say", ""]
    lines += ["| Concept | What the records say |", "| --- | --- |"]
    lines += [f"| {_cell(concept_name(c))} | {_cell(concept_line(c))} |" for c in p.concepts]
    lines += ["", "### Rules that fired", ""]
    if not p.fired:
        lines.append("None.")
    for n, f in enumerate(p.fired, 1):
        lines.append(f"{n}. **{fired_head(f)}**")
        lines += [f"   - {line}" for line in matched_line(f)]
    misses = near_misses(p)
    lines += ["", "### Near misses (one condition short)", ""]
    if not misses:
        lines.append("None.")
    for miss in misses:
        lines.append(f"- **{not_fired_head(miss)}**")
        lines += [f"  - held {check_line(c)}" for c in miss.held]
        lines.append(f"  - failed {check_line(miss.failed)}")
        lines += [f"    - {v}" for v in miss.failed.values]
    near = {m.rule for m in misses}
    others = [n for n in p.not_fired if n.rule not in near]
    lines += ["", "### Rules that did not fire", ""]
    if not others:
        lines.append("None.")
    for miss in others:
        lines.append(f"- **{not_fired_head(miss)}**: {shortfall(miss)}")
        lines.append(f"  - failed {check_line(miss.failed)}")
        lines += [f"    - {v}" for v in miss.failed.values]
    if p.warnings:
        lines += ["", "### Data warnings", ""]
        lines += [f"- {w}" for w in p.warnings]
    lines.append("")
    return lines
