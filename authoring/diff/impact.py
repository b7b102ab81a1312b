"""What a change of ruleset does to a population: each patient evaluated by both versions.

`population_impact(old, new, patients, as_of)` reads FHIR data as `vigil evaluate` does, evaluates
every patient with the old and the new ruleset in one process (two compiled rulesets: their
keys differ with their content), and counts the patients whose escalation moves, from which
level to which, and the rules that start or stop firing, with up to `EXAMPLES` patient
references for each. Without `as_of`, both versions evaluate at one reading of the clock.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from engine import Ruleset
from fhir_adapters import Loaded
from fhir_adapters.evaluate import PatientResult, evaluate_patients
from fhir_adapters.reading import Input

EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class Move:
    """`count` patients whose escalation is `before` with the old ruleset and `after` with the
    new one (`-` when a version did not see the patient at all)."""

    before: str
    after: str
    count: int
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "from": self.before,
            "to": self.after,
            "count": self.count,
            "examples": list(self.examples),
        }


@dataclass(frozen=True, slots=True)
class RuleShift:
    """A rule that fires for `started` patients only with the new ruleset and for `stopped`
    only with the old one."""

    rule: str
    started: int
    stopped: int
    started_examples: tuple[str, ...]
    stopped_examples: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "started": self.started,
            "stopped": self.stopped,
            "started_examples": list(self.started_examples),
            "stopped_examples": list(self.stopped_examples),
        }


@dataclass(frozen=True)
class Impact:
    """The population's escalations under both versions: `moves` lists the changed ones
    (most patients first), `levels` each level's count (old, new), in the new ladder's order
    then the old's."""

    as_of: datetime
    patients: int
    changed: int
    moves: tuple[Move, ...]
    rules: tuple[RuleShift, ...]
    levels: tuple[tuple[str, int, int], ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "patients": self.patients,
            "changed": self.changed,
            "moves": [m.to_dict() for m in self.moves],
            "rules": [r.to_dict() for r in self.rules],
            "levels": [{"level": lv, "old": a, "new": b} for lv, a, b in self.levels],
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one version said of one patient: its escalation and the rules that fired."""

    escalation: str
    fired: frozenset[str]


def outcomes(
    results: Iterable[PatientResult], ruleset: Ruleset
) -> tuple[dict[str, Outcome], datetime | None]:
    """Each patient's outcome under `ruleset` (only the ruleset's own rules count as fired),
    and the time the first was evaluated at."""
    rules = {r.id for r in ruleset.rules}
    found: dict[str, Outcome] = {}
    when: datetime | None = None
    for result in results:
        evaluation = result.evaluation
        when = when or evaluation.as_of
        fired = frozenset(f.rule for f in evaluation.trace if f.rule in rules)
        found[result.patient] = Outcome(evaluation.escalation, fired)
    return found, when


def natural_order(text: str) -> tuple[tuple[int, str], ...]:
    """A sort key reading runs of digits as numbers: `Patient/p9` before `Patient/p10`."""
    return tuple(
        (int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"(\d+)", text)
    )


def population_impact(
    old: Ruleset, new: Ruleset, patients: Input | Loaded, as_of: datetime | None = None
) -> Impact:
    """Evaluate every patient in `patients` (FHIR data: a path, JSON text, parsed JSON, or
    files read as `vigil evaluate` reads them) with `old` and with `new`; count what moved."""
    now = datetime.now(UTC) if as_of is None else None
    before, first = outcomes(evaluate_patients(patients, old, as_of, now=now), old)
    after, _ = outcomes(evaluate_patients(patients, new, as_of, now=now), new)
    moved: dict[tuple[str, str], list[str]] = defaultdict(list)
    started: dict[str, list[str]] = defaultdict(list)
    stopped: dict[str, list[str]] = defaultdict(list)
    nobody = Outcome("-", frozenset())
    references = sorted({*before, *after}, key=natural_order)
    for patient in references:
        a, b = before.get(patient, nobody), after.get(patient, nobody)
        if a.escalation != b.escalation:
            moved[(a.escalation, b.escalation)].append(patient)
        for rule in b.fired - a.fired:
            started[rule].append(patient)
        for rule in a.fired - b.fired:
            stopped[rule].append(patient)
    moves = tuple(
        Move(x, y, len(ps), tuple(ps[:EXAMPLES]))
        for (x, y), ps in sorted(moved.items(), key=lambda item: (-len(item[1]), item[0]))
    )
    shifts = tuple(
        RuleShift(
            rule,
            len(started[rule]),
            len(stopped[rule]),
            tuple(started[rule][:EXAMPLES]),
            tuple(stopped[rule][:EXAMPLES]),
        )
        for rule in sorted(
            {*started, *stopped}, key=lambda r: (-len(started[r]) - len(stopped[r]), r)
        )
    )
    order = [lv.id for lv in new.levels] + [lv.id for lv in old.levels]
    order += sorted({o.escalation for o in (*before.values(), *after.values())})
    levels = tuple(
        (
            level,
            sum(o.escalation == level for o in before.values()),
            sum(o.escalation == level for o in after.values()),
        )
        for level in dict.fromkeys(order)
    )
    when = as_of or first or now or datetime.now(UTC)
    changed = sum(m.count for m in moves)
    return Impact(when, len(references), changed, moves, shifts, levels)
