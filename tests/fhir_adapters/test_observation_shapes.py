"""Observation shapes read through the library path (`patient_records`): components, coded
answers, markers from interpretations, Specimens and notes, reference ranges, and the warnings
that name every resource of a known concept left unread."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.records import Quantity, Record
from fhir_adapters.cache import ResourceCache
from fhir_adapters.patients import patient_records
from tests.vigil.test_evaluate_command import vigil

from .shapes import (
    LOINC,
    SCT,
    V2_0493,
    bundle,
    coded,
    observation,
    quantity,
    read,
    shapes_ruleset,
)

VIGIL = "https://vigil-cds.org/fhir/CodeSystem/vigil"


def bp_panel(oid: str = "bp", systolic: dict[str, Any] | None = None) -> dict[str, Any]:
    systolic_part: dict[str, Any] = {"code": coded(LOINC, "8480-6")}
    systolic_part.update(
        systolic if systolic is not None else {"valueQuantity": quantity(84, "mm[Hg]")}
    )
    return observation(
        oid,
        LOINC,
        "85354-9",
        component=[
            systolic_part,
            {"code": coded(LOINC, "8462-4"), "valueQuantity": quantity(50, "mm[Hg]")},
        ],
    )


def ecg_report(
    oid: str = "ecg", answer: tuple[str, str] | None = (SCT, "251259000")
) -> dict[str, Any]:
    fields = {"valueCodeableConcept": coded(*answer)} if answer is not None else {}
    return observation(oid, LOINC, "8601-7", **fields)


def potassium(oid: str = "k", **fields: Any) -> dict[str, Any]:
    return observation(oid, LOINC, "2823-3", valueQuantity=quantity(6.8, "mmol/L"), **fields)


def only(records: list[Record], concept: str) -> Record:
    found = [r for r in records if r.concept == concept]
    assert len(found) == 1, records
    return found[0]


# Components


def test_a_panel_component_of_a_concept_is_a_record_of_it() -> None:
    records, warnings = read(bundle(bp_panel()))
    assert warnings == []
    systolic = only(records, "systolic_bp")
    assert systolic.source == "Observation/bp"
    assert systolic.value == Quantity(84, "mm[Hg]")
    assert systolic.code == "loinc#8480-6"
    assert [r.concept for r in records] == ["systolic_bp"]  # the diastolic is no concept


@pytest.mark.parametrize(
    ("systolic", "why"),
    [
        ({"valueQuantity": {"value": 84, "unit": "mercury"}}, "unit 'mercury' is not one Vigil"),
        ({}, "result without a value: left out"),
        ({"valueQuantity": quantity(84, "mmol/L")}, "cannot be converted to mm[Hg]"),
        ({"valueString": "84"}, "a value of type String is not read"),
    ],
)
def test_a_component_of_a_concept_that_cannot_be_read_is_named(
    systolic: dict[str, Any], why: str
) -> None:
    records, warnings = read(bundle(bp_panel(systolic=systolic)))
    assert records == []
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("Observation/bp: component loinc#8480-6: ")
    assert why in warnings[0]


# Coded answers


def test_a_report_answered_with_a_finding_code_is_that_finding_present() -> None:
    records, warnings = read(bundle(ecg_report()))
    assert warnings == []
    ecg = only(records, "ecg_change")
    assert (ecg.present, ecg.code, ecg.source) == (True, "sct#251259000", "Observation/ecg")


def test_a_report_answered_otherwise_is_no_finding_and_no_warning() -> None:
    records, warnings = read(bundle(ecg_report(answer=(SCT, "164854000"))))  # normal ECG
    assert (records, warnings) == ([], [])


def test_a_report_without_a_coded_value_is_named() -> None:
    records, warnings = read(bundle(ecg_report(answer=None)))
    assert records == []
    assert warnings == [
        "Observation/ecg: a report that may show ecg change has no coded value: left out"
    ]


def test_a_coded_concept_reads_its_answer() -> None:
    rhythm = observation("r", LOINC, "8884-9", valueCodeableConcept=coded(SCT, "426177001"))
    records, warnings = read(bundle(rhythm))
    assert warnings == []
    assert only(records, "ecg_rhythm").answer == "sct#426177001"


def test_a_coded_concept_without_a_coded_value_is_named() -> None:
    rhythm = observation("r", LOINC, "8884-9", valueQuantity=quantity(60, "/min"))
    records, warnings = read(bundle(rhythm))
    assert records == []
    assert warnings == [
        "Observation/r: no coded value (valueCodeableConcept) for ecg rhythm: left out"
    ]


# Markers, reference range, notes, matched code


def test_an_interpretation_code_marks_the_result() -> None:
    marked = potassium(interpretation=[coded(VIGIL, "haemolysed-sample")])
    records, _ = read(bundle(marked))
    assert only(records, "potassium").markers == frozenset({"haemolysed"})


@pytest.mark.parametrize(
    ("reference", "url", "where"),
    [
        ("Specimen/s1", None, "bundle"),
        ("urn:uuid:5b1c", "urn:uuid:5b1c", "bundle"),
        ("#s1", None, "contained"),
    ],
)
def test_the_referenced_specimens_condition_marks_the_result(
    reference: str, url: str | None, where: str
) -> None:
    specimen = {"resourceType": "Specimen", "id": "s1", "condition": [coded(V2_0493, "HEM")]}
    if where == "contained":
        result = potassium(specimen={"reference": reference}, contained=[specimen])
        data = bundle(result)
    else:
        result = potassium(specimen={"reference": reference})
        data = bundle(result, specimen, urls={"s1": url} if url else None)
    records, warnings = read(data)
    assert warnings == []
    assert only(records, "potassium").markers == frozenset({"haemolysed"})


def test_the_old_v2_table_uri_of_a_specimen_condition_is_read() -> None:
    specimen = {
        "resourceType": "Specimen",
        "id": "s1",
        "condition": [coded("http://hl7.org/fhir/v2/0493", "HEM")],
    }
    records, _ = read(bundle(potassium(specimen={"reference": "Specimen/s1"}), specimen))
    assert only(records, "potassium").markers == frozenset({"haemolysed"})


def test_a_specimen_not_in_the_input_is_named_and_the_result_kept() -> None:
    records, warnings = read(bundle(potassium(specimen={"reference": "Specimen/gone"})))
    assert only(records, "potassium").markers == frozenset()
    assert warnings == [
        "Observation/k: specimen Specimen/gone is not in the input: its condition is not read"
    ]


def test_a_cached_result_is_marked_by_the_specimen_of_each_input() -> None:
    # the result's content is the same in every call; its Specimen's condition is not
    cache = ResourceCache()
    result = potassium(specimen={"reference": "Specimen/s1"})
    seen = []
    for condition in ["HEM", "HEM", "HEM", "CLOT", "CLOT"]:
        specimen = {
            "resourceType": "Specimen",
            "id": "s1",
            "condition": [coded(V2_0493, condition)],
        }
        batch = patient_records(bundle(result, specimen), shapes_ruleset(), cache)
        [record] = batch.patients[0].records
        seen.append(bool(record.markers))
    assert seen == [True, True, True, False, False]


@pytest.mark.parametrize(
    ("note", "marked"),
    [
        ("Haemolysed sample - repeat advised", True),
        ("Sample received. Hemolyzed specimen!", True),
        ("Mild haemolysis; repeat", True),
        ("No significant haemolysis detected.", False),
        ("Haemolysis index normal", False),
        ("Sample not haemolysed", False),
        ("non-haemolysed", False),
        ("Sample wasn't haemolysed", False),
        ("Repeat advised.\nHaemolysed", True),
        ("Normal sample. Haemolysed on recheck", True),  # the negation is another sentence
    ],
)
def test_note_sentences_mark_the_result_unless_negated(note: str, marked: bool) -> None:
    records, _ = read(bundle(potassium(note=[{"text": note}])))
    result = only(records, "potassium")
    assert result.markers == (frozenset({"haemolysed"}) if marked else frozenset())
    assert result.notes == (note,)


def test_the_reference_range_high_and_the_matched_code_are_kept() -> None:
    ranged = potassium(
        referenceRange=[{"low": quantity(3.5, "mmol/L"), "high": quantity(5.3, "mmol/L")}]
    )
    records, _ = read(bundle(ranged))
    result = only(records, "potassium")
    assert result.reference_high == Quantity(5.3, "mmol/L")
    assert result.reference_low == Quantity(3.5, "mmol/L")
    assert result.code == "loinc#2823-3"


@pytest.mark.parametrize(
    ("code", "unit", "warned"),
    [("2160-0", "umol/L", True), ("2160-0", "mg/dL", False), ("14682-9", "mg/dL", True)],
)
def test_a_creatinine_unit_that_disagrees_with_its_loinc_property_is_trusted_and_named(
    code: str, unit: str, warned: bool
) -> None:
    result = observation("c", LOINC, code, valueQuantity=quantity(88, unit))
    records, warnings = read(bundle(result))
    assert only(records, "creatinine").value == Quantity(88, unit)
    assert len(warnings) == warned
    assert all(w.startswith(f"Observation/c: LOINC {code} is a ") for w in warnings)


def test_a_score_is_read_as_a_number_and_one_without_a_value_is_named() -> None:
    scored = observation("n1", SCT, "1104051000000101", valueInteger=7)
    unscored = observation("n2", SCT, "1104051000000101")
    records, warnings = read(bundle(scored, unscored))
    assert only(records, "news2").value == 7
    assert warnings == ["Observation/n2: a news2 result without a value: left out"]


# Conditions


CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def condition(cid: str, code: str, **fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": cid,
        "code": coded(SCT, code),
        "subject": {"reference": "Patient/p"},
    }
    resource.update(fields)
    return resource


def test_an_undated_active_condition_of_a_windowed_finding_counts_now_in_no_window() -> None:
    # a counting Condition is present now whatever its date; undated, no window holds it
    records, warnings = read(bundle(condition("aki", "14669001")))
    record = only(records, "aki_coded")
    assert (record.time, record.ongoing, warnings) == (None, True, [])


def test_an_undated_condition_that_is_over_is_left_out_and_named() -> None:
    resolved = {"coding": [{"system": CLINICAL, "code": "resolved"}]}
    records, warnings = read(bundle(condition("aki", "14669001", clinicalStatus=resolved)))
    assert records == []
    assert warnings == [
        "Condition/aki: clinicalStatus 'resolved': a condition that is over is not a present"
        " finding"
    ]


def test_a_condition_of_a_windowed_concept_is_dated_by_its_recorded_date() -> None:
    records, warnings = read(bundle(condition("aki", "14669001", recordedDate="2026-02-20")))
    assert warnings == []
    assert only(records, "aki_coded").time is not None


def test_a_condition_no_rule_windows_keeps_being_read_without_a_date() -> None:
    records, warnings = read(bundle(condition("w", "26544005")))
    assert only(records, "weakness").time is None
    assert warnings == ["Condition/w: no onset[x]: onset unknown"]


# The acceptance file: every unread resource of a known concept is named


def test_a_file_with_a_panel_and_a_report_names_every_resource_left_unread() -> None:
    # the same file with medicines, through `vigil evaluate`: tests/vigil/test_unread_named.py
    data = bundle(
        bp_panel("bp-read"),
        bp_panel("bp-unread", systolic={"valueQuantity": {"value": 84, "unit": "mercury"}}),
        ecg_report("ecg-read"),
        ecg_report("ecg-unread", answer=None),
    )
    records, warnings = read(data)
    assert sorted(r.source for r in records) == ["Observation/bp-read", "Observation/ecg-read"]
    named = {warning.split(":")[0] for warning in warnings}
    assert named == {"Observation/bp-unread", "Observation/ecg-unread"}


BP_RULESET = """\
id: bp-test
version: 0.0.1
status: draft
title: Blood pressure test
description: Low systolic blood pressure, read from a panel's component.
levels:
  - {id: none, title: No action, indicator: info}
  - {id: urgent, title: Urgent, indicator: critical}
