"""The issue's acceptance file through `vigil evaluate`: a MedicationRequest Vigil cannot read,
a blood-pressure panel and an ECG report, each read or named in a warning, never passed over."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.vigil.test_evaluate_command import vigil

LOINC, SCT = "http://loinc.org", "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SUBJECT = {"reference": "Patient/pat"}
WHEN = "2026-03-01T08:00:00Z"


def _observation(oid: str, code: str, **fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": SUBJECT,
        "effectiveDateTime": WHEN,
        **fields,
    }


def _systolic(value: float, unit: str) -> dict[str, Any]:
    return {
        "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
        "valueQuantity": {"value": value, "unit": unit},
    }


def _request(rid: str, **medication: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "active",
        "intent": "order",
        "subject": SUBJECT,
        "authoredOn": "2025-06-01",
        **medication,
    }


def _bundle() -> dict[str, Any]:
    resources = [
        {"resourceType": "Patient", "id": "pat", "birthDate": "1956-02-11", "gender": "female"},
        _observation(
            "k", "2823-3", valueQuantity={"value": 6.2, "unit": "mmol/L", "code": "mmol/L"}
        ),
        _observation("bp-read", "85354-9", component=[_systolic(84, "mm[Hg]")]),
        _observation("bp-unread", "85354-9", component=[_systolic(84, "mercury")]),
        _observation(
            "ecg-read",
            "8601-7",
            valueCodeableConcept={"coding": [{"system": SCT, "code": "251259000"}]},
        ),
        _observation("ecg-unread", "8601-7"),
        _request(
            "ramipril", medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "35296"}]}
        ),
        _request(
            "unknown-drug",
            medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "99999999"}]},
        ),
        _request("dangling", medicationReference={"reference": "Medication/nowhere"}),
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": resource} for resource in resources],
    }


def test_every_resource_of_the_file_is_read_or_named_in_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "chart.json"
    path.write_text(json.dumps(_bundle()))
    run = vigil(
        "evaluate", path, "--ruleset", "hyperkalaemia", "--as-of", "2026-03-01T10:00:00Z",
        "--format", "json",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (result,) = json.loads(run.stdout)["results"]
    named = {warning["source"] for warning in result["warnings"]}
    assert {
        "Observation/bp-unread",
        "Observation/ecg-unread",
        "MedicationRequest/unknown-drug",
        "MedicationRequest/dangling",
    } <= named
    # what was read is used: the ECG change and the systolic pressure from the panel admit
    assert result["escalation"] == "emergency"
    fired = {s["rule"] for s in result["suggestions"]}
    assert {"hyperkalaemia-ecg-changes", "hyperkalaemia-unwell", "raasi-withhold"} <= fired
    evidence = {e for s in result["suggestions"] for e in s["evidence"]}
    assert {"Observation/bp-read", "Observation/ecg-read", "MedicationRequest/ramipril"} <= evidence
