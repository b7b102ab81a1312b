"""MedicationRequests and MedicationStatements read into records of medication concepts, through
the library path (`patient_records`, which `evaluate_bundle` and the service use)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.codes import Code
from engine.model import Concept, Ruleset
from engine.records import Record
from fhir_adapters.cache import ResourceCache
from fhir_adapters.medications import ATC, DMD, RXNORM
from fhir_adapters.patients import PatientBatch, patient_records
from fhir_adapters.reading import RawResource
from fhir_adapters.references import refers_outside

SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"


def make_ruleset() -> Ruleset:
    concepts = (
        Concept(
            "ace_inhibitor",
            (Code(RXNORM, "35296"), Code(RXNORM, "29046")),
            kind="medication",
            prefixes=(Code(ATC, "C09A*"), Code(ATC, "C09B*")),
        ),
        Concept("nsaid", (Code(ATC, "M01A*"),), kind="medication"),
        Concept("potassium", (Code(LOINC, "2823-3"),), unit="mmol/L", kind="quantity"),
    )
    return Ruleset(
        id="medicines",
        version="0.0.0",
        status="draft",
        title="Medicines",
        description="Medication concepts built by hand",
        content_hash="1" * 64,
        concepts={c.name: c for c in concepts},
        sites={},
        parameters={},
        rules=(),
        products={
            (RXNORM, "198188"): (Code(RXNORM, "35296"),),  # ramipril 10 MG oral capsule
            (RXNORM, "314076"): (Code(RXNORM, "29046"),),  # lisinopril 10 MG oral tablet
            (DMD, "318906001"): (Code(ATC, "C09AA05"),),  # ramipril 10mg capsules
        },
    )


RULESET = make_ruleset()


def coded(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def request(rid: str, medication: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "authoredOn": "2026-01-10",
        **fields,
    }
    if medication is not None:
        resource["medicationCodeableConcept"] = medication
    return resource


def statement(sid: str, medication: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": sid,
        "status": "active",
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": medication,
        **fields,
    }


def bundle(*resources: dict[str, Any], urls: list[str] | None = None) -> dict[str, Any]:
    found = [{"resourceType": "Patient", "id": "p"}, *resources]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": r, **({"fullUrl": urls[i - 1]} if urls and i else {})}
            for i, r in enumerate(found)
        ],
    }


def read(*resources: dict[str, Any], cache: ResourceCache | None = None) -> PatientBatch:
    return patient_records(bundle(*resources), RULESET, cache)


def records(batch: PatientBatch) -> list[Record]:
    found = batch.get("Patient/p")
    assert found is not None
    return list(found.records)


def warnings(batch: PatientBatch) -> list[str]:
    found = batch.get("Patient/p")
    return [str(w) for w in (found.warnings if found else ())] + [str(w) for w in batch.warnings]


def test_a_request_coded_with_an_ingredient_is_a_record_of_its_group() -> None:
    batch = read(request("r1", coded(RXNORM, "35296")))

    assert records(batch) == [
        Record(
            "ace_inhibitor",
            "MedicationRequest/r1",
            time=datetime(2026, 1, 10, tzinfo=UTC),
            date_only=True,
            code="rxnorm#35296",
            status="active",
        )
    ]
    assert warnings(batch) == []


def test_a_medicine_keeps_its_written_name_for_the_card() -> None:
    named = coded(RXNORM, "198188", display="Ramipril 2.5 MG Oral Capsule")
    (record,) = records(read(request("r1", named)))
    assert record.display == "Ramipril 2.5 MG Oral Capsule"
    texted = {**coded(RXNORM, "35296", display="ramipril"), "text": "Ramipril 2.5mg capsules"}
    (record,) = records(read(request("r2", texted)))
    assert record.display == "Ramipril 2.5mg capsules"


def test_a_product_maps_through_the_table_and_is_the_records_product_key() -> None:
    (record,) = records(read(request("r1", coded(RXNORM, "198188"))))

    assert (record.concept, record.code, record.product) == (
        "ace_inhibitor",
        "rxnorm#35296",
        "rxnorm#198188",
    )


@pytest.mark.parametrize("system", [DMD, SCT])
def test_a_dmd_code_under_either_uri_maps_to_its_atc_class(system: str) -> None:
    (record,) = records(read(request("r1", coded(system, "318906001"))))

    assert (record.concept, record.code, record.product) == (
        "ace_inhibitor",
        "atc#C09AA05",
        "dmd#318906001",
    )


def test_an_atc_code_matches_a_prefix_whatever_its_case() -> None:
    batch = read(request("r1", coded(ATC, "c09aa05")), request("r2", coded(ATC, "M01AE01")))

    assert [(r.concept, r.code) for r in records(batch)] == [
        ("ace_inhibitor", "atc#C09AA05"),
        ("nsaid", "atc#M01AE01"),
    ]


def test_the_group_key_is_the_lowest_rxnorm_ingredient_else_the_lowest_atc_code() -> None:
    both = {
        "coding": [
            {"system": ATC, "code": "C09AA05"},
            {"system": RXNORM, "code": "35296"},
            {"system": RXNORM, "code": "29046"},
        ]
    }
    atc_only = {"coding": [{"system": ATC, "code": "C09BA05"}, {"system": ATC, "code": "C09AA05"}]}
    batch = read(request("r1", both), request("r2", atc_only))

    assert [r.code for r in records(batch)] == ["rxnorm#29046", "atc#C09AA05"]


def test_statements_read_their_period_and_last_assertion() -> None:
    batch = read(
        statement(
            "s1",
            coded(RXNORM, "35296"),
            effectivePeriod={"start": "2023-05-01", "end": "2026-02-01"},
            dateAsserted="2024-06-01",
        ),
        statement("s2", coded(RXNORM, "29046"), effectiveDateTime="2025-03-03T10:00:00Z"),
    )

    first, second = records(batch)
    assert (first.time, first.end, first.asserted) == (
        datetime(2023, 5, 1, tzinfo=UTC),
        datetime(2026, 2, 1, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 6, 1, tzinfo=UTC),
    )
    # without dateAsserted, a statement was last asserted when it started
    assert second.time == second.asserted == datetime(2025, 3, 3, 10, tzinfo=UTC)
    assert second.end is None


def test_a_requests_supply_ends_with_its_validity_else_its_expected_duration() -> None:
    supply = {"value": 28, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"}
    batch = read(
        request(
            "r1",
            coded(RXNORM, "35296"),
            dispenseRequest={
                "validityPeriod": {"end": "2026-03-01"},
                "expectedSupplyDuration": supply,
            },
        ),
        request("r2", coded(RXNORM, "29046"), dispenseRequest={"expectedSupplyDuration": supply}),
    )

    by_source = {r.source: r for r in records(batch)}
    assert by_source["MedicationRequest/r1"].end == datetime(
        2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC
    )
    assert by_source["MedicationRequest/r2"].end == datetime(2026, 2, 7, tzinfo=UTC)
    assert all(r.asserted is None for r in by_source.values())  # a request is always confirmed


def test_a_proposal_is_never_active_and_statuses_are_kept() -> None:
    batch = read(
        request("r1", coded(RXNORM, "35296"), intent="proposal"),
        request("r2", coded(RXNORM, "35296"), status="on-hold"),
        statement("s1", coded(RXNORM, "35296"), status="stopped", effectiveDateTime="2025-01-01"),
    )

    assert {r.source: r.status for r in records(batch)} == {
        "MedicationRequest/r1": "proposal",
        "MedicationRequest/r2": "on-hold",
        "MedicationStatement/s1": "stopped",
    }


def test_entered_in_error_is_dropped_without_a_record_or_a_warning() -> None:
    batch = read(request("r1", coded(RXNORM, "35296"), status="entered-in-error"))

    assert records(batch) == []
    assert warnings(batch) == []


def test_a_medication_in_the_bundle_is_read_by_id_and_by_full_url() -> None:
    medication = {
        "resourceType": "Medication",
        "id": "m1",
        "code": {"text": "a capsule"},
        "ingredient": [{"itemCodeableConcept": coded(RXNORM, "35296")}],
    }
    anonymous = {"resourceType": "Medication", "code": coded(ATC, "M01AE01")}
    by_id = request("r1", medicationReference={"reference": "Medication/m1"})
    by_url = request("r2", medicationReference={"reference": "urn:uuid:med-2"})
    batch = patient_records(
        bundle(
            medication, anonymous, by_id, by_url, urls=["urn:uuid:m1", "urn:uuid:med-2", "a", "b"]
        ),
        RULESET,
    )

    assert [(r.source, r.concept, r.code) for r in records(batch)] == [
        ("MedicationRequest/r1", "ace_inhibitor", "rxnorm#35296"),
        ("MedicationRequest/r2", "nsaid", "atc#M01AE01"),
    ]
    assert warnings(batch) == []


def test_a_contained_medication_is_read() -> None:
    contained = {"resourceType": "Medication", "id": "med", "code": coded(DMD, "318906001")}
    batch = read(request("r1", medicationReference={"reference": "#med"}, contained=[contained]))

    assert [(r.concept, r.product) for r in records(batch)] == [("ace_inhibitor", "dmd#318906001")]


@pytest.mark.parametrize("reference", ["Medication/absent", "#absent", "urn:uuid:nowhere"])
def test_an_unresolvable_reference_is_left_out_with_a_warning(reference: str) -> None:
    batch = read(request("r1", medicationReference={"reference": reference}))

    assert records(batch) == []
    assert warnings(batch) == [
        f"MedicationRequest/r1: medicationReference {reference!r} names no Medication that can"
        " be read: left out"
    ]


def test_an_active_medicine_no_code_of_which_is_known_is_a_warning_without_its_display() -> None:
    unknown = coded(RXNORM, "99999999", display="Secret brand name")
    batch = read(
        request("r1", unknown),
        request("r2", {"text": "some tablets"}),
        request("r3", unknown, status="stopped"),  # not active: nothing to check
        request("r4", coded(ATC, "A02BC01")),  # classified, of no concept: nothing to say
    )

    assert records(batch) == []
    assert warnings(batch) == [
        "MedicationRequest/r1: medication coded rxnorm#99999999 could not be read: no code"
        " Vigil knows",
        "MedicationRequest/r2: medication without a coding could not be read: no code Vigil knows",
    ]


def test_a_medication_concept_reads_no_observation_and_a_lab_concept_no_medicine() -> None:
    observation = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "subject": {"reference": "Patient/p"},
        "code": coded(RXNORM, "35296"),
        "effectiveDateTime": "2026-01-01T00:00:00Z",
    }
    batch = read(observation, request("r1", coded(LOINC, "2823-3")))

    assert records(batch) == []


def test_a_referenced_medication_is_read_again_for_each_input_despite_a_cache() -> None:
    cache = ResourceCache()
    by_id = request("r1", medicationReference={"reference": "Medication/m"})
    codes = []
    for code in ("C09AA05", "M01AE01", "C09AA05", "M01AE01"):
        medication = {"resourceType": "Medication", "id": "m", "code": coded(ATC, code)}
        codes.append([r.code for r in records(read(medication, by_id, cache=cache))])

    assert codes == [["atc#C09AA05"], ["atc#M01AE01"], ["atc#C09AA05"], ["atc#M01AE01"]]


def test_no_medicine_is_read_for_a_ruleset_without_medication_concepts(
    fhir_ruleset: Ruleset,
) -> None:
    batch = patient_records(bundle(request("r1", {"text": "anything"})), fhir_ruleset)

    assert batch.patients[0].records == () and batch.patients[0].warnings == ()


def test_an_invalid_medication_is_named_and_its_medicine_left_out() -> None:
    medication = {"resourceType": "Medication", "id": "m", "code": {"coding": "ATC C09AA05"}}
    batch = read(medication, request("r1", medicationReference={"reference": "Medication/m"}))

    assert records(batch) == []
    first, second = warnings(batch)
    assert first.startswith("Medication/m: not valid FHIR R4, left out: code.coding")
    assert second == (
        "MedicationRequest/r1: medicationReference 'Medication/m' names no Medication that can"
        " be read: left out"
    )


def test_a_dmd_concept_code_matches_a_coding_under_the_snomed_uri() -> None:
    ruleset = replace(
        RULESET,
        concepts={
            "ramipril": Concept("ramipril", (Code(DMD, "39703711000001105"),), kind="medication")
        },
    )
    batch = patient_records(bundle(request("r1", coded(SCT, "39703711000001105"))), ruleset)

    assert [(r.concept, r.code) for r in records(batch)] == [("ramipril", "dmd#39703711000001105")]


def test_a_medicine_without_a_start_is_kept_with_a_warning() -> None:
    undated = request("r1", coded(RXNORM, "35296"))
    del undated["authoredOn"]
    batch = read(
        undated,
        statement("s1", coded(RXNORM, "35296"), effectivePeriod={"end": "2026-01-01"}),
    )

    assert [r.time for r in records(batch)] == [None, None]
    assert warnings(batch) == [
        "MedicationRequest/r1: no authoredOn: start unknown",
        "MedicationStatement/s1: no effectivePeriod.start or effectiveDateTime: start unknown",
    ]


def test_a_medication_included_in_a_search_result_is_read_by_its_type_and_id() -> None:
    """The service's prefetch: `MedicationRequest?patient=..&_include=MedicationRequest:medication`
    returns the Medications beside the requests, with absolute fullUrls."""
    base = "https://fhir.example.org/r4"
    medication = {"resourceType": "Medication", "id": "m", "code": coded(RXNORM, "198188")}
    ordered = request("r1", medicationReference={"reference": "Medication/m"})
    searchset = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {
                "fullUrl": f"{base}/MedicationRequest/r1",
                "resource": ordered,
                "search": {"mode": "match"},
            },
            {
                "fullUrl": f"{base}/Medication/m",
                "resource": medication,
                "search": {"mode": "include"},
            },
        ],
    }
    batch = patient_records([{"resourceType": "Patient", "id": "p"}, searchset], RULESET)

    assert [(r.concept, r.code, r.product) for r in records(batch)] == [
        ("ace_inhibitor", "rxnorm#35296", "rxnorm#198188")
    ]
    assert warnings(batch) == []


def test_a_product_a_concept_lists_is_grouped_by_its_ingredient() -> None:
    # a lower CUI than its ingredient's: a value set of products would otherwise make each
    # product (each strength) a group of its own
    ruleset = replace(
        RULESET,
        concepts={
            "acei": Concept(
                "acei", (Code(RXNORM, "1000"), Code(RXNORM, "35296")), kind="medication"
            )
        },
        products={(RXNORM, "1000"): (Code(RXNORM, "35296"),)},
    )
    batch = patient_records(bundle(request("r1", coded(RXNORM, "1000"))), ruleset)

    assert [(r.code, r.product) for r in records(batch)] == [("rxnorm#35296", "rxnorm#1000")]


@pytest.mark.parametrize(
    ("supply", "end", "warned"),
    [
        ({"value": 2, "unit": "months"}, datetime(2026, 3, 10, tzinfo=UTC), []),
        (
            {"value": 1, "unit": "a", "code": "a", "system": "http://unitsofmeasure.org"},
            datetime(2027, 1, 10, tzinfo=UTC),
            [],
        ),
        (
            {"value": 3, "unit": "fortnights"},
            None,
            [
                "MedicationRequest/r1: expectedSupplyDuration in 'fortnights' is not read: supply"
                " end unknown"
            ],
        ),
        (
            {"value": 1e15, "unit": "d", "code": "d", "system": "http://unitsofmeasure.org"},
            None,
            [
                "MedicationRequest/r1: expectedSupplyDuration ends past the calendar:"
                " supply end unknown"
            ],
        ),
    ],
)
def test_an_expected_supply_duration_is_read_on_the_calendar_or_warned_about(
    supply: dict[str, Any], end: datetime | None, warned: list[str]
) -> None:
    batch = read(
        request("r1", coded(RXNORM, "35296"), dispenseRequest={"expectedSupplyDuration": supply})
    )

    assert [r.end for r in records(batch)] == [end]
    assert warnings(batch) == warned


def test_a_medicine_refers_outside_itself_only_through_a_reference_not_contained() -> None:
    def raw(resource: dict[str, Any]) -> RawResource:
        return RawResource(resource, "test")

    assert refers_outside(raw(request("r1", medicationReference={"reference": "Medication/m"})))
    assert not refers_outside(raw(request("r2", medicationReference={"reference": "#m"})))
    assert not refers_outside(raw(request("r3", coded(RXNORM, "35296"))))


def test_a_medication_reference_naming_another_type_or_another_bundle_is_not_read() -> None:
    specimen = {"resourceType": "Specimen", "id": "m"}
    medication = {"resourceType": "Medication", "code": coded(RXNORM, "35296")}
    elsewhere = bundle(medication, urls=["urn:uuid:m"])
    here = bundle(
        specimen,
        request("r1", medicationReference={"reference": "Specimen/m"}),
        request("r2", medicationReference={"reference": "urn:uuid:m"}),
    )
    batch = patient_records([elsewhere, here], RULESET)

    assert records(batch) == []
    assert warnings(batch) == [
        f"MedicationRequest/{rid}: medicationReference {reference!r} names no Medication that"
        " can be read: left out"
        for rid, reference in (("r1", "Specimen/m"), ("r2", "urn:uuid:m"))
    ]


def test_a_partial_start_date_warns_as_every_reader_does() -> None:
    batch = read(statement("s1", coded(RXNORM, "35296"), effectivePeriod={"start": "2024-03"}))

    assert [r.time for r in records(batch)] == [datetime(2024, 3, 1, tzinfo=UTC)]
    assert any(
        "effectivePeriod.start '2024-03' gives only a month: read as its start, 2024-03-01, "
        "so whether it is current is uncertain" in w
        for w in warnings(batch)
    )


def test_a_supply_in_months_ends_on_the_calendar() -> None:
    month = {"value": 1, "unit": "month", "system": "http://unitsofmeasure.org", "code": "mo"}
    batch = read(
        request(
            "r1",
            coded(RXNORM, "35296"),
            authoredOn="2026-01-31",
            dispenseRequest={"expectedSupplyDuration": month},
        )
    )

    assert [r.end for r in records(batch)] == [datetime(2026, 2, 28, tzinfo=UTC)]
