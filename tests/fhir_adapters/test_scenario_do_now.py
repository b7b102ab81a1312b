"""A scenario's `do now:` expectation: the card's whole "Do now" line, exactly, through the
library and through `vigil test`; what the card said on failure; a malformed one located."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import engine
from fhir_adapters.scenarios import ScenarioError, load_scenario, run_scenario
from tests.vigil.test_evaluate_command import vigil

RULESET = engine.load_ruleset("hyperkalaemia")
SAID = (
    "Do now: Take the repeat so that it reaches the laboratory promptly (or centrifuge in the "
    "practice); no fist clenching, short tourniquet time. [by 2026-03-05]"
)


def scenario(tmp_path: Path, do_now: object) -> Path:
    data = {
        "scenario": "K 5.7 three days old",
        "now": "2026-03-02T10:00:00Z",
        "patient": {"birth-date": "1960-05-05"},
        "data": [{"observation": "loinc#2823-3", "value": "5.7 mmol/L", "at": "-3 days"}],
        "expect": {"fired": ["mild-hyperkalaemia-unexpected"], "do now": do_now},
    }
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=200, default_flow_style=None))
    return path


def test_the_exact_line_passes(tmp_path: Path) -> None:
    assert run_scenario(load_scenario(scenario(tmp_path, SAID)), RULESET).failures == ()


def test_a_different_line_says_what_the_card_said(tmp_path: Path) -> None:
    outcome = run_scenario(load_scenario(scenario(tmp_path, "Do now: Repeat U&E [today]")), RULESET)
    assert outcome.failures == (f"do now: expected 'Do now: Repeat U&E [today]', got {SAID!r}",)


def test_vigil_test_fails_a_different_line(tmp_path: Path) -> None:
    path = scenario(tmp_path, "Do now: No order proposed")
    run = vigil("test", "hyperkalaemia", path)
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"{path}:")
    assert ": error: scenario failed: " in lines[0]
    assert lines[1:4] == [
        "  do now",
        "    expected: Do now: No order proposed",
        f"    got:      {SAID}",
    ]


@pytest.mark.parametrize("do_now", [["Do now: x"], 3, {"a": "b"}])
def test_a_do_now_that_is_not_a_line_is_located(tmp_path: Path, do_now: object) -> None:
    path = scenario(tmp_path, do_now)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    [problem] = caught.value.problems
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if "do now" in row)
    assert problem.line == line
    assert "do now: is the card's whole line" in problem.message
