"""Validated Observations and Conditions as engine `Record`s, as clinical-spec.md reads them.

Observations: only status final/amended/corrected counts; preliminary counts for findings and
scores, flagged `preliminary`, but a preliminary lab result (a concentration) is left out with a
warning, because the spec counts preliminary for findings only. A finding is present with
`valueBoolean: true`, no value, SNOMED Present, or a quantity (a cramp's duration); absent with
`valueBoolean: false`, SNOMED Absent, or interpretation NEG; a true or Present value with
interpretation NEG contradicts itself and is left out with a warning. A number (valueInteger or
valueQuantity) says neither for a finding without a unit that the ruleset reads only as present
or absent: it is left out with a warning. Grades and scores, whose value a rule compares, are
read as numbers. Quantities keep their recorded number and resolved UCUM unit (`_quantities`:
a `unit` text that disagrees with the UCUM code is warned about): the engine converts.

Conditions are present findings while active, recurrence or relapse, absent when refuted; one
that is over (resolved, inactive, remission) is left out with a warning.

Both: codes are matched on system and code, never display text; a resource whose codings mean
different concepts contradicts itself and is left out with a warning. A Period that ends before
it starts, or a Condition that abated before its onset, leaves its resource out with a warning;
a date-only end covers its whole day. A partial date (`2026`, `2026-03`) is read as the start
of its year or month (a Period's end as the end of it), with a warning that whether the record
is current is then uncertain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.quantity import Quantity as FhirQuantity
from fhir.resources.R4B.resource import Resource

from engine import units
from engine.evaluation import DataWarning
from engine.model import Concept, Ruleset
from engine.records import DATE_END_SLACK, DATE_OFFSET_SLACK, Quantity, Record

from . import loinc
from ._quantities import (
    ImpossibleValue,
    QuantityProblem,
    UnitConflict,
    read_quantity,
    unit_disagreement,
)
from ._time import instant, is_date_only, last_instant, partial_period
from .demographics import demographic_records
from .medications import medication_records
from .validation import Validated

__all__ = ["condition_records", "observation_records", "records_for"]

SNOMED = "http://snomed.info/sct"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
PRESENT, ABSENT = "52101004", "2667000"

COUNTED = frozenset({"final", "amended", "corrected"})
IGNORED = frozenset({"entered-in-error", "cancelled", "registered"})
_LAB_DIMENSIONS = frozenset(units.dimension(u) for u in ("mmol/L", "mg/dL", "meq/L"))
_NUMBER = units.dimension("1")
_UNREAD = ("String", "Range", "Ratio", "SampledData", "Time", "DateTime", "Period")

_ONGOING = frozenset({"active", "recurrence", "relapse"})
_OVER = frozenset({"inactive", "remission", "resolved"})
_PROVISIONAL = frozenset({"unconfirmed", "provisional", "differential"})

Records = tuple[list[Record], list[DataWarning]]
Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class _Reading:
    present: bool
    value: Quantity | float | int | None = None
    reference_low: Quantity | None = None


def records_for(
    item: Validated, ruleset: Ruleset, referenced: Mapping[str, Resource] | None = None
) -> Records:
    """The records one validated resource contributes; `referenced` holds the resources its
    references name, resolved within the input, by the reference as written."""
    model = item.model
    if isinstance(model, Observation):
        return observation_records(model, item.reference, ruleset)
    if isinstance(model, Condition):
        return condition_records(model, item.reference, ruleset)
    if isinstance(model, MedicationRequest | MedicationStatement):
        return medication_records(model, item.reference, ruleset, referenced)
    if isinstance(model, Patient):
        return demographic_records(model, item.reference, ruleset)
    return [], []


def is_lab(concept: Concept) -> bool:
    """A concentration measured by a laboratory, as opposed to a finding, score or duration."""
    return concept.unit is not None and units.dimension(concept.unit) in _LAB_DIMENSIONS


def is_presence_only(concept: Concept, ruleset: Ruleset) -> bool:
    """A finding the ruleset reads only as present or absent: no unit, and no rule compares
    its value (as one does a grade or a score)."""
    return concept.unit is None and not ruleset.compares_value(concept.name)


# Observations


def observation_records(obs: Observation, source: str, ruleset: Ruleset) -> Records:
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
    concepts = _concepts(obs.code, ruleset)
    if _contradictory(concepts, warn):
        return [], warnings
    preliminary = status == "preliminary"
    try:
        time, end = _effective(obs, warn)
    except _ContradictoryTime as problem:
        warn(str(problem))
        return [], warnings
    date_only = _date_only(obs, "effective")
    site = _site(obs.bodySite, ruleset)
    records: list[Record] = []
    for concept in concepts:
        if preliminary and is_lab(concept):
            warn(f"status 'preliminary': a preliminary {concept.label} result does not count")
            continue
        number = _number_kind(obs)
        if number is not None and is_presence_only(concept, ruleset):
            warn(
                f"a value{number} does not say whether {concept.label} is present or absent: "
                "left out"
            )
            continue
        reading = _read_observation(obs, concept, warn)
        if reading is None:
            continue
        records.append(
            Record(
                concept=concept.name,
                source=source,
                time=time,
                present=reading.present,
                value=reading.value,
                end=end,
                site=site,
                reference_low=reading.reference_low,
                preliminary=preliminary,
                date_only=date_only,
            )
        )
    return records, warnings


def _read_observation(obs: Observation, concept: Concept, warn: Warn) -> _Reading | None:
    negative = _has_code(obs.interpretation, INTERPRETATION, "NEG")
    if obs.valueQuantity is not None:
        value = _concept_quantity(obs.valueQuantity, concept, obs, warn)
        if value is None:
            return None
        low = _reference_low(obs, value, concept, warn) if isinstance(value, Quantity) else None
        return _Reading(True, value, low)
    if obs.valueInteger is not None:
        if concept.unit is not None and units.dimension(concept.unit) != _NUMBER:
            warn(f"an integer value for {concept.label} has no unit ({concept.unit} expected)")
            return None
        return _Reading(True, obs.valueInteger)
    if is_lab(concept) or _other_value(obs, _UNREAD) or obs.dataAbsentReason is not None:
        _unusable(obs, concept, warn)
        return None
    if obs.valueBoolean is not None:
        if obs.valueBoolean and negative:
            warn("valueBoolean true contradicts interpretation NEG: left out")
            return None
        return _Reading(obs.valueBoolean, _component_duration(obs.component, concept, warn))
    if obs.valueCodeableConcept is not None:
        if _has_code([obs.valueCodeableConcept], SNOMED, PRESENT):
            if negative:
                warn("coded value SNOMED 52101004 Present contradicts interpretation NEG: left out")
                return None
            return _Reading(True, _component_duration(obs.component, concept, warn))
        if _has_code([obs.valueCodeableConcept], SNOMED, ABSENT):
            return _Reading(False)
        warn("coded value is neither SNOMED 52101004 Present nor 2667000 Absent: left out")
        return None
    return _Reading(not negative, _component_duration(obs.component, concept, warn))


def _unusable(obs: Observation, concept: Concept, warn: Warn) -> None:
    """Warn why an Observation without a usable value for `concept` is left out."""
    other = _other_value(obs, ("Boolean", "CodeableConcept", *_UNREAD))
    if other is not None:
        warn(f"a value of type {other} is not read for {concept.label}: left out")
    elif obs.dataAbsentReason is not None:
        warn(f"no value ({_describe(obs.dataAbsentReason)}): left out")
    else:
        warn(f"a {concept.label} result without a value: left out")


def _concept_quantity(
    quantity: FhirQuantity, concept: Concept, obs: Observation, warn: Warn
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
    if not _convertible(value, concept):
        warn(
            f"{value.unit} ({units.dimension(value.unit)}) cannot be converted to "
            f"{concept.unit} for {concept.label}: value left out"
        )
        return None
    for coding in (obs.code.coding or []) if obs.code else []:
        if coding.system == loinc.LOINC and coding.code:
            mismatch = loinc.property_mismatch(coding.code, value.unit)
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
        )
    except units.UnitError:
        return False
    return True


def _reference_low(
    obs: Observation, value: Quantity, concept: Concept, warn: Warn
) -> Quantity | None:
    """The normal range's lower limit, in the value's unit (the engine compares them)."""
    for ref in obs.referenceRange or []:
        if ref.low is None or ref.appliesTo or ref.age is not None:
            continue
        if ref.type is not None and not _has_code([ref.type], None, "normal"):
            continue
        try:
            low = read_quantity(ref.low, "referenceRange.low")
        except QuantityProblem as problem:
            warn(f"{problem}: reference range ignored")
            return None
        _warn_disagreement(ref.low, "referenceRange.low", warn)
        if low.unit == "1" and ref.low.unit is None and ref.low.code is None:
            warn("referenceRange.low has no unit: reference range ignored")
            return None
        try:
            number = units.convert(
                low.value,
                low.unit,
                value.unit,
                molar_mass=concept.molar_mass,
                valence=concept.valence,
            )
        except units.UnitError:
            warn(f"referenceRange.low in {low.unit} cannot be compared with {value.unit}: ignored")
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
        return _moment(obs.effectiveDateTime, "effectiveDateTime", warn), None
    if obs.effectiveInstant is not None:
        return _moment(obs.effectiveInstant, "effectiveInstant", warn), None
    if obs.effectivePeriod is not None:
        return _period(obs.effectivePeriod, "effectivePeriod", warn)
    if obs.effectiveTiming is not None:
        warn("effectiveTiming is not read: time unknown")
    else:
        warn("no effective[x]: time unknown")
    return None, None


def _number_kind(obs: Observation) -> str | None:
    return _other_value(obs, ("Quantity", "Integer"))


def _other_value(obs: Observation, kinds: Sequence[str]) -> str | None:
    for kind in kinds:
        if getattr(obs, f"value{kind}", None) is not None:
            return kind
    return None


# Conditions


def condition_records(condition: Condition, source: str, ruleset: Ruleset) -> Records:
    warnings: list[DataWarning] = []

    def warn(message: str) -> None:
        warnings.append(DataWarning(message, source))

    verification = _status_code(condition.verificationStatus)
    if verification == "entered-in-error":
        warn("verificationStatus 'entered-in-error': ignored")
        return [], warnings
    clinical = _status_code(condition.clinicalStatus)
    if clinical is not None and clinical not in _ONGOING | _OVER:
        warn(f"clinicalStatus {clinical!r} is not one Vigil reads: ignored")
        return [], warnings
    concepts = _concepts(condition.code, ruleset)
    if _contradictory(concepts, warn):
        return [], warnings
    present = verification != "refuted"
    if present and clinical in _OVER:
        # The spec counts active, recurrence and relapse only: a condition that is over is not
        # a present finding, and its history must not lengthen a span.
        warn(f"clinicalStatus {clinical!r}: a condition that is over is not a present finding")
        return [], warnings
    try:
        time = _onset(condition, warn)
        abated, end = _abatement(condition, warn)
        _check_abatement(condition)
    except _ContradictoryTime as problem:
        warn(str(problem))
        return [], warnings
    ongoing = present and clinical in _ONGOING and not abated
    date_only = _date_only(condition, "onset")
    sites = _sites(condition.bodySite, ruleset) or [None]
    records = [
        Record(
            concept=concept.name,
            source=source,
            time=time,
            present=present,
            end=end if present else None,
            ongoing=ongoing,
            site=site,
            preliminary=verification in _PROVISIONAL,
            date_only=date_only,
        )
        for concept in concepts
        for site in sites
    ]
    return records, warnings


def _onset(condition: Condition, warn: Warn) -> datetime | None:
    if condition.onsetDateTime is not None:
        return _moment(condition.onsetDateTime, "onsetDateTime", warn)
    if condition.onsetPeriod is not None:
        return _period(condition.onsetPeriod, "onsetPeriod", warn)[0]
    for kind in ("Age", "Range", "String"):
        if getattr(condition, f"onset{kind}", None) is not None:
            warn(f"onset{kind} is not read: onset unknown")
            return None
    warn("no onset[x]: onset unknown")
    return None


def _abatement(condition: Condition, warn: Warn) -> tuple[bool, datetime | None]:
    """(abated at all, when). An abatement Period's start is when the condition had ended; an
    abatement date, like a Period's end, covers its whole day."""
    if condition.abatementDateTime is not None:
        return True, _moment(condition.abatementDateTime, "abatementDateTime", warn, last=True)
    if condition.abatementPeriod is not None:
        start, end = _period(condition.abatementPeriod, "abatementPeriod", warn)
        return True, start or end
    for kind in ("Age", "Range", "String"):
        if getattr(condition, f"abatement{kind}", None) is not None:
            warn(f"abatement{kind} is not read: abatement time unknown")
            return True, None
    return False, None


