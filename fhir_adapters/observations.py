"""Validated Observations as engine `Record`s.

Only status final/amended/corrected counts; preliminary counts for findings and scores, flagged
`preliminary`, but a preliminary lab result (a concentration) is left out with a warning; a
concept's `preliminary:` says otherwise (`counts`, `ignored`, or `candidates`, which the engine
keeps apart). A
finding is present with `valueBoolean: true`, no value, SNOMED Present, or a quantity (a cramp's
duration); absent with `valueBoolean: false`, SNOMED Absent, or interpretation NEG; a true or
Present value with interpretation NEG contradicts itself and is left out with a warning. A
number says neither for a finding the ruleset reads only as present or absent: it is left out
with a warning. Grades and scores, whose value a rule compares, are read as numbers. Quantities
keep their recorded number and resolved UCUM unit (`_quantities`): the engine converts.

Shapes: a `component` whose code means a concept is a record of that concept (the blood
pressure panel's systolic), read like a value and left out with a warning naming the
component's code when it cannot be; a `coded` concept's answer is its `valueCodeableConcept`
(`Record.answer`); a finding whose `answers_of` lists the Observation's code is present when the
coded value is one of its codes (`Record.code` the answer), and such a report without a coded
value is left out with a warning. Every record carries the coding it matched (`Record.code`),
its note texts, its reference range's limits and the markers it carries (`markers`, with the
referenced Specimen's conditions from `specimens`), and, for a concept with evidence classes,
the class its `category` codes give (`engine.evidence`). A coded concept with `answers` reads
only those; another coded value is left out with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.quantity import Quantity as FhirQuantity

from engine import units
from engine.codes import Code
from engine.evaluation import DataWarning
from engine.evidence import of_observation
from engine.model import Concept, Ruleset
from engine.records import Quantity, Record

from . import loinc
from ._quantities import (
    ImpossibleValue,
    QuantityProblem,
    UnitConflict,
    read_quantity,
    unit_disagreement,
)
from .body_sites import body_site
from .codings import has_code, meant, pairs
from .concept_codes import Matched, answered_by, canonical_system, compact, matches
from .fhir_times import ContradictoryTime, Warn, date_only, moment, period
from .markers import markers
from .references import Resolve
from .specimens import specimen_conditions

__all__ = ["is_lab", "is_presence_only", "observation_records"]

SNOMED = "http://snomed.info/sct"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PRESENT, ABSENT = "52101004", "2667000"

COUNTED = frozenset({"final", "amended", "corrected"})
IGNORED = frozenset({"entered-in-error", "cancelled", "registered"})
_LAB_DIMENSIONS = frozenset(units.dimension(u) for u in ("mmol/L", "mg/dL", "meq/L"))
_NUMBER = units.dimension("1")
_UNREAD = ("String", "Range", "Ratio", "SampledData", "Time", "DateTime", "Period")

Records = tuple[list[Record], list[DataWarning]]
Valued = Observation | ObservationComponent  # what carries a value[x]


@dataclass(frozen=True, slots=True)
class _Reading:
    present: bool
    value: Quantity | float | int | None = None
    reference_low: Quantity | None = None
    reference_high: Quantity | None = None
    answer: str | None = None
    code: str | None = None  # the coded answer that made a finding present


@dataclass(slots=True)
class _Context:
    """What every record of one Observation shares."""

    obs: Observation
    source: str
    ruleset: Ruleset
    resolve: Resolve | None
    warn: Warn
    time: datetime | None = None
    end: datetime | None = None
    site: str | None = None
    notes: tuple[str, ...] = ()
    laterality: frozenset[str] = frozenset()
    _conditions: list[tuple[object, object]] | None = field(default=None)

    def marks(self, concept: Concept, element: Valued) -> frozenset[str]:
        if not concept.markers:
            return frozenset()
        interpretations = pairs(*(element.interpretation or []))
        if element is not self.obs:
            interpretations += pairs(*(self.obs.interpretation or []))
        return markers(concept, interpretations, self.specimen_conditions(concept), self.notes)

    def specimen_conditions(self, concept: Concept) -> list[tuple[object, object]]:
        # resolved only for a concept that reads them: no warning about a Specimen unused
        if not any(marker.specimen_conditions for marker in concept.markers):
            return []
        if self._conditions is None:
            self._conditions = specimen_conditions(self.obs, self.resolve, self.warn)
        return self._conditions

    def record(
        self, concept: Concept, reading: _Reading, element: Valued, code: str | None
    ) -> Record:
        return Record(
            concept=concept.name,
            source=self.source,
            time=self.time,
            present=reading.present,
            value=reading.value,
            end=self.end,
            site=self.site,
            laterality=self.laterality,
            reference_low=reading.reference_low,
            preliminary=self.obs.status == "preliminary",
            date_only=date_only(self.obs, "effective"),
            code=reading.code or code,
            answer=reading.answer,
            reference_high=reading.reference_high,
            markers=self.marks(concept, element),
            notes=self.notes,
            evidence_class=self.evidence(concept),
        )

    def evidence(self, concept: Concept) -> str | None:
        """The record's evidence class, from the Observation's category codes."""
        if not concept.evidence:
            return None
        codes = [c for s, c in pairs(*(self.obs.category or [])) if s == CATEGORY]
        return of_observation(concept, (c for c in codes if isinstance(c, str)))


def is_lab(concept: Concept) -> bool:
    """A concentration measured by a laboratory, as opposed to a finding, score or duration."""
    return concept.unit is not None and units.dimension(concept.unit) in _LAB_DIMENSIONS


def is_presence_only(concept: Concept, ruleset: Ruleset) -> bool:
    """A finding the ruleset reads only as present or absent: no unit, and no rule compares
    its value (as one does a grade or a score)."""
    return (
        concept.unit is None
        and concept.kind != "score"
        and not ruleset.compares_value(concept.name)
    )


def observation_records(
    obs: Observation, source: str, ruleset: Ruleset, resolve: Resolve | None = None
) -> Records:
    """The records of one Observation; `resolve` finds the Specimen it references."""
    warnings: list[DataWarning] = []

    def warn(message: str) -> None:
        warnings.append(DataWarning(message, source))

    status = obs.status or ""
    if status in IGNORED:
        warn(f"status {status!r}: ignored")
        return [], warnings
    if status not in COUNTED and status != "preliminary":
        warn(f"status {status!r} is not final, amended, corrected or preliminary: ignored")
        return [], warnings
    codings = pairs(obs.code)
    direct = meant(ruleset, "Observation", codings, warn)
    if warnings:
        return [], warnings  # its codings mean concepts that contradict each other
    named = {m.concept.name for m in direct}
    answered = [c for c in answered_by(ruleset, codings) if c.name not in named]
    parts = _components(obs, ruleset, warn)
    if not (direct or answered or parts):
        return [], warnings
    try:
        time, end = _effective(obs, warn)
    except ContradictoryTime as problem:
        warn(str(problem))
        return [], warnings
    preliminary = status == "preliminary"
    notes = tuple(note.text for note in obs.note or [] if note.text)
    where, sides = body_site(obs.bodySite, ruleset, warn)
    context = _Context(obs, source, ruleset, resolve, warn, time, end, where, notes, sides)
    records: list[Record] = []
    for matched in direct:
        reading = _read_direct(obs, matched.concept, ruleset, warn, preliminary=preliminary)
        if reading is not None:
            records.append(context.record(matched.concept, reading, obs, _code(matched, ruleset)))
    records.extend(_answers(context, answered))
    for component, matched in parts:
        code = _code(matched, ruleset)

        def warn_part(message: str, code: str = code) -> None:
            warn(f"component {code}: {message}")

        reading = _read_direct(
            component, matched.concept, ruleset, warn_part, preliminary=preliminary
        )
        if reading is not None:
            records.append(context.record(matched.concept, reading, component, code))
    return records, warnings


def _code(matched: Matched, ruleset: Ruleset) -> str:
    return compact(matched.code, ruleset)


def _components(
    obs: Observation, ruleset: Ruleset, warn: Warn
) -> list[tuple[ObservationComponent, Matched]]:
    """The components whose code means a concept, each with it."""
    found: list[tuple[ObservationComponent, Matched]] = []
    for index, component in enumerate(obs.component or []):

        def warn_part(message: str, index: int = index) -> None:
            warn(f"component {index}: {message}")

        found.extend(
            (component, m) for m in meant(ruleset, "Observation", pairs(component.code), warn_part)
        )
    return found


def _read_direct(
    element: Valued, concept: Concept, ruleset: Ruleset, warn: Warn, *, preliminary: bool
) -> _Reading | None:
    """The reading of an Observation or component whose own code means `concept`."""
    if preliminary and (concept.preliminary or ("ignored" if is_lab(concept) else "counts")) == (
        "ignored"
    ):
        warn(f"status 'preliminary': a preliminary {concept.label} result does not count")
        return None
    if concept.kind == "coded":
        return _coded(element, concept, ruleset, warn)
    number = _other_value(element, ("Quantity", "Integer"))
    if number is not None and is_presence_only(concept, ruleset):
        warn(f"a value{number} does not say whether {concept.label} is present or absent: left out")
        return None
    return _read_observation(element, concept, warn)


def _coded(element: Valued, concept: Concept, ruleset: Ruleset, warn: Warn) -> _Reading | None:
    """A coded concept's answer: the first coding of the coded value."""
    value = element.valueCodeableConcept
    for system, code in pairs(value):
        if isinstance(system, str) and isinstance(code, str) and system and code:
            answer = Code(canonical_system(system), code)
            if concept.answers:  # the first coding that is one it reads, else none is
                known = matches(pairs(value), concept.answers)
                if known is None:
                    warn(
                        f"coded value {compact(answer, ruleset)} is not one of the answers "
                        f"{concept.label} reads: left out"
                    )
                    return None
                answer = known
            return _Reading(True, answer=compact(answer, ruleset))
    warn(f"no coded value (valueCodeableConcept) for {concept.label}: left out")
    return None


