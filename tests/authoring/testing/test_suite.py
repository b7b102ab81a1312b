"""`run_suite` over a ruleset folder anywhere on disk: failures as expected against got with
the rules that fired, coverage of each rule both ways, and parameter boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from authoring import run_suite
from authoring.testing import render_rich, render_text
from authoring.testing.render import failure_block
from fhir_adapters.scenarios import ScenarioError
from tests.authoring.testing.folders import LOW, NORMAL, ruleset_folder, scenario

WRONG = scenario(
    "2.4 mmol/L",
    "  escalation: none\n  fired exactly: []\n  not fired: [severe-hypokalaemia]\n",
    "Twitching with a low potassium",
)


def test_a_folder_anywhere_passes_with_each_rule_checked_both_ways(tmp_path: Path) -> None:
    report = run_suite(ruleset_folder(tmp_path))

    assert (report.ruleset, len(report.scenarios), report.failed) == ("potassium-check", 2, ())
    assert report.unchecked == ()
    (rule,) = report.rules
    assert (rule.rule, rule.fired_in, rule.not_fired_in) == ("severe-hypokalaemia", 1, 1)
    assert (rule.checked_firing, rule.checked_not_firing) == (True, True)
    assert report.exit_code == 0


def test_the_failure_block_a_clinician_reads_is_pinned(tmp_path: Path) -> None:
    folder = ruleset_folder(tmp_path, low=LOW, normal=NORMAL, wrong=WRONG)

    text = render_text(run_suite(folder)).replace(str(folder), "F")

    assert text.split("\n\n")[0] == (
        "F/scenarios/wrong.yaml:8:1: error: scenario failed: Twitching with a low potassium\n"
        "  escalation\n"
        "    expected: none\n"
        "    got:      urgent (suggested by: severe-hypokalaemia)\n"
        "  fired exactly\n"
        "    expected: no rule\n"
        "    got:      severe-hypokalaemia (severe-hypokalaemia also fired)\n"
        "  not fired\n"
        "    expected: severe-hypokalaemia\n"
        "    got:      severe-hypokalaemia fired\n"
        "  rules that fired:\n"
        "    severe-hypokalaemia (urgent): Severe hypokalaemia\n"
        "      potassium: latest 2.4 mmol/L (Observation/k)"
    )
    assert text.endswith("potassium-check: 2 of 3 scenarios passed\n")


def test_an_expected_rule_that_did_not_fire_says_what_fired_instead(tmp_path: Path) -> None:
    missed = scenario("2.6 mmol/L", "  fired: [severe-hypokalaemia]\n", "Just above")
    report = run_suite(ruleset_folder(tmp_path, low=LOW, normal=NORMAL, missed=missed))

    (failed,) = report.failed
    assert [(d.key, d.expected, d.got) for d in failed.differences] == [
        ("fired", "severe-hypokalaemia", "no rule (severe-hypokalaemia did not fire)")
    ]
    assert failed.fired == ()
    assert failed.nearest_misses == (
        "severe-hypokalaemia: `potassium < severe_potassium`: potassium 2.6 mmol/L"
        " on 2026-02-28 (Observation/k) is not below 2.5 mmol/L (0.1 mmol/L above)",
    )
    assert report.exit_code == 1
    assert (
        "  nearest miss:\n"
        "    severe-hypokalaemia: `potassium < severe_potassium`: potassium 2.6 mmol/L on"
        " 2026-02-28 (Observation/k) is not below 2.5 mmol/L (0.1 mmol/L above)\n"
    ) in render_text(report)


def test_a_boundary_no_scenario_sits_on_is_a_note_that_does_not_fail(tmp_path: Path) -> None:
    report = run_suite(ruleset_folder(tmp_path))

    (boundary,) = report.boundaries
    assert (boundary.concept, boundary.parameter, boundary.shown) == (
        "potassium",
        "severe_potassium",
        "2.5 mmol/L",
    )
    assert boundary.scenarios == ()
    assert report.exit_code == 0
    assert (
        render_text(report)
        .splitlines()[-2]
        .endswith(
            "/ruleset.yaml:13:3: note: no scenario has potassium at severe_potassium (2.5 mmol/L), "
            "where severe-hypokalaemia changes"
        )
    )


def test_a_reading_at_the_boundary_in_another_unit_covers_it(tmp_path: Path) -> None:
    # 2.5 mmol/L of potassium (39.098 g/mol) is 9.7745 mg/dL: compared in canonical units
    edge = scenario("9.7745 mg/dL", "  not fired: [severe-hypokalaemia]\n", "At the edge")
    folder = ruleset_folder(tmp_path, low=LOW, edge=edge)

    (boundary,) = run_suite(folder).boundaries

    assert boundary.scenarios == (str(folder / "scenarios" / "edge.yaml"),)


def test_named_scenarios_run_alone_without_coverage(tmp_path: Path) -> None:
    folder = ruleset_folder(tmp_path)

    report = run_suite(folder, ["low"])

    assert [s.name for s in report.scenarios] == ["Low"]
    assert (report.whole_folder, report.rules, report.boundaries) == (False, (), ())
    assert report.exit_code == 0


def test_every_unreadable_scenario_is_reported_at_once(tmp_path: Path) -> None:
    typo = scenario("2.4 mmol/L", "  fired: [severe-hypokalemia]\n")
    bad = "scenario: x\nnow: tomorrow\nexpect: {}\n"
    folder = ruleset_folder(tmp_path, typo=typo, bad=bad)

    with pytest.raises(ScenarioError) as raised:
        run_suite(folder)

    messages = [f"{Path(p.file).name}:{p.line}: {p.message}" for p in raised.value.problems]
    assert messages[0].startswith("bad.yaml:2: ")
    assert messages[1] == (
        "typo.yaml:9: potassium-check has no rule 'severe-hypokalemia'; "
        "did you mean 'severe-hypokalaemia'?"
    )


def test_the_json_report_has_every_part(tmp_path: Path) -> None:
    folder = ruleset_folder(tmp_path, low=LOW, normal=NORMAL, wrong=WRONG)

    data = run_suite(folder).to_dict()

    assert (data["passed"], data["failed"], data["unchecked"]) == (2, 1, [])
    wrong = next(s for s in data["scenarios"] if not s["passed"])  # type: ignore[attr-defined]
    assert wrong["differences"][0] == {
        "key": "escalation",
        "expected": "none",
        "got": "urgent (suggested by: severe-hypokalaemia)",
    }
    assert wrong["fired"][0]["matched"] == ["potassium: latest 2.4 mmol/L (Observation/k)"]
    assert data["boundaries"] == [
        {
            "concept": "potassium",
            "parameter": "severe_potassium",
            "value": 2.5,
            "unit": "mmol/L",
            "rules": ["severe-hypokalaemia"],
            "scenarios": [],
        }
    ]


def test_a_terminal_gets_colour_and_drawn_tables_with_the_same_words(tmp_path: Path) -> None:
    folder = ruleset_folder(tmp_path, low=LOW, normal=NORMAL, wrong=WRONG)

    text = render_rich(run_suite(folder), width=80)

    assert "\x1b[1;31m" in text  # the failure's first line in bold red
    assert "┏━" in text and "│ potassium │ severe_potassium │" in text  # a drawn table
    assert "    got:      urgent (suggested by: severe-hypokalaemia)" in text
    # a finding stays on one line however wide the terminal, for an editor to jump to it
    assert "note: no scenario has potassium at severe_potassium (2.5 mmol/L), where" in text


def test_a_failure_shows_what_the_engine_could_not_use_of_the_data(tmp_path: Path) -> None:
    unitless = scenario("2", "  fired: [severe-hypokalaemia]\n", "No unit")
    folder = ruleset_folder(tmp_path, low=LOW, normal=NORMAL, unitless=unitless)

    (failed,) = run_suite(folder).failed

    assert failed.warnings == (
        "Observation/k: an integer value for potassium has no unit (mmol/L expected)",
    )
    assert "\n  data warnings:\n    Observation/k: an integer value for potassium" in "\n".join(
        failure_block(failed)
    )


def test_the_ruleset_file_or_the_loaded_ruleset_names_the_same_folder(tmp_path: Path) -> None:
    folder = ruleset_folder(tmp_path)

    by_file = run_suite(folder / "ruleset.yaml")
    loaded = run_suite(engine.load_ruleset(folder))

    assert (
        [s.name for s in by_file.scenarios]
        == [s.name for s in loaded.scenarios]
        == [
            "Low",
            "Normal",
        ]
    )


def test_a_folder_without_scenarios_fails_and_says_where_they_go(tmp_path: Path) -> None:
    folder = ruleset_folder(tmp_path)
    for path in (folder / "scenarios").iterdir():
        path.unlink()

    report = run_suite(folder)

    assert report.exit_code == 1
    assert render_text(report).splitlines()[0] == (
        f"{folder}/scenarios: error: no scenario files in {folder}/scenarios: "
        "write one YAML file per case there"
    )
