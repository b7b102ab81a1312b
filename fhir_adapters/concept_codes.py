"""Which of a ruleset's concepts a FHIR coding means, by the type of resource it is on.

Codings are matched on system and code only, never display text. A concept's codes match
exactly; its prefix codes (`atc#C09A*`) match every code of their system that begins with
the rest. A code may mean several concepts (of different kinds, event concepts of different
resources, or through value sets). An Observation reads finding, quantity, score and coded
concepts; a Condition every concept but coded, medication, demographic and event ones; a
Procedure, Encounter or ServiceRequest the event concepts whose `resource` is its type, so
one code means "ECG requested" on a ServiceRequest and "ECG done" on a Procedure.
`answered_by` gives the findings whose `answers_of` lists an Observation code (an ECG report
answered with a finding code).
System URIs FHIR has renamed are read under their current name (`SYSTEM_ALIASES`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.codes import DEFAULT_SYSTEMS, Code
from engine.conditions import Window, atoms
from engine.model import Concept, ConceptKind, Ruleset

__all__ = [
    "EVENT_RESOURCES",
    "SYSTEM_ALIASES",
    "Matched",
    "answered_by",
    "canonical_system",
    "compact",
    "concepts_for",
    "matches",
    "read_undated",
    "windowed",
]

EVENT_RESOURCES = frozenset({"Procedure", "Encounter", "ServiceRequest"})

# the v2 table URI of FHIR DSTU2/STU3, still sent by laboratory systems
SYSTEM_ALIASES: dict[str, str] = {
    "http://hl7.org/fhir/v2/0493": "http://terminology.hl7.org/CodeSystem/v2-0493",
}

_READS: dict[str, frozenset[ConceptKind]] = {
    "Observation": frozenset({"finding", "quantity", "score", "coded"}),
    "Condition": frozenset({"finding", "quantity", "score"}),
}


@dataclass(frozen=True, slots=True)
class Matched:
    """A concept a coding means, and that coding (system and code, as compared)."""

    concept: Concept
    code: Code


@dataclass(slots=True)
class _Index:
    exact: dict[tuple[str, str], list[Concept]] = field(default_factory=dict)
    prefixes: list[tuple[str, str, Concept]] = field(default_factory=list)
    answers: dict[tuple[str, str], list[Concept]] = field(default_factory=dict)
    windowed: frozenset[str] = frozenset()
    undated: frozenset[str] = frozenset()  # concepts some rule reads `undated`
    # (resource type, system, code) as written -> what it means: every resource repeats a few
    meant: dict[tuple[str, str, str], tuple[Matched, ...]] = field(default_factory=dict)


# the most codings `_Index.meant` remembers for one ruleset: past it, codings are looked up anew
_MEANT_SIZE = 10_000


_INDEXES: dict[int, tuple[weakref.ref[Ruleset], _Index]] = {}


def canonical_system(system: str) -> str:
    return SYSTEM_ALIASES.get(system, system)


def compact(code: Code, ruleset: Ruleset) -> str:
    """`loinc#2823-3`: the code in the ruleset's own prefixes (the defaults when it has none)."""
    return code.compact(dict(ruleset.code_systems) or DEFAULT_SYSTEMS)


def concepts_for(
    ruleset: Ruleset, resource_type: str, codings: Iterable[tuple[object, object]]
) -> list[Matched]:
    """The concepts a resource of `resource_type` means by `codings` ((system, code) pairs),
    distinct, in coding order, each with the first coding that means it."""
    index = _index(ruleset)
    found: list[Matched] = []
    for system, value in codings:
        if not isinstance(system, str) or not isinstance(value, str) or not system or not value:
            continue
        meant = _meant(index, resource_type, system, value)
        for matched in meant:
            if all(m.concept is not matched.concept for m in found):
                found.append(matched)
    return found


