"""The hyperkalaemia ruleset's proposals through `vigil evaluate --format json`: the renal call
leads on dialysis and the admission carries the fallback note (§7.1), a U&E already requested
is reported instead of proposed (§8.3), the U&E code is the `renal_panel_order_code` parameter,
and an unrecognised Observation whose text says potassium is a warning (§9)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

from tests.vigil.test_evaluate_command import LOINC, SCT, observation, ucum
from vigil.cli import main

AS_OF = "2026-03-02T10:00:00Z"
INDEX = "2026-03-02T08:00:00Z"


def evaluate(tmp_path: Path, *resources: dict[str, Any]) -> dict[str, Any]:
    """`vigil evaluate --format json` of a one-patient Bundle, run in this process: the same
    command line and output, without a new interpreter compiling the ruleset for each test
    (test_hyperkalaemia_scenarios runs the command in a subprocess)."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p", "birthDate": "1960-05-05"}},
            *({"resource": r} for r in resources),
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            [
                "evaluate",
                str(path),
                "--ruleset",
                "hyperkalaemia",
                "--as-of",
                AS_OF,
                "--format",
                "json",
            ]
        )
    assert code == 0, err.getvalue()
    (result,) = json.loads(out.getvalue())["results"]
    found: dict[str, Any] = result
    return found


def potassium(value: float) -> dict[str, Any]:
    return observation("k", LOINC, "2823-3", INDEX, valueQuantity=ucum(value, "mmol/L"))


def ue_request(authored: str, status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": "ue",
        "status": status,
        "intent": "order",
        "code": {"coding": [{"system": LOINC, "code": "24362-6"}]},
        "subject": {"reference": "Patient/p"},
        "authoredOn": authored,
    }


DIALYSIS = {
    "resourceType": "Condition",
    "id": "dialysis",
    "clinicalStatus": {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active",
            }
        ]
    },
    "code": {"coding": [{"system": SCT, "code": "105502003"}]},
    "subject": {"reference": "Patient/p"},
    "onsetDateTime": "2023-03-01",
}


def test_on_dialysis_the_renal_call_leads_and_the_admission_says_when_to_admit(
    tmp_path: Path,
) -> None:
    result = evaluate(tmp_path, potassium(6.8), DIALYSIS)
    assert result["escalation"] == "emergency"
    fired = {s["rule"] for s in result["suggestions"]}
    assert {"hyperkalaemia-on-dialysis", "severe-hyperkalaemia"} <= fired
    renal, admit = result["proposals"]
    assert (renal["code"], renal["priority"]) == ("306286007", "stat")
    assert admit["code"] == "183452005"
    assert admit["notes"][-1] == (
        "If the renal team cannot be reached now, arrange emergency admission."
    )


def test_on_dialysis_without_an_admission_rule_only_the_renal_call_is_proposed(
    tmp_path: Path,
) -> None:
    result = evaluate(tmp_path, potassium(6.3), DIALYSIS)
    assert [p["code"] for p in result["proposals"]] == ["306286007"]


def test_a_ue_requested_after_the_index_is_reported_not_proposed(tmp_path: Path) -> None:
    result = evaluate(tmp_path, potassium(5.7), ue_request("2026-03-02T09:15:00Z"))
    assert result["escalation"] == "repeat-within-3-days"
    assert [s["rule"] for s in result["suggestions"]] == ["mild-hyperkalaemia-unexpected"]
    [ue] = result["proposals"]
    assert (ue["system"], ue["code"]) == ("http://loinc.org", "24362-6")
    assert ue["already"] == "U&E requested 2026-03-02"


def test_a_ue_requested_before_the_index_does_not_stop_the_repeat(tmp_path: Path) -> None:
    result = evaluate(tmp_path, potassium(5.7), ue_request("2026-02-20", "completed"))
    [ue] = result["proposals"]
    assert "already" not in ue
    assert (ue["priority"], ue["due"]) == ("urgent", "2026-03-05T10:00:00+00:00")


def test_an_unrecognised_result_whose_text_says_potassium_is_named_in_a_warning(
    tmp_path: Path,
) -> None:
    local = observation("local-k", "https://lab.example/codes", "K", INDEX)
    local["code"]["text"] = "Serum Potassium"
    local["valueQuantity"] = ucum(6.1, "mmol/L")
    result = evaluate(tmp_path, potassium(5.0), local)
    assert {
        "source": "Observation/local-k",
        "message": "code not recognised but its text says potassium; not read — check the result",
    } in result["warnings"]
    assert result["escalation"] == "none"  # the text is never matched on


def test_every_ue_carries_the_haemolysis_and_fragile_cell_notes(tmp_path: Path) -> None:
    marked = potassium(5.7)
    marked["interpretation"] = [
        {
            "coding": [
                {
                    "system": "https://vigil-cds.org/fhir/CodeSystem/vigil",
                    "code": "haemolysed-sample",
                }
            ]
        }
    ]
    platelets = observation("plt", LOINC, "777-3", INDEX, valueQuantity=ucum(600, "10*9/L"))
    result = evaluate(tmp_path, marked, platelets)
    [ue] = [p for p in result["proposals"] if p["code"] == "24362-6"]
    assert ue["notes"][-2:] == [
        "Index sample marked haemolysed: repeat on a non-haemolysed sample as well.",
        "High platelets or white cells: send a lithium-heparin whole-blood or plasma potassium "
        "as well.",
    ]
    assert ue["label"] != "Repeat U&E"  # the joining notes take the order's own label


def test_a_ue_requested_just_before_the_index_is_not_a_repeat(tmp_path: Path) -> None:
    result = evaluate(tmp_path, potassium(5.7), ue_request("2026-03-02T07:30:00Z"))
    [ue] = result["proposals"]
    assert "already" not in ue