def _answers(context: _Context, concepts: Sequence[Concept]) -> list[Record]:
    """Records of the findings an Observation's coded value answers (an ECG report)."""
    if not concepts:
        return []
    obs = context.obs
    if obs.valueCodeableConcept is None:
        named = ", ".join(concept.label for concept in concepts)
        context.warn(f"a report that may show {named} has no coded value: left out")
        return []
    answer = pairs(obs.valueCodeableConcept)
    records = []
    for concept in concepts:
        code = matches(answer, concept.codes)
        if code is not None:
            reading = _Reading(True, code=compact(code, context.ruleset))
            records.append(context.record(concept, reading, obs, reading.code))
    return records


def _read_observation(obs: Valued, concept: Concept, warn: Warn) -> _Reading | None:
    negative = has_code(obs.interpretation, INTERPRETATION, "NEG")
    # a component has no components: a finding's duration is read from an Observation's own
    components = obs.component if isinstance(obs, Observation) else None
    if obs.valueQuantity is not None:
        value = _concept_quantity(obs.valueQuantity, concept, obs, warn)
        if value is None:
            return None
        if not isinstance(value, Quantity):
            return _Reading(True, value)
        low = _reference_limit(obs, value, concept, warn, "low")
        high = _reference_limit(obs, value, concept, warn, "high")
        return _Reading(True, value, low, high)
    if obs.valueInteger is not None:
        if concept.unit is not None and units.dimension(concept.unit) != _NUMBER:
            warn(f"an integer value for {concept.label} has no unit ({concept.unit} expected)")
            return None
        return _Reading(True, obs.valueInteger)
    unread = _other_value(obs, _UNREAD) or obs.dataAbsentReason is not None
    if is_lab(concept) or concept.kind == "score" or unread:
        _unusable(obs, concept, warn)
        return None
    if concept.unit is not None and not isinstance(obs, Observation):
        # a component of a quantity concept says nothing without its value
        _unusable(obs, concept, warn)
        return None
    if obs.valueBoolean is not None:
        if obs.valueBoolean and negative:
            warn("valueBoolean true contradicts interpretation NEG: left out")
            return None
        return _Reading(obs.valueBoolean, _component_duration(components, concept, warn))
    if obs.valueCodeableConcept is not None:
        if has_code([obs.valueCodeableConcept], SNOMED, PRESENT):
            if negative:
                warn("coded value SNOMED 52101004 Present contradicts interpretation NEG: left out")
                return None
            return _Reading(True, _component_duration(components, concept, warn))
        if has_code([obs.valueCodeableConcept], SNOMED, ABSENT):
            return _Reading(False)
        warn("coded value is neither SNOMED 52101004 Present nor 2667000 Absent: left out")
        return None
    return _Reading(not negative, _component_duration(components, concept, warn))


