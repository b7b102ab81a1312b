"""`vigil evaluate` gives each patient's "Do now" line: in the JSON (`do_now`, each proposal's
`text` and `due_words`) and in the table, under the patient's reasons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.engine.hit_policy_ruleset import RULESET
from tests.vigil.test_evaluate_command import vigil

AS_OF = "2026-07-01T10:00:00Z"


def observation(oid: str, code: str, value: float | None = None) -> dict[str, Any]:
    system, _, number = code.partition("#")
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": f"http://{system}", "code": number}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": "2026-07-01T08:00:00Z",
    }
    if value is None:
        obs["valueBoolean"] = True
    else:
        obs["valueQuantity"] = {
            "value": value,
            "unit": "mmol/L",
            "system": "http://unitsofmeasure.org",
            "code": "mmol/L",
        }
    return obs


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    entries = [{"resourceType": "Patient", "id": "p"}, *resources]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in entries],
    }


TETANY = observation("t1", "snomed.info/sct#53356000")
WEAKNESS = observation("w1", "snomed.info/sct#26544005")
POTASSIUM = observation("k1", "loinc.org#2823-3", 2.3)


def run(tmp_path: Path, data: dict[str, Any], form: str) -> str:
    (tmp_path / "ruleset.yaml").write_text(RULESET)
    (tmp_path / "bundle.json").write_text(json.dumps(data))
    done = vigil(
        "evaluate",
        tmp_path / "bundle.json",
        "--ruleset",
        tmp_path,
        "--as-of",
        AS_OF,
        "--format",
        form,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_json_gives_do_now_with_the_shown_orders_in_order(tmp_path: Path) -> None:
    output = json.loads(run(tmp_path, bundle(TETANY, WEAKNESS), "json"))
    [result] = output["results"]
    assert result["escalation"] == "urgent"
    assert result["do_now"] == (
        "Do now: U&E [today]; Magnesium [today]; Refer to neurology urgently [by 2026-07-15]"
    )
    ue = result["proposals"][0]
    assert (ue["text"], ue["due_words"], ue["due"]) == ("U&E", "today", "2026-07-01T23:59:59+01:00")


def test_an_admission_hides_the_bloods_and_is_due_now(tmp_path: Path) -> None:
    output = json.loads(run(tmp_path, bundle(TETANY, POTASSIUM), "json"))
    [result] = output["results"]
    assert [p["code"] for p in result["proposals"]] == ["183452005", "268400002"]
    assert result["proposals"][0]["due"] == "2026-07-01T10:00:00+00:00"
    assert result["do_now"] == (
        "Do now: Arrange emergency admission [now]; 12-lead ECG if it does not delay transfer [now]"
    )


def test_the_table_shows_do_now_under_the_reasons(tmp_path: Path) -> None:
    table = run(tmp_path, bundle(TETANY), "table")
    lines = table.splitlines()
    reason = next(n for n, line in enumerate(lines) if "Tetany with no bloods" in line)
    assert lines[reason + 1].strip() == "Do now: U&E [today]; Magnesium [today]"


def test_a_patient_with_nothing_fired_has_no_do_now(tmp_path: Path) -> None:
    calm = observation("k1", "loinc.org#2823-3", 4.2)
    [result] = json.loads(run(tmp_path, bundle(calm), "json"))["results"]
    assert result["do_now"] is None
