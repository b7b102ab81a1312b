"""A Patient read into age and sex records for a ruleset's demographic concepts, through the
library path (`patient_records`, which `evaluate_bundle` and the service use)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.codes import Code
from engine.model import Concept, Ruleset
from engine.records import Record
from fhir_adapters.cache import ResourceCache
from fhir_adapters.patients import PatientBatch, patient_records


def make_ruleset(*fields: str) -> Ruleset:
    concepts = [Concept(f, (), kind="demographic", field=f) for f in fields]  # type: ignore[arg-type]
    concepts.append(Concept("potassium", (Code("http://loinc.org", "2823-3"),), unit="mmol/L"))
    return Ruleset(
        id="demographics",
        version="0.0.0",
        status="draft",
        title="Demographics",
        description="Demographic concepts built by hand",
        content_hash="2" * 64,
        concepts={c.name: c for c in concepts},
        sites={},
        parameters={},
        rules=(),
    )


BOTH = make_ruleset("age", "sex")


def patient(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p", **fields}


def potassium() -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "k",
        "status": "final",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
        "effectiveDateTime": "2026-01-01T09:00:00Z",
        "valueQuantity": {"value": 5.1, "unit": "mmol/L"},
    }


def read(*resources: dict[str, Any], ruleset: Ruleset = BOTH) -> PatientBatch:
    return patient_records(
        {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}, ruleset
    )


def only(batch: PatientBatch) -> tuple[list[Record], list[str]]:
    (found,) = batch.patients
    return [r for r in found.records if r.concept != "potassium"], [str(w) for w in found.warnings]


def test_birth_date_and_gender_are_age_and_sex_records() -> None:
    records, warnings = only(read(patient(birthDate="1956-12-07", gender="female")))

    assert records == [
        Record("age", "Patient/p", time=datetime(1956, 12, 7, tzinfo=UTC), date_only=True),
        Record("sex", "Patient/p", answer="female"),
    ]
    assert warnings == []


@pytest.mark.parametrize(
    ("birth", "first", "part"),
    [
        ("1956", datetime(1956, 1, 1, tzinfo=UTC), "year"),
        ("1956-03", datetime(1956, 3, 1, tzinfo=UTC), "month"),
    ],
)
def test_a_partial_birth_date_is_its_first_day_with_a_warning(
    birth: str, first: datetime, part: str
) -> None:
    records, warnings = only(read(patient(birthDate=birth, gender="male")))

    assert [r.time for r in records if r.concept == "age"] == [first]
    assert warnings == [
        f"Patient/p: birthDate {birth!r} gives only a {part}: read as its first day, "
        f"{first.date().isoformat()}, so the age may be a year too high"
    ]


def test_no_birth_date_or_gender_is_a_warning() -> None:
    records, warnings = only(read(patient()))

    assert records == []
    assert warnings == ["Patient/p: no birthDate: age unknown", "Patient/p: no gender: sex unknown"]


def test_no_patient_resource_while_the_ruleset_has_an_age_is_a_warning() -> None:
    records, warnings = only(read(potassium()))

    assert records == []
    assert warnings == ["Patient/p: no Patient resource in the input: age unknown"]


def test_only_the_fields_the_ruleset_has_are_read() -> None:
    records, warnings = only(read(patient(), potassium(), ruleset=make_ruleset("sex")))

    assert (records, warnings) == ([], ["Patient/p: no gender: sex unknown"])


def test_a_ruleset_without_demographics_reads_nothing_from_a_patient() -> None:
    invalid = patient(birthDate="not a date", gender=7)
    records, warnings = only(read(invalid, potassium(), ruleset=make_ruleset()))

    assert (records, warnings) == ([], [])


def test_an_invalid_patient_is_a_warning_and_still_a_patient() -> None:
    batch = read(patient(birthDate="07/12/1956", gender="female"))

    records, warnings = only(batch)
    assert batch.patients[0].patient == "Patient/p"
    assert records == []
    assert len(warnings) == 1 and warnings[0].startswith("Patient/p: not valid FHIR R4")


def test_a_patient_read_again_through_a_cache_gives_the_same_records() -> None:
    cache = ResourceCache()
    bundle = {"resourceType": "Bundle", "entry": [{"resource": patient(birthDate="1990-02-03")}]}
    batches = [patient_records(bundle, BOTH, cache) for _ in range(3)]

    assert len({b.patients[0].records for b in batches}) == 1
    assert cache.hits == 1
