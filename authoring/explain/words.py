"""The sentences both renderers write: a concept summary, a fired rule, a rule that did not
fire, each in plain words."""

from __future__ import annotations

from engine import units
from engine.why_not import Check

from .model import ConceptSummary, FiredRule, NotFired, PatientExplanation


def concept_line(c: ConceptSummary) -> str:
    """`latest 2.3 mmol/L on 2026-02-27 (Observation/a); lowest ...; 2 records`."""
    if not c.recorded and not c.older:
        return "not recorded"
    parts: list[str] = []
    if c.latest is not None:
        parts.append(f"latest {c.latest}")
        if c.lowest is not None and c.lowest != c.latest:
            parts.append(f"lowest {c.lowest}")
        if c.highest is not None and c.highest != c.latest:
            parts.append(f"highest {c.highest}")
    if c.latest is not None:
        plural = "s" if c.count != 1 else ""
        listed = f" ({', '.join(c.present)})" if c.count > 1 else ""
        parts.append(f"{c.count} current result{plural}{listed}")
    elif c.present:
        plural = "s" if c.count != 1 else ""
        parts.append(f"present in {c.count} record{plural} ({', '.join(c.present)})")
    elif c.recorded and c.latest is None and not c.absent:
        parts.append("recorded")
    if c.absent:
        parts.append(f"recorded absent ({', '.join(c.absent)})")
    if c.sites:
        parts.append(f"sites: {', '.join(c.sites)}")
    if c.span_days and c.latest is None:  # a finding's span; results have their dates
        parts.append(f"over {c.span_days:g} days")
    if not c.recorded:
        parts.insert(0, "nothing current")
    if c.older:
        parts.append(f"older than its lookback: {', '.join(c.older)}")
    return "; ".join(parts)


def concept_name(c: ConceptSummary) -> str:
    """`potassium (mmol/L)`: the concept and the unit its rules compare in."""
    unit = f" ({units.display(c.unit)})" if c.unit else ""
    return f"{c.name}{unit}"


def fired_head(f: FiredRule) -> str:
    then = []
    if f.derived:
        then.append(f"derived `{f.derived}`")
    if f.suggested:
        then.append(f"suggested {f.suggested}")
    result = f": {', '.join(then)}" if then else ""
    return f"{f.rule} ({f.title}){result}"


def matched_line(f: FiredRule) -> list[str]:
    """Each fact the rule matched, with its sources."""
    lines = []
    for m in f.matched:
        sources = f" [{', '.join(m.sources)}]" if m.sources else ""
        lines.append(f"matched {m}{sources}")
    if f.summary:
        lines.append(f"card: {f.summary}")
    return lines


def not_fired_head(n: NotFired) -> str:
    then = n.suggests or (f"derives `{n.derives}`" if n.derives else "")
    goal = f" [{then}]" if then and n.suggests is None else (f" [suggests {then}]" if then else "")
    return f"{n.rule} ({n.title}){goal}"


def check_line(check: Check) -> str:
    unsaid = [s for s in check.sources if s not in check.words]
    sources = f" [{', '.join(unsaid)}]" if unsaid and check.holds else ""
    return f"`{check.condition}`: {check.words}{sources}"


def shortfall(n: NotFired) -> str:
    """`1 of 3 conditions failed`, for the closest alternative."""
    total = len(n.checks)
    alternatives = f" (closest of {n.alternatives} alternatives)" if n.alternatives > 1 else ""
    return f"{n.failing} of {total} conditions failed{alternatives}"


def near_misses(patient: PatientExplanation) -> list[NotFired]:
    """The suggesting rules one condition short of firing, with at least one that held."""
    return [
        n
        for n in patient.not_fired
        if n.suggests is not None and n.failing == 1 and len(n.checks) > 1
    ]
