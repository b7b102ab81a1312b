"""The packaged calf-fasciculation ruleset's whole card (title and every line) for the spec's key
cases, through `vigil evaluate`: as `card: {title, lines}` in JSON and as lines in the table.

The expected cards are written from the spec (clinical-spec-calf-2.md §7.4 and §7.1-§8) in
tests/calf_cases.py; a case where Vigil departs from the spec is a strict xfail naming how.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.calf_cases import AS_OF, CASES, DEPARTURES, bundle, case
from tests.vigil.test_evaluate_command import vigil

WHEN = datetime.fromisoformat(AS_OF)

# §7.4's example card, verbatim (its fourth line split here only to fit)
SPEC_EXAMPLE = (
    "URGENT TODAY — Symptomatic hypomagnesaemia: magnesium 0.45 mmol/L (2026-06-01) with tetany\n"
    "Do now: Arrange emergency admission [now]; 12-lead ECG if it does not delay transfer [now]\n"
    "Found: tetany or carpopedal spasm (2026-06-01); magnesium 0.45 mmol/L (2026-06-01) low\n"
    "Also: Low magnesium: 0.45 mmol/L (2026-06-01); "
    "Tetany or carpopedal spasm (2026-06-01) with a normal calcium\n"
    "Not recorded: weakness, muscle wasting, bulbar signs, breathlessness, leg swelling"
)


def evaluate(tmp_path: Path, form: str) -> subprocess.CompletedProcess[str]:
    """Every key case's patient in one file, evaluated at AS_OF with the packaged ruleset."""
    data = tmp_path / "calf-cases.json"
    data.write_text(json.dumps(bundle(WHEN)))
    run = vigil("evaluate", data, "--as-of", AS_OF, "--format", form)
    assert run.returncode == 0, run.stderr
    return run


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each patient's JSON result, by patient reference (one run for all the cases)."""
    run = evaluate(tmp_path_factory.mktemp("calf-json"), "json")
    return {r["patient"]: r for r in json.loads(run.stdout)["results"]}


def cases() -> list[Any]:
    return [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(strict=True, reason=DEPARTURES[name].reason)]
            if name in DEPARTURES
            else [],
            id=name,
        )
        for name in CASES
    ]


def test_the_key_cases_are_written_as_the_spec_example_reads() -> None:
    _, card = case("tetany-magnesium", WHEN)
    assert "\n".join([card["title"], *card["lines"]]) == SPEC_EXAMPLE


@pytest.mark.parametrize("name", cases())
def test_each_key_case_gets_the_specs_card_in_json(results: dict[str, Any], name: str) -> None:
    result = results[f"Patient/{name}"]
    _, card = case(name, WHEN)
    assert result["warnings"] == []
    assert result["card"] == card


@pytest.mark.parametrize("name", sorted(DEPARTURES))
def test_a_departing_card_reads_as_the_spec_in_its_other_parts(
    results: dict[str, Any], name: str
) -> None:
    _, card = case(name, WHEN)
    departure = DEPARTURES[name]
    assert departure.others(results[f"Patient/{name}"]["card"]) == departure.others(card)


def test_the_table_shows_the_same_lines_under_the_title(tmp_path: Path) -> None:
    run = evaluate(tmp_path, "table")
    shown = [line.strip() for line in run.stdout.splitlines()]
    for name in ("tetany-magnesium", "anxious-benign"):
        _, card = case(name, WHEN)
        # the patient's row ends with the title; the lines follow under it
        start = next(i for i, line in enumerate(shown) if line.endswith(card["title"]))
        assert shown[start + 1 : start + 1 + len(card["lines"])] == card["lines"]
