"""`vigil evaluate` gives each red flag one state (present or a named present state, absent with
the date of its latest absent record, not recorded), in the JSON and the table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.engine.flagged import AS_OF, RULESET, bundle
from tests.vigil.test_evaluate_command import vigil


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("flagged")
    ruleset, data = folder / "ruleset.yaml", folder / "patients.json"
    ruleset.write_text(RULESET)
    data.write_text(json.dumps(bundle()))
    return ruleset, data


@pytest.fixture(scope="module")
def results(files: tuple[Path, Path]) -> dict[str, dict[str, Any]]:
    ruleset, data = files
    run = vigil("evaluate", data, "--ruleset", ruleset, "--as-of", AS_OF, "--format", "json")
    assert run.returncode == 0, run.stderr
    return {r["patient"]: r for r in json.loads(run.stdout)["results"]}


def states(result: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {flag["id"]: (flag["state"], flag["date"]) for flag in result["red_flags"]}


def test_a_flag_never_assessed_is_not_recorded(results: dict[str, dict[str, Any]]) -> None:
    assert states(results["Patient/none"]) == {
        "weakness": ("not-recorded", None),
        "wasting": ("not-recorded", None),
        "breathlessness": ("not-recorded", None),
        "examined-weakness": ("not-recorded", None),
    }


def test_absent_carries_the_date_of_the_latest_absent_record(
    results: dict[str, dict[str, Any]],
) -> None:
    # valueBoolean false (twice: the later one dates it), SNOMED Absent, interpretation NEG
    assert states(results["Patient/absent"]) == {
        "weakness": ("absent", "2026-01-10"),
        "wasting": ("absent", "2026-02-01"),
        "breathlessness": ("absent", "2026-02-02"),
        "examined-weakness": ("not-recorded", None),  # derived: never absent
    }
    flags = {f["id"]: f for f in results["Patient/absent"]["red_flags"]}
    assert flags["weakness"]["evidence"] == ["Observation/w1", "Observation/w2"]
    # a derived flag is never absent, so it cannot be assessed as such
    assert [f["assessable"] for f in flags.values()] == [True, True, True, False]
    assert flags["wasting"]["label"] == "muscle wasting"


def test_named_present_states_and_present_over_absent(
    results: dict[str, dict[str, Any]],
) -> None:
    assert states(results["Patient/present"]) == {
        "weakness": ("examined", "2026-02-10"),  # MRC 4 is examined, before a reported weakness
        "wasting": ("present", "2026-02-01"),  # SNOMED Present wins over a later absent record
        "breathlessness": ("present", "2024-01-05"),  # an active Condition counts whatever its age
        "examined-weakness": ("present", "2026-02-10"),
    }


def test_recorded_absent_counts_where_present_does_not_win(
    results: dict[str, dict[str, Any]],
) -> None:
    # `weakness recorded absent`: a present record in the lookback does not hide it
    assert states(results["Patient/superseded"])["weakness"] == ("absent", "2026-02-15")
    flags = {f["id"]: f for f in results["Patient/superseded"]["red_flags"]}
    assert flags["weakness"]["evidence"] == ["Observation/w8"]


def test_an_old_active_condition_is_present_but_not_recent(
    results: dict[str, dict[str, Any]],
) -> None:
    assert [s["rule"] for s in results["Patient/present"]["suggestions"]] == ["twitching"]
    recent = results["Patient/recent"]
    assert [s["summary"] for s in recent["suggestions"]] == [
        "Breathless (2026-02-25)",
        "Twitching (2026-02-20)",
    ]


def test_records_outside_the_lookback_do_not_count(results: dict[str, dict[str, Any]]) -> None:
    # a weakness from 2024 is past its 365 days; an MRC grade 5 within them says absent
    assert states(results["Patient/recent"])["weakness"] == ("absent", "2026-02-12")
    # wasting recorded absent 13 months ago: no longer an answer
    assert states(results["Patient/recent"])["wasting"] == ("not-recorded", None)


def test_an_undated_condition_counts_now_but_is_never_recent(
    results: dict[str, dict[str, Any]],
) -> None:
    undated = results["Patient/undated"]
    assert states(undated)["breathlessness"] == ("present", None)
    assert [s["rule"] for s in undated["suggestions"]] == ["twitching"]


def test_a_value_neither_present_nor_absent_is_left_out_with_a_warning(
    results: dict[str, dict[str, Any]],
) -> None:
    undated = results["Patient/undated"]
    assert states(undated)["weakness"] == ("not-recorded", None)
    assert undated["warnings"] == [
        {
            "source": "Observation/w5",
            "message": "a value of type String is not read for weakness: left out",
        }
    ]


def test_no_red_flags_out_of_scope(results: dict[str, dict[str, Any]]) -> None:
    assert results["Patient/unscoped"]["escalation"] == "none"
    assert results["Patient/unscoped"]["red_flags"] == []


def test_the_table_lists_each_flag_in_its_state(files: tuple[Path, Path]) -> None:
    ruleset, data = files
    run = vigil("evaluate", data, "--ruleset", ruleset, "--as-of", AS_OF, "--format", "table")
    assert run.returncode == 0, run.stderr
    assert (
        "Red flags: weakness absent (2026-01-10); muscle wasting absent (2026-02-01); "
        "breathlessness absent (2026-02-02); weakness on examination not recorded"
    ) in run.stdout
    assert "weakness examined (2026-02-10)" in run.stdout
