"""`vigil test` as a ruleset author runs it: scenarios pass or fail, and unchecked rules named."""

from __future__ import annotations

import shutil
from pathlib import Path

import engine
from tests.vigil.test_evaluate_command import vigil

CALF = engine.packaged_rulesets()["calf-fasciculation"].parent


def test_a_packaged_ruleset_passes_and_checks_every_suggestion() -> None:
    run = vigil("test", "calf-fasciculation")
    assert run.returncode == 0, run.stdout + run.stderr
    count = len(list((CALF / "scenarios").glob("*.yaml")))
    assert run.stdout == f"calf-fasciculation: {count} of {count} scenarios passed\n"
    assert run.stderr == ""


def test_a_failure_and_the_rules_no_scenario_checks_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "calf"
    (folder / "scenarios").mkdir(parents=True)
    shutil.copy(CALF / "ruleset.yaml", folder)
    shutil.copytree(CALF / "valuesets", folder / "valuesets")
    case = (CALF / "scenarios" / "u-severe-hypokalemia-2-49.yaml").read_text()
    expect = case.split("expect:")[0] + "expect:\n"
    (folder / "scenarios" / "a.yaml").write_text(case)
    failing = folder / "scenarios" / "b.yaml"
    failing.write_text(expect + "  fired exactly: []\n")
    run = vigil("test", folder)
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:2] == [
        f"FAIL {failing}: fired exactly: severe-hypokalemia also fired",
        "calf-fasciculation: 1 of 2 scenarios passed",
    ]
    # b.yaml's `fired exactly: []` checks every rule not firing; only a.yaml checks one firing
    assert "unchecked: no scenario expects low-potassium to fire" in lines
    assert "unchecked: no scenario expects severe-hypokalemia to fire" not in lines
    assert not [line for line in lines if "not to fire" in line]


def test_a_mistake_in_a_scenario_file_is_one_located_line(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(
        "scenario: x\nnow: 2026-03-01\ndata:\n  - medication-request: rxnorm#35296\n"
        "    at: -6 monthz\nexpect: {}\n"
    )
    run = vigil("test", "calf-fasciculation", path)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr == (
        f"vigil test: {path}:5:9: a time must be a date or time, or relative like '-3 days'; "
        "got '-6 monthz'\n"
    )