def _check_abatement(condition: Condition) -> None:
    """Raise `_ContradictoryTime` when the condition abated before its onset."""
    onset, abatement = _time_value(condition, "onset"), _time_value(condition, "abatement")
    if onset is None or abatement is None or _in_order(onset[1], abatement[1]):
        return
    (began, start), (ended, end) = onset, abatement
    raise _ContradictoryTime(
        f"{ended} ({_shown(end)}) is before {began} ({_shown(start)}): left out"
    )


# Shared


class _ContradictoryTime(Exception):
    """A time that contradicts itself (a Period ending before it starts): the resource cannot
    be placed in time, so it is left out."""


def _moment(value: object, where: str, warn: Warn, *, last: bool = False) -> datetime | None:
    """The moment `value` stands for; with `last`, the last one it covers (a Period's end)."""
    moment = last_instant(value) if last else instant(value)
    if moment is None:
        warn(f"{where} {value!r} is not a date: time unknown")
    elif partial_period(value) is not None:
        _warn_partial(value, moment, where, warn, "end" if last else "start")
    return moment


def _warn_partial(value: object, moment: datetime, where: str, warn: Warn, side: str) -> None:
    # A month or a year is an interval, not an instant: read as one end of it, the record may
    # count as known or current when it was not (or the reverse), so the reader must know.
    warn(
        f"{where} {value!r} gives only a {partial_period(value)}: read as its {side}, "
        f"{moment.date().isoformat()}, so whether it is current is uncertain"
    )


