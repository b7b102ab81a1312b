"""The hyperkalaemia ruleset's ECG already placed (§8.3), through `vigil evaluate`: an ECG
Procedure (SNOMED 268400002, completed or in progress, in the feature window) is "ECG done", so
the card reports it instead of proposing an ECG; a request of the same code still counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.rulesets.test_hyperkalaemia_proposals import evaluate, potassium
from tests.vigil.test_evaluate_command import SCT

ECG = "268400002"


def ecg(resource_type: str, status: str, when: str) -> dict[str, Any]:
    timed = {"performedDateTime": when} if resource_type == "Procedure" else {"authoredOn": when}
    extra = {"intent": "order"} if resource_type == "ServiceRequest" else {}
    return {
        "resourceType": resource_type,
        "id": "ecg",
        "status": status,
        "code": {"coding": [{"system": SCT, "code": ECG}]},
        "subject": {"reference": "Patient/p"},
        **timed,
        **extra,
    }


def ecg_proposal(result: dict[str, Any]) -> dict[str, Any]:
    [proposal] = [p for p in result["proposals"] if p["code"] == ECG]
    return proposal


@pytest.mark.parametrize(
    ("resource_type", "status", "when"),
    [
        ("Procedure", "completed", "2026-03-02T09:10:00Z"),
        ("Procedure", "in-progress", "2026-03-02T07:30:00Z"),  # in the window before the index
        ("ServiceRequest", "active", "2026-03-02T09:10:00Z"),
    ],
)
def test_an_ecg_done_or_requested_is_reported_not_proposed(
    tmp_path: Path, resource_type: str, status: str, when: str
) -> None:
    result = evaluate(tmp_path, potassium(6.2), ecg(resource_type, status, when))
    assert result["escalation"] == "same-day-review"
    shown = when.removesuffix(":00Z").replace("T", " ")
    assert ecg_proposal(result)["already"] == f"ECG done or requested {shown}"
    assert result["warnings"] == []


@pytest.mark.parametrize(
    ("status", "when"),
    [
        ("completed", "2026-02-28T09:00:00Z"),  # before the feature window
        ("not-done", "2026-03-02T09:10:00Z"),  # a status that does not count
    ],
)
def test_an_ecg_procedure_outside_the_window_or_not_done_is_proposed(
    tmp_path: Path, status: str, when: str
) -> None:
    result = evaluate(tmp_path, potassium(6.2), ecg("Procedure", status, when))
    assert result["escalation"] == "same-day-review"
    assert "already" not in ecg_proposal(result)