def _unusable(obs: Valued, concept: Concept, warn: Warn) -> None:
    """Warn why an Observation without a usable value for `concept` is left out."""
    other = _other_value(obs, ("Boolean", "CodeableConcept", *_UNREAD))
    if other is not None:
        warn(f"a value of type {other} is not read for {concept.label}: left out")
    elif obs.dataAbsentReason is not None:
        warn(f"no value ({_describe(obs.dataAbsentReason)}): left out")
    else:
        warn(f"a {concept.label} result without a value: left out")


def _concept_quantity(
    quantity: FhirQuantity, concept: Concept, obs: Valued, warn: Warn
) -> Quantity | float | None:
    """The recorded quantity if the concept can use it: a Quantity, or a number for a score."""
    try:
        value = read_quantity(quantity)
    except QuantityProblem as problem:
        warn(f"{problem}: value left out")
        return None
    _warn_disagreement(quantity, "value", warn)
    if concept.unit is None or units.dimension(concept.unit) == _NUMBER:
        if not units.is_plain_number(value.unit):
            # 40 % is not the score 40, nor is it one to guess as 0.4
            warn(f"{concept.label} is a number but the value is in {value.unit}: left out")
            return None
        return value.value
    if value.unit == "1" and quantity.unit is None and quantity.code is None:
        warn(f"value has no unit ({concept.unit} expected): left out")
        return None
    accepts = concept.accepted_units
    if accepts and not units.is_accepted(value.unit, (*accepts, concept.unit)):
        accepted = ", ".join(units.display(u) for u in concept.accepted_units)
        warn(f"{value.unit} is not a unit {concept.label} is read in ({accepted}): value left out")
        return None
    if not _convertible(value, concept):
        warn(
            f"{value.unit} ({units.dimension(value.unit)}) cannot be converted to "
            f"{concept.unit} for {concept.label}: value left out"
        )
        return None
    for coding in (obs.code.coding or []) if obs.code else []:
        if coding.system == loinc.LOINC and coding.code:
            read_as = units.read_as(value.unit, concept.same_as)
            mismatch = loinc.property_mismatch(coding.code, read_as)
            if mismatch:
                warn(mismatch)
    return value


