"""A Patient as records of the ruleset's demographic concepts.

A concept of `field: age` gets a record whose `time` is the birth date's midnight UTC with
`date_only` (the engine counts completed years on the calendar); a partial birthDate (`1956`,
`1956-03`) is read as the first day of its year or month, with a warning; no birthDate is a
warning. A concept of `field: sex` gets a record whose `answer` is `Patient.gender`; no gender
is a warning. A ruleset without demographic concepts reads nothing from a Patient.
"""

from __future__ import annotations

from fhir.resources.R4B.patient import Patient

from engine.evaluation import DataWarning
from engine.model import Concept, Ruleset
from engine.records import Record

from .moments import read

__all__ = ["AGE_UNKNOWN", "age_concepts", "demographic_concepts", "demographic_records"]

AGE_UNKNOWN = "age unknown"


def demographic_concepts(ruleset: Ruleset) -> list[Concept]:
    return [c for c in ruleset.concepts.values() if c.kind == "demographic"]


def age_concepts(ruleset: Ruleset) -> list[Concept]:
    return [c for c in demographic_concepts(ruleset) if c.field == "age"]


def demographic_records(
    patient: Patient, source: str, ruleset: Ruleset
) -> tuple[list[Record], list[DataWarning]]:
    """The age and sex records of one Patient, and the warnings about what it lacks."""
    records: list[Record] = []
    warnings: list[DataWarning] = []
    concepts = demographic_concepts(ruleset)
    ages = [c for c in concepts if c.field == "age"]
    sexes = [c for c in concepts if c.field == "sex"]
    if ages:
        birth = patient.birthDate
        born = read(birth) if birth is not None else None
        if born is None:
            warnings.append(DataWarning(f"no birthDate: {AGE_UNKNOWN}", source))
        else:
            if born.precision in ("year", "month"):
                warnings.append(
                    DataWarning(
                        f"birthDate {birth!r} gives only a {born.precision}: read as its first "
                        f"day, {born.start.date().isoformat()}, so the age may be a year too high",
                        source,
                    )
                )
            records += [Record(c.name, source, time=born.start, date_only=True) for c in ages]
    if sexes:
        if patient.gender is None:
            warnings.append(DataWarning("no gender: sex unknown", source))
        else:
            records += [Record(c.name, source, answer=patient.gender) for c in sexes]
    return records, warnings
