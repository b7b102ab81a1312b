"""`vigil evaluate` shows a ruleset's card notes: `notes: [{id, text}]` per patient in JSON, a
`note:` line under the patient's reasons in the table; a misused note stops the run (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.engine.notes_ruleset import notes_ruleset
from tests.vigil.test_evaluate_command import vigil

AS_OF = "2026-12-07T09:00:00Z"


def bundle(*notes: str) -> dict[str, Any]:
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "k1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": "2026-12-06T03:00:00Z",
        "valueQuantity": {
            "value": 5.8,
            "unit": "mmol/L",
            "system": "http://unitsofmeasure.org",
            "code": "mmol/L",
        },
    }
    if notes:
        observation["note"] = [{"text": text} for text in notes]
    entries = [{"resourceType": "Patient", "id": "p"}, observation]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in entries],
    }


def folder(tmp_path: Path, text: str | None = None, *notes: str) -> Path:
    (tmp_path / "ruleset.yaml").write_text(text or notes_ruleset())
    (tmp_path / "bundle.json").write_text(json.dumps(bundle(*notes)))
    return tmp_path


def test_json_lists_each_patients_notes_in_the_rulesets_order(tmp_path: Path) -> None:
    where = folder(tmp_path, None, "Drip arm sample", "Called to the GP")
    run = vigil(
        "evaluate", where / "bundle.json", "--ruleset", where, "--as-of", AS_OF, "--format", "json"
    )
    assert run.returncode == 0, run.stderr
    [result] = json.loads(run.stdout)["results"]
    assert result["escalation"] == "routine-recheck"
    assert result["notes"] == [
        {"id": "note-index", "text": "Index potassium 5.8 mmol/L (2026-12-06, 30 hours old)"},
        {"id": "note-comment", "text": "Laboratory comment: Drip arm sample"},
        {"id": "note-comment", "text": "Laboratory comment: Called to the GP"},
        {"id": "note-recheck-only", "text": "Not on a RAAS inhibitor."},
    ]


def test_the_table_shows_each_note_under_the_patients_do_now_line(tmp_path: Path) -> None:
    where = folder(tmp_path, None, "Drip arm sample")
    run = vigil(
        "evaluate", where / "bundle.json", "--ruleset", where, "--as-of", AS_OF, "--format", "table"
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    reason = next(i for i, line in enumerate(lines) if "Potassium 5.8 mmol/L" in line)
    assert lines[reason + 1].strip().startswith("Do now: ")
    assert [line.strip() for line in lines[reason + 2 : reason + 5]] == [
        "note: Index potassium 5.8 mmol/L (2026-12-06, 30 hours old)",
        "note: Laboratory comment: Drip arm sample",
        "note: Not on a RAAS inhibitor.",
    ]


def test_a_note_naming_no_rule_stops_the_run_with_its_line(tmp_path: Path) -> None:
    text = notes_ruleset("notes:\n  - id: n\n    when: raisd fired\n    text: Hello\n")
    where = folder(tmp_path, text)
    run = vigil("evaluate", where / "bundle.json", "--ruleset", where, "--as-of", AS_OF)
    assert run.returncode == 2
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "raisd fired" in row)
    assert f"ruleset.yaml:{line}:11: no rule 'raisd' to have fired" in run.stderr
    assert "Traceback" not in run.stderr