concepts:
  systolic_bp: {title: systolic blood pressure, codes: [loinc#8480-6], unit: "mm[Hg]"}
rules:
  - id: low-systolic
    title: Low systolic blood pressure
    when: systolic_bp < 90 mm[Hg]
    then: {suggest: urgent, summary: Systolic blood pressure is low}
"""


def test_vigil_evaluate_reads_a_panel_component_and_names_the_one_it_cannot(
    tmp_path: Path,
) -> None:
    ruleset = tmp_path / "ruleset.yaml"
    ruleset.write_text(BP_RULESET)
    data = tmp_path / "bp.json"
    unreadable = {"valueQuantity": {"value": 80, "unit": "mercury"}}
    data.write_text(json.dumps(bundle(bp_panel("bp1"), bp_panel("bp2", systolic=unreadable))))
    run = vigil("evaluate", data, "--ruleset", ruleset, "--as-of", "2026-03-01", "--format", "json")
    assert run.returncode == 0, run.stderr
    [result] = json.loads(run.stdout)["results"]
    assert result["escalation"] == "urgent"
    assert result["suggestions"][0]["evidence"] == ["Observation/bp1"]
    assert result["warnings"] == [
        {
            "source": "Observation/bp2",
            "message": "component loinc#8480-6: unit 'mercury' is not one Vigil can read:"
            " value left out",
        }
    ]