def _period(period: Period, where: str, warn: Warn) -> tuple[datetime | None, datetime | None]:
    start = _moment(period.start, f"{where}.start", warn) if period.start is not None else None
    end = _moment(period.end, f"{where}.end", warn, last=True) if period.end is not None else None
    if start is None and end is None:
        warn(f"{where} has neither start nor end: time unknown")
    if start is not None and end is not None and not _in_order(period.start, period.end):
        raise _ContradictoryTime(
            f"{where} ends ({_shown(period.end)}) before it starts ({_shown(period.start)}):"
            " left out"
        )
    if start is None and end is not None:
        start = instant(period.end)  # known only to have ended: placed at the end's first moment
    return start, end


def _in_order(start: object, end: object) -> bool:
    """Whether a time from FHIR value `start` may have ended at `end` (all of it, for a date)."""
    first, last = instant(start), last_instant(end)
    if first is None or last is None:
        return True
    # a date has no offset: against a dateTime, a start date may have begun up to 14 hours
    # before its midnight UTC, and an end date lasted up to 12 hours past its last moment UTC
    slack = timedelta(0)
    if is_date_only(start) != is_date_only(end):
        slack = DATE_OFFSET_SLACK if is_date_only(start) else DATE_END_SLACK
    # as a difference: no bound of the calendar (year 1, 9999) can overflow it
    return first - last <= slack


