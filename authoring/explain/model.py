"""What `vigil explain` says about each patient, as plain data: the concept summaries the
rules read, the rules that fired with what they matched, and the rules that did not fire with
the first condition that failed. `to_dict` is the JSON form (keys and order are stable)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.why_not import Check


@dataclass(frozen=True, slots=True)
class Value:
    """One result: `words` its value (as reported, then in the concept's unit when that
    differs: `4.1 mEq/L (4.1 mmol/L)`), its local `date` (None: undated) and its resource."""

    words: str
    date: str | None
    source: str

    def __str__(self) -> str:
        when = f" on {self.date}" if self.date else ""
        return f"{self.words}{when} ({self.source})"

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.words, "date": self.date, "source": self.source}


@dataclass(frozen=True, slots=True)
class ConceptSummary:
    """What the patient's records say about one concept the rules read, as the session saw
    it: `recorded` False when no record of it counts now (`older` may still hold results
    older than its lookback, read only by windows and trends)."""

    name: str
    title: str
    kind: str
    unit: str | None
    recorded: bool
    latest: Value | None = None
    lowest: Value | None = None
    highest: Value | None = None
    count: int = 0
    sites: tuple[str, ...] = ()
    span_days: float | None = None
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    older: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def value(v: Value | None) -> dict[str, Any] | None:
            return v.to_dict() if v is not None else None

        return {
            "concept": self.name,
            "title": self.title,
            "kind": self.kind,
            "unit": self.unit,
            "recorded": self.recorded,
            "latest": value(self.latest),
            "lowest": value(self.lowest),
            "highest": value(self.highest),
            "count": self.count,
            "sites": list(self.sites),
            "span_days": self.span_days,
            "present": list(self.present),
            "absent": list(self.absent),
            "older": list(self.older),
        }


# attributes a matched fact's words are prefixed with; a measure's words say what it is
_NAMED_ATTRIBUTES = frozenset({"latest", "lowest", "highest", "count", "sites", "span"})


@dataclass(frozen=True, slots=True)
class MatchedFact:
    """A fact a fired rule matched: a concept's values (attribute, words) or a finding."""

    kind: str  # "concept" | "finding"
    name: str
    values: tuple[tuple[str, str], ...]
    sources: tuple[str, ...]

    def __str__(self) -> str:
        if self.kind == "finding":
            return f"finding `{self.name}` ({', '.join(f'{a} {v}' for a, v in self.values)})"
        said = "; ".join(f"{a} {v}" if a in _NAMED_ATTRIBUTES else v for a, v in self.values)
        return f"{self.name.replace('_', ' ')}: {said}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "values": dict(self.values),
            "sources": list(self.sources),
        }


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A rule that fired, in firing order: what it matched, derived and suggested."""

    rule: str
    title: str
    matched: tuple[MatchedFact, ...]
    derived: str | None = None
    suggested: str | None = None
    summary: str | None = None  # its suggestion's summary, as the card says it

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "title": self.title,
            "matched": [m.to_dict() for m in self.matched],
            "derived": self.derived,
            "suggested": self.suggested,
            "summary": self.summary,
        }


@dataclass(frozen=True, slots=True)
class NotFired:
    """A rule that did not fire, by its alternative closest to firing: `checks` are that
    alternative's conditions in order (`failed` the first that failed), `failing` how many
    of them failed, `alternatives` how many alternatives its condition has."""

    rule: str
    title: str
    suggests: str | None
    derives: str | None
    checks: tuple[Check, ...]
    failing: int
    alternatives: int

    @property
    def failed(self) -> Check:
        return next(c for c in self.checks if not c.holds)

    @property
    def held(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.holds)

    def to_dict(self) -> dict[str, Any]:
        def check(c: Check) -> dict[str, Any]:
            return {
                "condition": c.condition,
                "holds": c.holds,
                "words": c.words,
                "sources": list(c.sources),
                "values": list(c.values),
            }

        return {
            "rule": self.rule,
            "title": self.title,
            "suggests": self.suggests,
            "derives": self.derives,
            "failed": check(self.failed),
            "checks": [check(c) for c in self.checks],
            "failing": self.failing,
            "alternatives": self.alternatives,
        }


@dataclass(frozen=True, slots=True)
class PatientExplanation:
    """One patient's evaluation explained."""

    patient: str
    escalation: str
    concepts: tuple[ConceptSummary, ...]
    fired: tuple[FiredRule, ...]
    not_fired: tuple[NotFired, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "escalation": self.escalation,
            "concepts": [c.to_dict() for c in self.concepts],
            "fired": [f.to_dict() for f in self.fired],
            "not_fired": [n.to_dict() for n in self.not_fired],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    """Every patient's explanation against one ruleset at one time."""

    ruleset: str
    version: str
    as_of: str
    patients: tuple[PatientExplanation, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ruleset": {"id": self.ruleset, "version": self.version},
            "as_of": self.as_of,
            "patients": [p.to_dict() for p in self.patients],
        }


def to_dict(explanation: Explanation | PatientExplanation) -> dict[str, Any]:
    """The JSON-ready form of an explanation."""
    return explanation.to_dict()