def _convertible(value: Quantity, concept: Concept) -> bool:
    assert concept.unit is not None
    try:
        units.convert(
            value.value,
            value.unit,
            concept.unit,
            molar_mass=concept.molar_mass,
            valence=concept.valence,
            same_as=concept.same_as,
            accepted=concept.accepted_units,
        )
    except units.UnitError:
        return False
    return True


def _reference_limit(
    obs: Valued, value: Quantity, concept: Concept, warn: Warn, side: str
) -> Quantity | None:
    """The normal range's `low` or `high` limit, in the value's unit (the engine compares)."""
    for ref in obs.referenceRange or []:
        limit: FhirQuantity | None = getattr(ref, side)
        if limit is None or ref.appliesTo or ref.age is not None:
            continue
        if ref.type is not None and not has_code([ref.type], None, "normal"):
            continue
        where = f"referenceRange.{side}"
        try:
            bound = read_quantity(limit, where)
        except QuantityProblem as problem:
            warn(f"{problem}: reference range ignored")
            return None
        _warn_disagreement(limit, where, warn)
        if bound.unit == "1" and limit.unit is None and limit.code is None:
            warn(f"{where} has no unit: reference range ignored")
            return None
        try:
            number = units.convert(
                bound.value,
                bound.unit,
                value.unit,
                molar_mass=concept.molar_mass,
                valence=concept.valence,
                same_as=concept.same_as,
                accepted=concept.accepted_units,
            )
        except units.UnitError:
            warn(f"{where} in {bound.unit} cannot be compared with {value.unit}: ignored")
            return None
        return Quantity(number, value.unit)
    return None


def _component_duration(
    components: Sequence[ObservationComponent] | None, concept: Concept, warn: Warn
) -> Quantity | None:
    """A component quantity in the concept unit's dimension (a cramp's duration), if one."""
    if not components or concept.unit is None:
        return None
    wanted = units.dimension(concept.unit)
    found: list[tuple[Quantity, FhirQuantity]] = []
    for component in components:
        if component.valueQuantity is None:
            continue
        try:
            value = read_quantity(component.valueQuantity, "component value")
        except (UnitConflict, ImpossibleValue) as problem:
            warn(f"{problem}: component value left out")
            continue
        except QuantityProblem:
            continue  # other components (a severity score, free text units) are not ours
        if units.dimension(value.unit) == wanted:
            found.append((value, component.valueQuantity))
    if len(found) > 1:
        warn(f"{len(found)} components could be the {concept.label} value; none used")
        return None
    if not found:
        return None
    value, recorded = found[0]
    _warn_disagreement(recorded, "component value", warn)
    return value


def _warn_disagreement(quantity: FhirQuantity, what: str, warn: Warn) -> None:
    disagreement = unit_disagreement(quantity, what)
    if disagreement is not None:
        warn(disagreement)


def _effective(obs: Observation, warn: Warn) -> tuple[datetime | None, datetime | None]:
    if obs.effectiveDateTime is not None:
        return moment(obs.effectiveDateTime, "effectiveDateTime", warn), None
    if obs.effectiveInstant is not None:
        return moment(obs.effectiveInstant, "effectiveInstant", warn), None
    if obs.effectivePeriod is not None:
        return period(obs.effectivePeriod, "effectivePeriod", warn)
    if obs.effectiveTiming is not None:
        warn("effectiveTiming is not read: time unknown")
    else:
        warn("no effective[x]: time unknown")
    return None, None


def _other_value(obs: Valued, kinds: Sequence[str]) -> str | None:
    for kind in kinds:
        if getattr(obs, f"value{kind}", None) is not None:
            return kind
    return None


def _describe(concept: CodeableConcept) -> str:
    for coding in concept.coding or []:
        if coding.code:
            return f"dataAbsentReason {coding.code}"
    return f"dataAbsentReason {concept.text!r}" if concept.text else "dataAbsentReason"
