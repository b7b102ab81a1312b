"""From FHIR input to each patient's records: grouping, isolation, and the real samples."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from typing import Any

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from engine.model import Ruleset
from engine.records import Quantity
from fhir_adapters.patients import PatientBatch, patient_records
from fhir_adapters.reading import load_resources

SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"


def potassium(oid: str, subject: str | None, value: float = 3.1) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2823-3"}]},
        "effectiveDateTime": "2024-03-01T09:00:00Z",
        "valueQuantity": {"value": value, "unit": "mmol/L"},
    }
    if subject is not None:
        resource["subject"] = {"reference": subject}
    return resource


def patient(pid: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid}


def entries(*pairs: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"fullUrl": url, "resource": r} for url, r in pairs],
    }


def sources(batch: PatientBatch) -> dict[str, list[str]]:
    return {p.patient: [r.source for r in p.records] for p in batch.patients}


def test_two_patients_in_one_bundle_never_mix(fhir_ruleset: Ruleset) -> None:
    bundle = entries(
        ("urn:uuid:a", patient("a")),
        ("urn:uuid:b", patient("b")),
        ("urn:uuid:1", potassium("1", "urn:uuid:a", 2.1)),
        ("urn:uuid:2", potassium("2", "Patient/b", 4.4)),
        ("urn:uuid:3", potassium("3", "https://ehr.example/fhir/Patient/b/_history/3")),
        ("urn:uuid:4", {**potassium("4", "Patient/a"), "status": "entered-in-error"}),
    )
    batch = patient_records(bundle, fhir_ruleset)
    assert sources(batch) == {
        "Patient/a": ["Observation/1"],
        "Patient/b": ["Observation/2", "Observation/3"],
    }
    a, b = batch.patients
    assert [w.source for w in a.warnings] == ["Observation/4"]
    assert b.warnings == ()
    assert [r.value for r in a.records] == [Quantity(2.1, "mmol/L")]


def test_a_full_url_reused_by_another_bundle_stays_with_its_own_patient(
    fhir_ruleset: Ruleset,
) -> None:
    first = entries(("urn:uuid:p", patient("a")), ("urn:uuid:1", potassium("1", "urn:uuid:p")))
    second = entries(("urn:uuid:p", patient("b")), ("urn:uuid:2", potassium("2", "urn:uuid:p")))
    nested = {"resourceType": "Bundle", "type": "collection", "entry": []}
    nested["entry"] = [{"resource": first}, {"resource": second}]
    for data in (nested, [first, second]):
        batch = patient_records(data, fhir_ruleset)
        assert sources(batch) == {"Patient/a": ["Observation/1"], "Patient/b": ["Observation/2"]}
        assert batch.warnings == ()


def test_a_full_url_is_not_resolved_outside_its_bundle(fhir_ruleset: Ruleset) -> None:
    inner = entries(("urn:uuid:1", potassium("1", "urn:uuid:p")))
    outer = entries(("urn:uuid:p", patient("a")))
    outer["entry"].append({"resource": inner})
    batch = patient_records(outer, fhir_ruleset)
    assert sources(batch) == {"Patient/a": []}
    assert [str(w) for w in batch.warnings] == ["Observation/1: no Patient subject: left out"]


def test_a_full_url_given_twice_in_one_bundle_leaves_its_resources_out(
    fhir_ruleset: Ruleset,
) -> None:
    bundle = entries(
        ("urn:uuid:p", patient("a")),
        ("urn:uuid:p", patient("b")),
        ("urn:uuid:1", potassium("1", "urn:uuid:p", 2.1)),
        ("urn:uuid:2", potassium("2", "Patient/b")),
    )
    batch = patient_records(bundle, fhir_ruleset)
    assert sources(batch) == {"Patient/a": [], "Patient/b": ["Observation/2"]}
    assert [str(w) for w in batch.warnings] == [
        "Observation/1: subject urn:uuid:p is the fullUrl of Patient/a, Patient/b in one Bundle:"
        " left out"
    ]


def test_patients_without_an_id_sharing_a_full_url_across_bundles_are_left_out(
    fhir_ruleset: Ruleset,
) -> None:
    # FHIR makes them two patients, but both would be named urn:uuid:p in the results
    idless = {"resourceType": "Patient"}
    first = entries(("urn:uuid:p", idless), ("urn:uuid:1", potassium("1", "urn:uuid:p", 2.1)))
    second = entries(("urn:uuid:p", idless), ("urn:uuid:2", potassium("2", "urn:uuid:p", 4.2)))
    batch = patient_records([first, second], fhir_ruleset)
    assert sources(batch) == {}
    assert [str(w) for w in batch.warnings] == [
        "urn:uuid:p: Patients without an id in 2 Bundles share this fullUrl (<input> item 0"
        " entry 0, <input> item 1 entry 0): which one a reference means cannot be told in the"
        " results, so their data is left out",
        "Observation/1: subject urn:uuid:p names Patients without an id in several Bundles:"
        " left out",
        "Observation/2: subject urn:uuid:p names Patients without an id in several Bundles:"
        " left out",
    ]


def test_patients_without_an_id_sharing_a_full_url_in_one_bundle_are_left_out(
    fhir_ruleset: Ruleset,
) -> None:
    bundle = entries(
        ("urn:uuid:p", {"resourceType": "Patient", "gender": "female"}),
        ("urn:uuid:p", {"resourceType": "Patient", "gender": "male"}),
        ("urn:uuid:1", potassium("1", "urn:uuid:p", 2.1)),
    )
    batch = patient_records(bundle, fhir_ruleset)
    assert sources(batch) == {}
    assert "Observation/1: subject urn:uuid:p is the fullUrl of resources without an id in" in (
        "\n".join(str(w) for w in batch.warnings)
    )


def test_the_same_patient_listed_twice_in_a_bundle_is_one_patient(fhir_ruleset: Ruleset) -> None:
    bundle = entries(
        ("urn:uuid:p", patient("a")),
        ("urn:uuid:p", patient("a")),
        ("urn:uuid:1", potassium("1", "urn:uuid:p", 2.1)),
    )
    assert sources(patient_records(bundle, fhir_ruleset)) == {"Patient/a": ["Observation/1"]}


def test_patients_without_records_still_appear_sorted(fhir_ruleset: Ruleset) -> None:
    batch = patient_records([patient("z"), patient("m"), potassium("1", "Patient/q")], fhir_ruleset)
    assert sources(batch) == {"Patient/m": [], "Patient/q": ["Observation/1"], "Patient/z": []}


def test_resources_without_a_patient_warn_on_the_batch(fhir_ruleset: Ruleset) -> None:
    batch = patient_records(
        [potassium("1", None), potassium("2", "Group/g"), potassium("3", "#contained")],
        fhir_ruleset,
    )
    assert batch.patients == ()
    assert [str(w) for w in batch.warnings] == [
        f"Observation/{i}: no Patient subject: left out" for i in "123"
    ]


def test_invalid_resource_warns_its_patient(fhir_ruleset: Ruleset) -> None:
    broken = {**potassium("1", "Patient/p"), "valueQuantity": {"value": "low"}}
    batch = patient_records([broken], fhir_ruleset)
    [data] = batch.patients
    assert data.records == ()
    assert [w.message.split(":")[0] for w in data.warnings] == ["not valid FHIR R4, left out"]


def test_unreadable_entries_reach_the_caller(fhir_ruleset: Ruleset) -> None:
    bundle = entries(("urn:uuid:1", potassium("1", "Patient/p")))
    bundle["entry"].append({"resource": {"id": "no-type"}})
    batch = patient_records(load_resources(bundle, origin="b.json"), fhir_ruleset)
    assert sources(batch) == {"Patient/p": ["Observation/1"]}
    assert [str(w) for w in batch.warnings] == [
        "b.json entry 1: not a FHIR resource (a JSON object without a resourceType)"
    ]


def test_duplicates_are_used_once(fhir_ruleset: Ruleset) -> None:
    first, changed = potassium("1", "Patient/p"), potassium("1", "Patient/p", 5.0)
    batch = patient_records([first, dict(first), changed], fhir_ruleset)
    assert [r.value for r in batch.patients[0].records] == [Quantity(3.1, "mmol/L")]
    assert [str(w) for w in batch.warnings] == [
        "Observation/1: read twice with different content; the copy at <input> item 0 is used"
    ]


def test_ndjson_export_groups_like_a_bundle(fhir_ruleset: Ruleset, tmp_path: Path) -> None:
    path = tmp_path / "Observation.ndjson"
    lines = [potassium("1", "Patient/a"), potassium("2", "Patient/b"), patient("a")]
    path.write_text("\n".join(json.dumps(r) for r in lines))
    assert sources(patient_records(path, fhir_ruleset)) == {
        "Patient/a": ["Observation/1"],
        "Patient/b": ["Observation/2"],
    }


# The shared real-world samples


def test_synthea_bundles_group_through_urn_uuids(fhir_ruleset: Ruleset, fhir_samples: Path) -> None:
    with_potassium = 0
    for path in sorted((fhir_samples / "synthea-r4").glob("*.json")):
        batch = patient_records(path, fhir_ruleset)
        [data] = batch.patients
        patient_id = json.loads(path.read_text())["entry"][0]["resource"]["id"]
        assert data.patient == f"Patient/{patient_id}"
        assert batch.warnings == () and data.warnings == ()
        assert {r.concept for r in data.records} <= {"potassium", "calcium"}
        for record in data.records:
            assert isinstance(record.value, Quantity) and record.value.unit == "mmol/L"
            assert 3.5 <= record.value.value <= 5.5  # the README: all in the normal range
        with_potassium += any(r.concept == "potassium" for r in data.records)
    assert with_potassium == 8


def test_pddi_magnesium_mass_code_in_mmol(fhir_ruleset: Ruleset, fhir_samples: Path) -> None:
    batch = patient_records(fhir_samples / "pddi-cds" / "Observation-o303.json", fhir_ruleset)
    [data] = batch.patients
    [record] = data.records
    assert (data.patient, record.concept, record.value) == (
        "Patient/f301",
        "magnesium",
        Quantity(0.8, "mmol/L"),
    )
    assert record.time == datetime(2018, 8, 28, tzinfo=UTC)
    assert [str(w) for w in data.warnings] == [
        "Observation/o303: element 'context' is not defined in FHIR R4; ignored",
        "Observation/o303: LOINC 19123-9 is a mass concentration but the value is in mmol/L "
        "(substance concentration); the unit is trusted",
    ]


def test_every_pddi_sample_used_warns_about_context(
    fhir_ruleset: Ruleset, fhir_samples: Path
) -> None:
    for path in sorted((fhir_samples / "pddi-cds").glob("*.json")):
        batch = patient_records(path, fhir_ruleset)
        for data in batch.patients:
            assert any("'context' is not defined" in w.message for w in data.warnings)


def test_us_core_calcium_without_ucum_code(fhir_ruleset: Ruleset, fhir_samples: Path) -> None:
    batch = patient_records(
        fhir_samples / "us-core" / "observation-serum-calcium.json", fhir_ruleset
    )
    [data] = batch.patients
    [record] = data.records
    assert (record.concept, record.value, record.reference_low) == (
        "calcium",
        Quantity(7.7, "mg/dL"),
        Quantity(8.5, "mg/dL"),
    )
    assert data.warnings == ()


def test_hl7_lab_panel_units_from_unit_text(fhir_ruleset: Ruleset, fhir_samples: Path) -> None:
    batch = patient_records(fhir_samples / "hl7-r4-examples" / "Bundle-ghp.json", fhir_ruleset)
    [data] = batch.patients
    values = {r.concept: r.value for r in data.records}
    assert values == {"potassium": Quantity(4.2, "mmol/L"), "calcium": Quantity(2.38, "mmol/L")}
    assert {w.message for w in data.warnings} == {"no effective[x]: time unknown"}


def test_hl7_findings(fhir_ruleset: Ruleset, fhir_samples: Path) -> None:
    # Their codes are not the ruleset's, so they are read and then not used.
    for name in ("Observation-abdo-tender.json", "Observation-vomiting.json"):
        batch = patient_records(fhir_samples / "hl7-r4-examples" / name, fhir_ruleset)
        assert batch == PatientBatch()


def test_every_sample_reads_without_input_errors(fhir_ruleset: Ruleset, fhir_samples: Path) -> None:
    for path in sorted(fhir_samples.rglob("*.json")):
        batch = patient_records(path, fhir_ruleset)
        assert batch.warnings == (), path


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=12,
)
fields = st.sampled_from(
    [
        "subject",
        "status",
        "valueQuantity",
        "valueBoolean",
        "valueCodeableConcept",
        "effectiveDateTime",
        "effectivePeriod",
        "component",
        "referenceRange",
        "interpretation",
        "bodySite",
        "clinicalStatus",
        "verificationStatus",
        "onsetDateTime",
        "abatementPeriod",
    ]
)


def used_resource(kind: str) -> dict[str, Any]:
    if kind == "Observation":
        return potassium("1", "Patient/p")
    return {
        "resourceType": "Condition",
        "id": "1",
        "code": {"coding": [{"system": SCT, "code": "82470000"}]},
        "subject": {"reference": "Patient/p"},
    }


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["Observation", "Condition"]), st.dictionaries(fields, junk, max_size=4))
def test_any_content_of_a_used_resource_never_raises(
    fhir_ruleset: Ruleset, kind: str, extra: dict[str, Any]
) -> None:
    batch = patient_records([{**used_resource(kind), **extra}], fhir_ruleset)
    assert all(p.patient == "Patient/p" for p in batch.patients)


def test_versions_of_one_patient_under_one_full_url_are_one_patient(
    fhir_ruleset: Ruleset,
) -> None:
    # FHIR lets a Bundle give one fullUrl to versions of a resource (bdl-7)
    bundle = entries(
        ("urn:uuid:p", {**patient("a"), "meta": {"versionId": "1"}}),
        ("urn:uuid:p", {**patient("a"), "meta": {"versionId": "2"}}),
        ("urn:uuid:1", potassium("1", "urn:uuid:p", 2.1)),
    )
    assert sources(patient_records(bundle, fhir_ruleset)) == {"Patient/a": ["Observation/1"]}


def test_a_full_url_shared_by_thousands_of_entries_keeps_two_targets() -> None:
    # more than one is already ambiguous: keeping them all made reading quadratic
    bundle = entries(
        *(("urn:uuid:p", {"resourceType": "Patient", "gender": str(n)}) for n in range(3000))
    )
    loaded = load_resources(bundle)
    scope = loaded.resources[0].bundle
    assert scope is not None and len(scope.targets("urn:uuid:p")) == 2


def test_of_two_versions_of_a_result_the_newer_is_read(fhir_ruleset: Ruleset) -> None:
    # a corrected result must not be read from the version it replaced
    first = {**potassium("1", "Patient/a", 2.1), "meta": {"versionId": "1"}}
    corrected = {**potassium("1", "Patient/a", 4.2), "meta": {"versionId": "2"}}
    for order in ([first, corrected], [corrected, first]):
        batch = patient_records([patient("a"), *order], fhir_ruleset)
        [a] = batch.patients
        assert [r.value for r in a.records] == [Quantity(4.2, "mmol/L")]
        [warning] = batch.warnings
        assert warning.message.endswith("is used (a newer version)")


def test_last_updated_orders_copies_without_version_ids(fhir_ruleset: Ruleset) -> None:
    older = {**potassium("1", "Patient/a", 2.1), "meta": {"lastUpdated": "2026-02-01T09:00:00Z"}}
    newer = {**potassium("1", "Patient/a", 4.2), "meta": {"lastUpdated": "2026-02-02T09:00:00Z"}}
    [a] = patient_records([patient("a"), older, newer], fhir_ruleset).patients
    assert [r.value for r in a.records] == [Quantity(4.2, "mmol/L")]


def test_version_ids_decide_when_only_one_copy_has_last_updated(fhir_ruleset: Ruleset) -> None:
    v1 = {
        **potassium("1", "Patient/a", 2.1),
        "meta": {"versionId": "1", "lastUpdated": "2026-02-01T09:00:00Z"},
    }
    v2 = {**potassium("1", "Patient/a", 4.2), "meta": {"versionId": "2"}}
    [a] = patient_records([patient("a"), v1, v2], fhir_ruleset).patients
    assert [r.value for r in a.records] == [Quantity(4.2, "mmol/L")]


@pytest.mark.parametrize("version", ["\u00b2", "9" * 5000])
def test_a_version_id_that_is_no_number_orders_nothing(fhir_ruleset: Ruleset, version: str) -> None:
    odd = {**potassium("1", "Patient/a", 2.1), "meta": {"versionId": version}}
    plain = {**potassium("1", "Patient/a", 4.2), "meta": {"versionId": "1"}}
    batch = patient_records([patient("a"), odd, plain], fhir_ruleset)  # no crash
    assert any(w.message.endswith("the copy at <input> item 1 is used") for w in batch.warnings), (
        batch.warnings
    )  # the first, as when nothing orders copies


def test_a_copy_the_ruleset_does_not_use_does_not_displace_one_it_does(
    fhir_ruleset: Ruleset,
) -> None:
    unused = {
        **potassium("1", "Patient/a"),
        "code": {"coding": [{"system": "http://loinc.org", "code": "2951-2"}]},
    }
    used = potassium("1", "Patient/a", 2.1)
    [a] = patient_records([patient("a"), unused, used], fhir_ruleset).patients
    assert [r.value for r in a.records] == [Quantity(2.1, "mmol/L")]


def test_the_newest_of_three_versions_is_read_in_any_order(fhir_ruleset: Ruleset) -> None:
    versions = [
        {**potassium("1", "Patient/a", value), "meta": {"versionId": version}}
        for version, value in (("1", 2.1), ("3", 4.4), ("2", 3.0))
    ]
    for order in itertools.permutations(versions):
        [a] = patient_records([patient("a"), *order], fhir_ruleset).patients
        assert [r.value for r in a.records] == [Quantity(4.4, "mmol/L")]


def test_a_newer_version_the_ruleset_does_not_read_supersedes_the_older(
    fhir_ruleset: Ruleset,
) -> None:
    # v2 corrected the code to one the ruleset does not read: v1's potassium is not current
    v1 = {**potassium("1", "Patient/a", 2.1), "meta": {"versionId": "1"}}
    sodium = {"coding": [{"system": "http://loinc.org", "code": "2951-2"}]}
    v2 = {**potassium("1", "Patient/a"), "code": sodium, "meta": {"versionId": "2"}}
    for order in ([v1, v2], [v2, v1]):
        batch = patient_records([patient("a"), *order], fhir_ruleset)
        [a] = batch.patients
        assert a.records == ()
        assert [w.message for w in batch.warnings] == [
            f"superseded by a newer version at <input> item {1 + order.index(v2)}, which the"
            " ruleset does not read: left out"
        ]


def test_copies_that_mix_version_ids_and_times_are_chosen_the_same_in_any_order(
    fhir_ruleset: Ruleset,
) -> None:
    def copy(value: float, **meta: str) -> dict[str, Any]:
        return {**potassium("1", "Patient/a", value), "meta": meta}

    copies = [
        copy(2.1, versionId="1", lastUpdated="2026-02-03T00:00:00Z"),
        copy(3.0, versionId="2", lastUpdated="2026-02-01T00:00:00Z"),
        copy(1.0, lastUpdated="2026-02-02T00:00:00Z"),
    ]
    chosen = set()
    for order in itertools.permutations(copies):
        [a] = patient_records([patient("a"), *order], fhir_ruleset).patients
        chosen.add(tuple(r.value for r in a.records))
    assert chosen == {(Quantity(2.1, "mmol/L"),)}  # by lastUpdated: not every copy has a versionId


def test_a_full_url_of_a_patient_without_an_id_is_not_resolved_outside_its_bundle(
    fhir_ruleset: Ruleset,
) -> None:
    # the Patient is known by its fullUrl, but only its own Bundle can refer to it by that
    idless = {"resourceType": "Patient"}
    first = entries(("urn:uuid:p", idless), ("urn:uuid:1", potassium("1", "urn:uuid:p", 4.2)))
    second = entries(("urn:uuid:2", potassium("2", "urn:uuid:p", 2.1)))
    nested = entries(("urn:uuid:p", idless))
    nested["entry"].append({"resource": second})
    ndjson = (
        json.dumps(entries(("urn:uuid:p", idless)))
        + "\n"
        + json.dumps(potassium("2", "urn:uuid:p"))
    )
    for data, owned in (([first, second], ["Observation/1"]), (nested, []), (ndjson, [])):
        batch = patient_records(data, fhir_ruleset)
        assert sources(batch) == {"urn:uuid:p": owned}
        assert [str(w) for w in batch.warnings] == ["Observation/2: no Patient subject: left out"]


def test_resources_without_an_id_sharing_a_full_url_in_two_bundles_are_two_resources(
    fhir_ruleset: Ruleset,
) -> None:
    # the same urn:uuid in another Bundle names another resource: not a copy of this one
    def idless(value: float) -> dict[str, Any]:
        resource = potassium("x", "urn:uuid:p", value)
        del resource["id"]
        return resource

    first = entries(("urn:uuid:p", patient("a")), ("urn:uuid:1", idless(2.1)))
    second = entries(("urn:uuid:p", patient("b")), ("urn:uuid:1", idless(4.2)))
    for data in ([first, second], [second, first]):
        batch = patient_records(data, fhir_ruleset)
        values = {p.patient: [r.value for r in p.records] for p in batch.patients}
        assert values == {
            "Patient/a": [Quantity(2.1, "mmol/L")],
            "Patient/b": [Quantity(4.2, "mmol/L")],
        }
        assert batch.warnings == ()


def test_resources_without_an_id_sharing_an_absolute_full_url_are_copies_across_bundles(
    fhir_ruleset: Ruleset,
) -> None:
    # unlike a urn, an absolute fullUrl names one resource on its server, whichever Bundle
    url = "https://ehr.example/fhir/Observation/3"
    first = entries((url, idless(potassium("?", "Patient/a", 2.1))))
    second = entries((url, idless(potassium("?", "Patient/a", 4.2))))
    batch = patient_records([patient("a"), first, second], fhir_ruleset)
    assert sources(batch) == {"Patient/a": ["Observation/3"]}
    assert [str(w) for w in batch.warnings] == [
        "Observation/3: read twice with different content; the copy at <input> item 1 entry 0"
        " is used"
    ]


def test_a_copy_of_the_same_version_the_ruleset_does_not_read_supersedes_nothing(
    fhir_ruleset: Ruleset,
) -> None:
    # an equal versionId is no newer version: the copy the ruleset reads is read
    sodium = {"coding": [{"system": LOINC, "code": "2951-2"}]}
    unread = {**potassium("1", "Patient/a"), "code": sodium, "meta": {"versionId": "2"}}
    read = {**potassium("1", "Patient/a", 2.1), "meta": {"versionId": "2"}}
    for order in ([unread, read], [read, unread]):
        [a] = patient_records([patient("a"), *order], fhir_ruleset).patients
        assert [r.value for r in a.records] == [Quantity(2.1, "mmol/L")]


@pytest.mark.parametrize(
    "meta",
    [
        ({"versionId": "2"}, {"versionId": "2"}),
        ({"versionId": "01"}, {"versionId": "1"}),
        ({"lastUpdated": "2026-02-01T10:00:00+01:00"}, {"lastUpdated": "2026-02-01T09:00:00Z"}),
    ],
)
def test_copies_of_one_version_with_different_content_are_no_newer_than_each_other(
    fhir_ruleset: Ruleset, meta: tuple[dict[str, str], dict[str, str]]
) -> None:
    older = {**potassium("1", "Patient/a", 4.4), "meta": {"versionId": "0"}}
    first = {**potassium("1", "Patient/a", 2.1), "meta": {"versionId": "1", **meta[0]}}
    second = {**potassium("1", "Patient/a", 4.2), "meta": {"versionId": "1", **meta[1]}}
    if "lastUpdated" in meta[0]:
        older["meta"] = {"lastUpdated": "2026-01-01T00:00:00Z"}
        first["meta"], second["meta"] = meta
    batch = patient_records([patient("a"), older, first, second], fhir_ruleset)
    [a] = batch.patients
    assert [r.value for r in a.records] == [Quantity(2.1, "mmol/L")]  # not the older version
    assert [w.message for w in batch.warnings] == [
        "read twice with different content; the copy at <input> item 2 is used"
    ] * 2  # not "(a newer version)": neither is


@pytest.mark.parametrize("meta", [{}, {"versionId": "2"}])
def test_a_differing_copy_the_ruleset_does_not_read_is_not_passed_over_silently(
    fhir_ruleset: Ruleset, meta: dict[str, str]
) -> None:
    # the copies disagree on what was measured: the one read is not beyond doubt
    sodium = {"coding": [{"system": LOINC, "code": "2951-2"}]}
    unread = {**potassium("1", "Patient/a"), "code": sodium, "meta": meta}
    read = {**potassium("1", "Patient/a", 2.1), "meta": meta}
    for order in ([unread, read], [read, unread]):
        batch = patient_records([patient("a"), *order], fhir_ruleset)
        [a] = batch.patients
        assert [r.value for r in a.records] == [Quantity(2.1, "mmol/L")]
        assert [str(w) for w in batch.warnings] == [
            "Observation/1: read twice with different content; the copy at <input> item"
            f" {1 + order.index(read)} is used"
        ]


# Property: the order of entries and Bundles changes nothing, when copies can be told apart

subjects = st.sampled_from(["Patient/a", "urn:uuid:a", "Patient/b", "urn:uuid:b", "urn:uuid:z"])
full_urls = st.sampled_from(["urn:uuid:1", "https://ehr.example/fhir/Observation/3"])


@st.composite
def observation_entry(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    resource = potassium("?", draw(subjects), draw(st.sampled_from([2.1, 4.2])))
    oid = draw(st.sampled_from(["1", None]))
    if oid is None:
        del resource["id"]
    else:
        resource["id"] = oid
    resource["meta"] = {"versionId": str(draw(st.integers(1, 12)))}
    if draw(st.booleans()):
        resource["code"] = {"coding": [{"system": LOINC, "code": "2951-2"}]}  # not read
    return draw(full_urls), resource


@st.composite
def bundle_entries(draw: st.DrawFn) -> list[tuple[str, dict[str, Any]]]:
    found = [
        (f"urn:uuid:{pid}", patient(pid) if draw(st.booleans()) else {"resourceType": "Patient"})
        for pid in draw(st.sets(st.sampled_from("ab")))
    ]
    return found + draw(st.lists(observation_entry(), max_size=4))


Bundles = list[list[tuple[str, dict[str, Any]]]]


def copies_of_each_resource(bundles: Bundles) -> list[list[tuple[int, dict[str, Any]]]]:
    """Each resource's copies, with their Bundle's index, as they are told apart: by id, else by
    an absolute fullUrl (which names one resource in any Bundle), else by a urn fullUrl within
    its Bundle."""
    copies: dict[object, list[tuple[int, dict[str, Any]]]] = {}
    for index, found in enumerate(bundles):
        for url, resource in found:
            if "id" in resource:
                key: object = (resource["resourceType"], resource["id"])
            elif url.startswith("urn:"):
                key = (index, url)
            else:
                key = tuple(url.split("/")[-2:])
            copies.setdefault(key, []).append((index, resource))
    return list(copies.values())


def version(resource: dict[str, Any]) -> int:
    return int(resource.get("meta", {}).get("versionId", 0))


def versions_tell_copies_apart(bundles: Bundles) -> bool:
    """Whether each resource's differing copies have one newest versionId (else the first read
    is used, as documented, which depends on the order)."""
    for same in copies_of_each_resource(bundles):
        resources = [r for _, r in same]
        distinct = [r for n, r in enumerate(resources) if r not in resources[:n]]
        versions = sorted(version(r) for r in distinct)
        if len(distinct) > 1 and versions[-1:] == versions[-2:-1]:
            return False
    return True


def owner(found: list[tuple[str, dict[str, Any]]], resource: dict[str, Any]) -> object:
    subject = resource.get("subject", {}).get("reference")
    if subject is None or not subject.startswith("urn:"):
        return subject
    patients = (
        f"Patient/{r['id']}" if "id" in r else url
        for url, r in found
        if url == subject and r["resourceType"] == "Patient"
    )
    return next(patients, None)


def bundles_agree_on_owners(bundles: Bundles) -> bool:
    """Whether each resource's newest copies have one patient in every Bundle (else, a urn
    subject each Bundle resolves to its own, the first read is kept, with a warning)."""
    for same in copies_of_each_resource(bundles):
        newest = max(version(r) for _, r in same)
        if len({repr(owner(bundles[i], r)) for i, r in same if version(r) == newest}) > 1:
            return False
    return True


def versioned(resource: dict[str, Any], number: str, url: str) -> tuple[str, dict[str, Any]]:
    return url, {**resource, "meta": {"versionId": number}}


def idless(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "id"}


def outcome(batch: PatientBatch) -> tuple[object, ...]:
    def text(warnings: tuple[Any, ...]) -> list[str]:  # where a copy was read is order
        return sorted(re.sub(r"<input>[^,):]*entry \d+", "@", str(w)) for w in warnings)

    patients = [
        (p.patient, sorted((r.source, str(r.value)) for r in p.records), text(p.warnings))
        for p in batch.patients
    ]
    return patients, text(batch.warnings)


ABSOLUTE = "https://ehr.example/fhir/Observation/3"


@settings(max_examples=200, deadline=None)
@given(st.lists(bundle_entries(), min_size=1, max_size=2), st.randoms(use_true_random=False))
@example(  # one resource (its absolute fullUrl), two versions 1: found in 1 run of 4
    [
        [versioned(idless(potassium("?", "Patient/a", 2.1)), "1", ABSOLUTE)],
        [versioned(idless(potassium("?", "Patient/a", 4.2)), "1", ABSOLUTE)],
    ],
    Random(0),  # reverses the two Bundles
)
@example(  # a urn subject that only the first Bundle resolves, to Patient/a
    [
        [("urn:uuid:a", patient("a")), versioned(potassium("1", "urn:uuid:a"), "1", "urn:uuid:1")],
        [versioned(potassium("1", "urn:uuid:a"), "1", "urn:uuid:1")],
    ],
    Random(0),
)
def test_the_order_of_entries_and_bundles_changes_nothing(
    fhir_ruleset: Ruleset, bundles: Bundles, rnd: Random
) -> None:
    assume(versions_tell_copies_apart(bundles) and bundles_agree_on_owners(bundles))
    shuffled = [rnd.sample(found, len(found)) for found in rnd.sample(bundles, len(bundles))]
    first = patient_records([entries(*found) for found in bundles], fhir_ruleset)
    second = patient_records([entries(*found) for found in shuffled], fhir_ruleset)
    assert outcome(first) == outcome(second)


def test_a_warning_about_an_unread_resource_of_patients_left_out_does_not_bring_one_back(
    fhir_ruleset: Ruleset,
) -> None:
    # a result for urn:uuid:p would stand for two patients whose data was left out
    idless = {"resourceType": "Patient"}
    number_code = {
        **potassium("9", "urn:uuid:p"),
        "code": {"coding": [{"system": LOINC, "code": 1}]},
    }
    first = entries(("urn:uuid:p", idless), ("urn:uuid:9", number_code))
    second = entries(("urn:uuid:p", idless))
    batch = patient_records([first, second], fhir_ruleset)
    assert batch.patients == ()
    assert "Observation/9: coding code 1 is a number, not a string: not matched" in [
        str(w) for w in batch.warnings
    ]


def test_one_resource_given_to_two_patients_is_not_dropped_in_silence(
    fhir_ruleset: Ruleset,
) -> None:
    # the same Observation/1, word for word, whose urn subject each Bundle resolves to another
    # patient: one patient keeps it, and the other's loss must be said
    first = entries(("urn:uuid:p", patient("a")), ("urn:uuid:1", potassium("1", "urn:uuid:p")))
    second = entries(("urn:uuid:p", patient("b")), ("urn:uuid:1", potassium("1", "urn:uuid:p")))
    batch = patient_records([first, second], fhir_ruleset)
    assert sources(batch) == {"Patient/a": ["Observation/1"], "Patient/b": []}
    assert [str(w) for w in batch.warnings] == [
        "Observation/1: read twice, for Patient/a and for Patient/b; the copy at <input> item 0"
        " entry 1 is used"
    ]