def _time_value(resource: Observation | Condition, prefix: str) -> tuple[str, object] | None:
    """The FHIR value a record's time is read from (`effective`, `onset`), with its name: the
    dateTime, else the Period's start, else its end."""
    moment = getattr(resource, f"{prefix}DateTime", None)
    if moment is not None:
        return f"{prefix}DateTime", moment
    period: Period | None = getattr(resource, f"{prefix}Period", None)
    if period is not None and period.start is not None:
        return f"{prefix}Period.start", period.start
    if period is not None and period.end is not None:
        return f"{prefix}Period.end", period.end
    return None


def _date_only(resource: Observation | Condition, prefix: str) -> bool:
    """Whether a record's time is read from a date, which states no offset."""
    found = _time_value(resource, prefix)
    return found is not None and is_date_only(found[1])


def _shown(value: object) -> str:
    moment = instant(value)
    return moment.isoformat() if moment is not None and not is_date_only(value) else str(value)


def _concepts(code: CodeableConcept | None, ruleset: Ruleset) -> list[Concept]:
    found: list[Concept] = []
    for coding in (code.coding or []) if code is not None else []:
        if coding.system and coding.code:
            concept = ruleset.concept_for(coding.system, coding.code)
            if concept is not None and concept not in found:
                found.append(concept)
    return found


