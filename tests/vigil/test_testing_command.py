"""`vigil test` as a ruleset author runs it: scenarios pass or fail, unchecked rules and
boundaries named, failing expectations updated, a scenario's FHIR Bundle shown, JSON out."""

from __future__ import annotations

import json
from pathlib import Path

import engine
from tests.authoring.testing.folders import LOW, NORMAL, ruleset_folder, scenario
from tests.vigil.test_evaluate_command import vigil

CALF = engine.packaged_rulesets()["calf-fasciculation"].parent
WRONG = scenario("2.4 mmol/L", "  escalation: none   # was it?\n  fired exactly: []\n", "Wrong")


def test_a_packaged_ruleset_passes_and_checks_every_suggestion() -> None:
    run = vigil("test", "calf-fasciculation")
    assert run.returncode == 0, run.stdout + run.stderr
    count = len(list((CALF / "scenarios").glob("*.yaml")))
    lines = run.stdout.splitlines()
    assert lines[-1] == f"calf-fasciculation: {count} of {count} scenarios passed"
    assert not [line for line in lines if ": error: " in line]
    assert run.stderr == ""


def test_a_failure_and_the_rules_no_scenario_checks_are_named(tmp_path: Path) -> None:
    folder = ruleset_folder(tmp_path, wrong=WRONG)

    run = vigil("test", folder)

    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == f"{folder}/scenarios/wrong.yaml:8:1: error: scenario failed: Wrong"
    assert "    got:      urgent (suggested by: severe-hypokalaemia)" in lines
    # `fired exactly: []` checks the rule not firing; no scenario checks it firing
    assert (
        f"{folder}/ruleset.yaml:15:1: error: no scenario expects severe-hypokalaemia to fire"
        in lines
    )
    assert not [line for line in lines if "not to fire" in line]
    assert lines[-1] == "potassium-check: 0 of 1 scenarios passed"


def test_update_rewrites_the_failing_expectations_and_then_passes(tmp_path: Path) -> None:
    folder = ruleset_folder(tmp_path, low=LOW, normal=NORMAL, wrong=WRONG)
    path = folder / "scenarios" / "wrong.yaml"
    head = WRONG.split("expect:")[0]

    run = vigil("test", folder, "--update")

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr == f"updated {path}: escalation, fired exactly\n"
    assert path.read_text() == head + (
        "expect:\n  escalation: urgent   # was it?\n  fired exactly: [severe-hypokalaemia]\n"
    )
    assert run.stdout.splitlines()[-1] == "potassium-check: 3 of 3 scenarios passed"


def test_show_fhir_prints_the_bundle_the_scenario_becomes(tmp_path: Path) -> None:
    folder = ruleset_folder(tmp_path)

    run = vigil("test", folder, "--show-fhir", "low")

    assert run.returncode == 0, run.stderr
    bundle = json.loads(run.stdout)
    assert bundle["resourceType"] == "Bundle"
    patient, potassium = (e["resource"] for e in bundle["entry"])
    assert patient == {"resourceType": "Patient", "id": "scenario-patient"}
    assert potassium["id"] == "k"
    assert potassium["valueQuantity"]["value"] == 2.4


def test_json_is_the_whole_report(tmp_path: Path) -> None:
    run = vigil("test", ruleset_folder(tmp_path), "--format", "json")

    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert (report["ruleset"], report["passed"], report["failed"]) == ("potassium-check", 2, 0)
    assert report["boundaries"][0]["parameter"] == "severe_potassium"


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
        f"vigil test: {path}:5:9: error: a time must be a date or time, or relative like "
        "'-3 days'; got '-6 monthz'\n"
    )


def test_a_scenario_that_does_not_exist_is_named(tmp_path: Path) -> None:
    folder = ruleset_folder(tmp_path)

    run = vigil("test", folder, "--show-fhir", "nope")

    assert run.returncode == 2
    assert run.stderr == (
        f"vigil test: nope: error: no scenario file here, nor 'nope' in {folder}/scenarios\n"
    )
