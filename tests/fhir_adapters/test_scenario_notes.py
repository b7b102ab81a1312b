"""A scenario's `notes:` and `not notes:` expectations: by id, by exact text, a note id the
ruleset does not have located at its line, and what differed said on failure."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import engine
from fhir_adapters.scenarios import ScenarioError, load_scenario, run_scenario

RULESET = engine.load_ruleset("hyperkalaemia")


def scenario(tmp_path: Path, expect: dict[str, object]) -> Path:
    data = {
        "scenario": "K 5.7 three days old with a comment",
        "now": "2026-03-02T10:00:00Z",
        "patient": {"birth-date": "1960-05-05"},
        "data": [
            {
                "observation": "loinc#2823-3",
                "value": "5.7 mmol/L",
                "at": "-3 days",
                "note": "Drip arm",
            }
        ],
        "expect": {"fired": ["mild-hyperkalaemia-unexpected"], **expect},
    }
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def failures(tmp_path: Path, expect: dict[str, object]) -> tuple[str, ...]:
    return run_scenario(load_scenario(scenario(tmp_path, expect)), RULESET).failures


def test_notes_expected_by_id_and_by_text_pass(tmp_path: Path) -> None:
    assert failures(tmp_path, {"notes": ["index-result", "laboratory-comment"]}) == ()
    texts = {
        "laboratory-comment": "Laboratory comment: Drip arm",
        "index-result-age": ["The index potassium is 3 days old."],
    }
    assert failures(tmp_path, {"notes": texts, "not notes": ["raasi-on-hold"]}) == ()


def test_a_note_that_differs_says_what_it_said(tmp_path: Path) -> None:
    assert failures(
        tmp_path,
        {
            "notes": {"laboratory-comment": "Laboratory comment: drip arm"},
            "not notes": "index-result",
        },
    ) == (
        "note laboratory-comment: expected ['Laboratory comment: drip arm'], "
        "got ['Laboratory comment: Drip arm']",
        "expected note index-result not to be shown; it says "
        "['Index potassium 5.7 mmol/L: result of 2026-02-27.']",
    )
    [missing] = failures(tmp_path, {"notes": ["raasi-on-hold"]})
    assert missing.startswith("expected note raasi-on-hold; notes shown: index-result, ")


def test_a_note_id_the_ruleset_does_not_have_is_located(tmp_path: Path) -> None:
    path = scenario(tmp_path, {"notes": {"laboratory-coment": "x"}})
    with pytest.raises(ScenarioError) as caught:
        run_scenario(load_scenario(path), RULESET)
    [problem] = caught.value.problems
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if "coment" in row)
    assert (problem.line, problem.message) == (
        line,
        "hyperkalaemia has no note 'laboratory-coment'; did you mean 'laboratory-comment'?",
    )


@pytest.mark.parametrize("notes", [{"n": 3}, 4, {"n": []}])
def test_malformed_note_expectations_are_problems(tmp_path: Path, notes: object) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario(tmp_path, {"notes": notes}))
    assert "notes" in str(caught.value) or "note" in str(caught.value)