def _contradictory(concepts: Sequence[Concept], warn: Warn) -> bool:
    """Whether a code's codings mean different concepts, warned about: the resource is then
    left out."""
    if len(concepts) < 2:
        return False
    # Codings of one code are translations of one meaning: two concepts contradict each other,
    # and a value cannot be both a potassium and a magnesium, nor a condition both a cramp and
    # a weakness.
    named = ", ".join(concept.label for concept in concepts)
    warn(f"code has codings of different concepts ({named}): left out")
    return True


def _site(body_site: CodeableConcept | None, ruleset: Ruleset) -> str | None:
    """One body site as `system#code`: a coding the ruleset names if any, else the first."""
    # a coding is a site only as a code the engine can read: an absolute system, a code without
    # spaces (engine.parse_code); a bodySite coded otherwise names no site a ruleset could name
    codings = [
        c
        for c in (body_site.coding if body_site and body_site.coding else [])
        if c.system and c.code and ":" in c.system and " " not in c.code
    ]
    for coding in codings:
        assert coding.system is not None and coding.code is not None
        if ruleset.site_for(coding.system, coding.code) is not None:
            return f"{coding.system}#{coding.code}"
    return f"{codings[0].system}#{codings[0].code}" if codings else None


def _sites(body_sites: Iterable[CodeableConcept] | None, ruleset: Ruleset) -> list[str | None]:
    sites: list[str | None] = []
    for body_site in body_sites or []:
        site = _site(body_site, ruleset)
        if site is not None and site not in sites:
            sites.append(site)
    return sites


def _has_code(concepts: Iterable[CodeableConcept] | None, system: str | None, code: str) -> bool:
    """Whether any coding has `code` (in `system`, when given)."""
    return any(
        coding.code == code and (system is None or coding.system == system)
        for concept in concepts or []
        for coding in concept.coding or []
    )


def _status_code(status: CodeableConcept | None) -> str | None:
    for coding in (status.coding or []) if status is not None else []:
        if coding.code:
            return coding.code
    return None


def _describe(concept: CodeableConcept) -> str:
    for coding in concept.coding or []:
        if coding.code:
            return f"dataAbsentReason {coding.code}"
    return f"dataAbsentReason {concept.text!r}" if concept.text else "dataAbsentReason"
