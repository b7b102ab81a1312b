"""The rule closest to firing among some rules, in words, for a scenario failure."""

from __future__ import annotations

from collections.abc import Iterable

from .model import Explanation, NotFired, PatientExplanation
from .words import check_line


def nearest_miss(
    explanation: Explanation | PatientExplanation, rule_ids: Iterable[str]
) -> str | None:
    """Of the rules in `rule_ids` that did not fire (for the first patient), the one closest
    to firing (fewest conditions failed, then most held, then the ruleset's order) with its
    first failing condition: `nearest miss: severe-hypokalemia: `potassium < 2.5 mmol/L`:
    potassium 2.6 mmol/L ... is not below 2.5 mmol/L (0.1 mmol/L above)`. None when none of
    them failed to fire."""
    patient = explanation if isinstance(explanation, PatientExplanation) else None
    if isinstance(explanation, Explanation):
        patient = explanation.patients[0] if explanation.patients else None
    if patient is None:
        return None
    wanted = set(rule_ids)
    candidates = [n for n in patient.not_fired if n.rule in wanted]
    if not candidates:
        return None
    order = {n.rule: i for i, n in enumerate(patient.not_fired)}

    def distance(n: NotFired) -> tuple[int, int, int]:
        return (n.failing, -len(n.held), order[n.rule])

    best = min(candidates, key=distance)
    values = "".join(f"; {v}" for v in best.failed.values)
    return f"nearest miss: {best.rule}: {check_line(best.failed)}{values}"