def _meant(index: _Index, resource_type: str, system: str, value: str) -> tuple[Matched, ...]:
    """The concepts one coding means on a resource of `resource_type`, remembered."""
    key = (resource_type, system, value)
    known = index.meant.get(key)
    if known is None:
        code = Code(canonical_system(system), value)
        known = tuple(Matched(c, code) for c in _lookup(index, code) if _reads(resource_type, c))
        if len(index.meant) < _MEANT_SIZE:  # a race costs at most a coding looked up twice
            index.meant[key] = known
    return known


def matches(codings: Iterable[tuple[object, object]], wanted: Iterable[Code]) -> Code | None:
    """The first coding that is one of `wanted` (system and code), if any."""
    keys = {c.key for c in wanted}
    for system, value in codings:
        if isinstance(system, str) and isinstance(value, str):
            key = (canonical_system(system), value)
            if key in keys:
                return Code(*key)
    return None


def answered_by(ruleset: Ruleset, codings: Iterable[tuple[object, object]]) -> list[Concept]:
    """The finding concepts whose `answers_of` holds one of an Observation's `codings`."""
    index = _index(ruleset)
    found: list[Concept] = []
    for system, value in codings:
        if isinstance(system, str) and isinstance(value, str):
            for concept in index.answers.get((canonical_system(system), value), ()):
                if concept not in found:
                    found.append(concept)
    return found


def windowed(ruleset: Ruleset) -> frozenset[str]:
    """The concepts some rule reads within a time window, or anchors a window on: a record of
    one needs a time to count."""
    return _index(ruleset).windowed


def read_undated(ruleset: Ruleset) -> frozenset[str]:
    """The concepts some rule reads `undated`: a record of one without a time still counts."""
    return _index(ruleset).undated


def _windowed(ruleset: Ruleset) -> tuple[frozenset[str], frozenset[str]]:
    """(the concepts read in a window of time or anchoring one, those read `undated`)."""
    conditions = [rule.when for rule in ruleset.rules]
    if ruleset.scope is not None:
        conditions.append(ruleset.scope)
    conditions.extend(ruleset.flag_conditions)
    names: set[str] = set()
    undated: set[str] = set()
    for condition in conditions:
        for atom in atoms(condition):
            window, concept = getattr(atom, "window", None), getattr(atom, "concept", None)
            if isinstance(window, Window) and isinstance(concept, str):
                if window.relation == "undated":
                    undated.add(concept)
                    continue
                names.add(concept)
                if window.anchor is not None:
                    names.add(window.anchor)
    return frozenset(names), frozenset(undated)


def _reads(resource_type: str, concept: Concept) -> bool:
    if concept.kind == "event":
        return concept.resource == resource_type
    return concept.kind in _READS.get(resource_type, frozenset())


def _lookup(index: _Index, code: Code) -> list[Concept]:
    found = list(index.exact.get(code.key, ()))
    for system, prefix, concept in index.prefixes:
        if system == code.system and code.code.startswith(prefix) and concept not in found:
            found.append(concept)
    return found


def _index(ruleset: Ruleset) -> _Index:
    """The ruleset's codes indexed once per Ruleset object (a Ruleset is immutable)."""
    key = id(ruleset)
    held = _INDEXES.get(key)
    if held is not None and held[0]() is ruleset:
        return held[1]
    index = _Index()
    for concept in ruleset.concepts.values():
        for code in concept.codes:
            found = index.exact.setdefault((canonical_system(code.system), code.code), [])
            if concept not in found:
                found.append(concept)
        for code in concept.prefixes:
            index.prefixes.append((canonical_system(code.system), code.code.rstrip("*"), concept))
        for code in concept.answers_of:
            index.answers.setdefault((canonical_system(code.system), code.code), []).append(concept)
    index.windowed, index.undated = _windowed(ruleset)
    _INDEXES[key] = (weakref.ref(ruleset, lambda _: _INDEXES.pop(key, None)), index)
    return index
