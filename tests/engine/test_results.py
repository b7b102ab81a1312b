"""Electrolyte results through the FHIR path (`evaluate_bundle`, `vigil evaluate`): limits with
the result's own reference range, results tied at the latest time, preliminary candidates, a
preferred form of one analyte, and old abnormal results not rechecked (engine/results.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine import load_text
from engine.evaluation import Evaluation
from fhir_adapters import evaluate_bundle

ROOT = Path(__file__).parents[2]
AS_OF = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

RULESET = """\
id: results-test
version: 0.0.1
status: draft
title: Electrolyte results
description: Limits, ties, preliminary candidates, forms and old results
levels:
  - {id: none, title: No action, indicator: info}
  - {id: primary-care, title: See the GP, indicator: warning}
  - {id: urgent, title: Urgent, indicator: critical}
parameters:
  lab_lookback: 30 days
  recheck_window: 365 days
  severe_potassium: 2.5 mmol/L
  symptomatic_potassium: 3.0 mmol/L
  low_potassium: 3.5 mmol/L
  high_potassium: 5.5 mmol/L
  severe_high_potassium: 6.5 mmol/L
  severe_magnesium: 0.40 mmol/L
  low_magnesium: 0.70 mmol/L
  high_magnesium: 1.00 mmol/L
  severe_calcium: 1.9 mmol/L
  low_calcium: 2.2 mmol/L
  high_calcium: 2.6 mmol/L
  severe_ionised_calcium: 1.00 mmol/L
  low_ionised_calcium: 1.15 mmol/L
  high_ionised_calcium: 1.33 mmol/L
concepts:
  potassium:
    codes: [loinc#2823-3, loinc#6298-4]
    unit: mmol/L
    lookback: lab_lookback
    decimals: 2
    ties: any
    preliminary: candidates
    low: < low_potassium or below reference range
    high: ">= high_potassium or above reference range"
  magnesium:
    codes: [loinc#19123-9, loinc#2601-3]
    unit: mmol/L
    molar-mass: 24.305 g/mol
    lookback: lab_lookback
    decimals: 2
    ties: any
    preliminary: candidates
    low: < low_magnesium or below reference range
    high: "> high_magnesium or above reference range"
  calcium:
    title: adjusted or total calcium
    codes: [loinc#29265-6, loinc#17861-6, loinc#2000-8]
    prefer: [loinc#29265-6]
    unit: mmol/L
    molar-mass: 40.078 g/mol
    lookback: lab_lookback
    decimals: 2
    ties: any
    preliminary: candidates
    low: < low_calcium or below reference range
    high: ">= high_calcium or above reference range"
  ionised_calcium:
    codes: [loinc#1994-3, loinc#1995-0]
    unit: mmol/L
    molar-mass: 40.078 g/mol
    lookback: lab_lookback
    decimals: 2
    ties: any
    low: < low_ionised_calcium or below reference range
    high: "> high_ionised_calcium or above reference range"
  egfr:
    codes: [loinc#33914-3]
    unit: "mL/min/{1.73_m2}"
    lookback: 365 days
    preliminary: ignored
  pregnancy: {kind: coded, codes: [loinc#82810-3], preliminary: ignored}
rules:
  - id: severe-hypokalemia
    when: potassium including preliminary < severe_potassium
    then: {suggest: urgent, summary: "Potassium {potassium} is severely low"}
  - id: potassium-below-3
    when: potassium < symptomatic_potassium
    then: {suggest: primary-care, summary: "Potassium {potassium} is below 3"}
  - id: low-potassium
    when: potassium >= severe_potassium and low
    then: {suggest: primary-care, summary: "Potassium {potassium} is low"}
  - id: high-potassium
    when: potassium < severe_high_potassium and high
    then: {suggest: primary-care, summary: "Potassium {potassium} is high"}
  - id: low-magnesium
    when: magnesium >= severe_magnesium and low
    then: {suggest: primary-care, summary: "Magnesium {magnesium} is low"}
  - id: low-calcium
    when:
      any:
        - calcium >= severe_calcium and low
        - ionised_calcium >= severe_ionised_calcium and low
    then: {suggest: primary-care, summary: "Calcium is low"}
  - id: abnormal-electrolyte-not-rechecked
    when:
      any:
        - potassium not rechecked within recheck_window
        - magnesium not rechecked within recheck_window
        - calcium or ionised_calcium not rechecked within recheck_window
    then: {suggest: primary-care, summary: An abnormal result was not rechecked}
  - id: potassium-below-range
    when: potassium below reference range
    then: {suggest: primary-care, summary: "Potassium {potassium} is below its range"}
  - id: potassium-above-range
    when: potassium above reference range
    then: {suggest: primary-care, summary: "Potassium is above its range"}
  - id: magnesium-not-rechecked
    when: magnesium not rechecked within recheck_window
    then: {suggest: primary-care, summary: "Magnesium {magnesium} was not rechecked"}
  - id: pregnancy-recorded
    when: pregnancy recorded
    then: {suggest: primary-care, summary: Pregnancy status recorded}
  - id: kidney-low
    when: egfr < 30 mL/min/{1.73_m2}
    then: {suggest: primary-care, summary: eGFR low}
"""

K, MG, ADJUSTED_CA, TOTAL_CA, IONISED_CA, EGFR = (
    "2823-3",
    "2601-3",
    "29265-6",
    "2000-8",
    "1995-0",
    "33914-3",
)


def result(
    id: str,
    code: str,
    value: float,
    days_ago: float,
    *,
    unit: str = "mmol/L",
    status: str = "final",
    low: tuple[float, str] | None = None,
    high: tuple[float, str] | None = None,
) -> dict[str, Any]:
    """A laboratory Observation of patient p, `days_ago` before AS_OF."""
    when = (AS_OF - timedelta(days=days_ago)).isoformat()
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": id,
        "status": status,
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }
    bounds = {
        side: {"value": limit[0], "unit": limit[1], "system": UCUM, "code": limit[1]}
        for side, limit in (("low", low), ("high", high))
        if limit is not None
    }
    if bounds:
        resource["referenceRange"] = [bounds]
    return resource


def evaluate(*resources: dict[str, Any], text: str = RULESET) -> Evaluation:
    """Patient p's resources evaluated with the ruleset `text` at AS_OF."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "Patient", "id": "p"}}]
        + [{"resource": r} for r in resources],
    }
    (only,) = evaluate_bundle(bundle, load_text(text), as_of=AS_OF)
    return only.evaluation


def fired(evaluation: Evaluation) -> set[str]:
    return {s.rule for s in evaluation.suggestions}


def why(evaluation: Evaluation, rule: str) -> str:
    return next(s.detail for s in evaluation.suggestions if s.rule == rule)


def summary(evaluation: Evaluation, rule: str) -> str:
    return next(s.summary for s in evaluation.suggestions if s.rule == rule)


def evidence(evaluation: Evaluation, rule: str) -> tuple[str, ...]:
    return next(s.evidence for s in evaluation.suggestions if s.rule == rule)


# -- limits: a fixed limit or the result's own reference range ---------------------------------


@pytest.mark.parametrize(
    ("value", "low", "expected"),
    [
        (3.4, None, True),  # below the fixed limit
        (3.6, None, False),
        (3.6, (3.7, "mmol/L"), True),  # below its own range only
        (3.6, (3.6, "mmol/L"), False),  # at the range's limit: not below it
        (2.4, None, False),  # severe, not "low": low-potassium is 2.5 <= K and low
        (2.5, None, True),  # 2.50 is not < 2.5
    ],
)
def test_low_is_below_the_fixed_limit_or_the_results_own_range(
    value: float, low: tuple[float, str] | None, expected: bool
) -> None:
    evaluation = evaluate(result("k", K, value, 2, low=low))
    assert ("low-potassium" in fired(evaluation)) is expected


def test_high_is_at_the_fixed_limit_or_above_the_results_own_range() -> None:
    assert "high-potassium" in fired(evaluate(result("k", K, 5.5, 2)))
    assert "high-potassium" in fired(evaluate(result("k", K, 5.4, 2, high=(5.3, "mmol/L"))))
    assert "high-potassium" not in fired(evaluate(result("k", K, 5.3, 2, high=(5.3, "mmol/L"))))
    assert "high-potassium" not in fired(evaluate(result("k", K, 6.5, 2)))  # severe instead


def test_the_range_in_its_own_unit_is_converted_and_rounded_as_values_are() -> None:
    # 1.8 mg/dL of magnesium is 0.7406 mmol/L, read as 0.74: a 0.72 is below it
    evaluation = evaluate(result("mg", MG, 0.72, 2, low=(1.8, "mg/dL")))
    assert "low-magnesium" in fired(evaluation)
    assert "below its reference range (low 0.74)" in why(evaluation, "low-magnesium")
    # 3.504 is read as 3.50: a potassium of 3.50 is not below it, nor below 3.5
    assert "low-potassium" not in fired(evaluate(result("k", K, 3.5, 2, low=(3.504, "mmol/L"))))


def test_the_words_name_the_value_and_the_limit_it_met() -> None:
    evaluation = evaluate(result("k", K, 3.4, 2))
    assert "3.4 mmol/L, >= 2.5 mmol/L, low (< 3.5 mmol/L)" in why(evaluation, "low-potassium")
    assert evidence(evaluation, "low-potassium") == ("Observation/k",)


# -- results tied at the latest time: all current, any may meet a rule ------------------------


def test_of_tied_results_any_meets_a_rule_and_is_its_evidence() -> None:
    evaluation = evaluate(result("k1", K, 3.8, 2), result("k2", K, 3.4, 2))
    assert "low-potassium" in fired(evaluation)
    assert evidence(evaluation, "low-potassium") == ("Observation/k2",)


def test_tied_results_can_each_meet_a_different_rule_and_each_text_shows_its_own() -> None:
    evaluation = evaluate(result("k1", K, 3.4, 2), result("k2", K, 5.6, 2))
    assert {"low-potassium", "high-potassium"} <= fired(evaluation)
    assert evidence(evaluation, "high-potassium") == ("Observation/k2",)
    assert summary(evaluation, "low-potassium") == "Potassium 3.4 mmol/L is low"
    assert summary(evaluation, "high-potassium") == "Potassium 5.6 mmol/L is high"


def test_a_plain_comparison_reads_every_tied_result() -> None:
    evaluation = evaluate(result("k1", K, 3.2, 2), result("k2", K, 2.9, 2))
    assert "potassium-below-3" in fired(evaluation)
    assert evidence(evaluation, "potassium-below-3") == ("Observation/k2",)
    assert summary(evaluation, "potassium-below-3") == "Potassium 2.9 mmol/L is below 3"


def test_below_and_above_reference_range_read_every_tied_result() -> None:
    evaluation = evaluate(
        result("k1", K, 3.6, 2, low=(3.7, "mmol/L")), result("k2", K, 4.0, 2, low=(3.5, "mmol/L"))
    )
    assert evidence(evaluation, "potassium-below-range") == ("Observation/k1",)
    assert summary(evaluation, "potassium-below-range") == "Potassium 3.6 mmol/L is below its range"
    evaluation = evaluate(
        result("k1", K, 5.2, 2, high=(5.0, "mmol/L")), result("k2", K, 4.0, 2, high=(5.0, "mmol/L"))
    )
    assert evidence(evaluation, "potassium-above-range") == ("Observation/k1",)


def test_both_sides_of_a_limit_test_hold_for_the_same_result() -> None:
    # 2.4 is low but severe, 3.8 is at least 2.5 but not low: no one result is both
    evaluation = evaluate(result("k1", K, 2.4, 2), result("k2", K, 3.8, 2))
    assert "low-potassium" not in fired(evaluation)
    assert "severe-hypokalemia" in fired(evaluation)


def test_an_older_result_is_not_current() -> None:
    evaluation = evaluate(result("k1", K, 3.4, 5), result("k2", K, 3.8, 2))
    assert "low-potassium" not in fired(evaluation)


# -- preliminary results: candidates for the named conditions only ----------------------------


def test_a_newer_preliminary_result_is_a_candidate_for_the_named_condition() -> None:
    evaluation = evaluate(result("k1", K, 3.8, 3), result("k2", K, 2.3, 1, status="preliminary"))
    assert fired(evaluation) == {"severe-hypokalemia"}
    assert evidence(evaluation, "severe-hypokalemia") == ("Observation/k2",)
    assert "2.3 mmol/L (preliminary)" in why(evaluation, "severe-hypokalemia")
    assert summary(evaluation, "severe-hypokalemia") == (
        "Potassium 2.3 mmol/L (preliminary) is severely low"
    )


def test_preliminary_results_tied_at_their_time_are_all_candidates() -> None:
    evaluation = evaluate(
        result("k1", K, 4.0, 3),
        result("k2", K, 3.9, 1, status="preliminary"),
        result("k3", K, 2.3, 1, status="preliminary"),
    )
    assert evidence(evaluation, "severe-hypokalemia") == ("Observation/k3",)


def test_a_preliminary_result_is_ignored_by_every_other_condition() -> None:
    # the spec's "a preliminary potassium 3.2: ignored by low-potassium"
    evaluation = evaluate(result("k", K, 3.2, 1, status="preliminary"))
    assert fired(evaluation) == set()
    assert evaluation.warnings == ()


def test_a_newer_preliminary_normal_result_never_cancels_a_final_severe_one() -> None:
    evaluation = evaluate(result("k1", K, 2.3, 3), result("k2", K, 4.0, 1, status="preliminary"))
    assert "severe-hypokalemia" in fired(evaluation)
    assert evidence(evaluation, "severe-hypokalemia") == ("Observation/k1",)


def test_a_preliminary_result_older_than_the_final_one_is_no_candidate() -> None:
    evaluation = evaluate(result("k1", K, 4.0, 1), result("k2", K, 2.3, 3, status="preliminary"))
    assert "severe-hypokalemia" not in fired(evaluation)


def test_a_preliminary_result_of_a_concept_that_keeps_none_is_left_out_with_a_warning() -> None:
    evaluation = evaluate(result("e", EGFR, 20, 1, unit="mL/min/{1.73_m2}", status="preliminary"))
    assert fired(evaluation) == set()
    assert [(w.source, w.message) for w in evaluation.warnings] == [
        ("Observation/e", "status 'preliminary': a preliminary egfr result does not count")
    ]


# -- forms of one analyte: adjusted calcium before total ---------------------------------------


def test_a_current_adjusted_calcium_is_read_and_total_calcium_is_not() -> None:
    # the spec's "total calcium 2.05 with an adjusted calcium 2.30 in the same month"
    evaluation = evaluate(result("t", TOTAL_CA, 2.05, 2), result("a", ADJUSTED_CA, 2.30, 20))
    assert "low-calcium" not in fired(evaluation)


def test_total_calcium_is_read_when_no_adjusted_calcium_is_current() -> None:
    evaluation = evaluate(result("t", TOTAL_CA, 2.05, 2), result("a", ADJUSTED_CA, 2.30, 40))
    assert "low-calcium" in fired(evaluation)
    assert evidence(evaluation, "low-calcium") == ("Observation/t",)


def test_ionised_calcium_is_read_on_its_own() -> None:
    evaluation = evaluate(result("a", ADJUSTED_CA, 2.30, 2), result("i", IONISED_CA, 1.10, 2))
    assert evidence(evaluation, "low-calcium") == ("Observation/i",)


# -- old abnormal results not rechecked ---------------------------------------------------------


def test_an_old_low_result_not_rechecked_fires_with_its_value_and_date() -> None:
    evaluation = evaluate(result("mg", MG, 0.50, 90))
    assert fired(evaluation) == {"abnormal-electrolyte-not-rechecked", "magnesium-not-rechecked"}
    assert "last magnesium 0.5 mmol/L on 2025-12-01 was low" in why(
        evaluation, "abnormal-electrolyte-not-rechecked"
    )
    assert summary(evaluation, "magnesium-not-rechecked") == (
        "Magnesium 0.5 mmol/L on 2025-12-01 was not rechecked"
    )


def test_a_final_result_in_the_lookback_rechecks_it() -> None:
    # the spec's "a magnesium of 0.50 from 90 days ago with a magnesium of 0.85 last week"
    evaluation = evaluate(result("mg1", MG, 0.50, 90), result("mg2", MG, 0.85, 7))
    assert fired(evaluation) == set()


def test_a_preliminary_result_does_not_recheck_it() -> None:
    evaluation = evaluate(
        result("mg1", MG, 0.50, 90), result("mg2", MG, 0.85, 7, status="preliminary")
    )
    assert "abnormal-electrolyte-not-rechecked" in fired(evaluation)


def test_an_old_normal_result_or_one_older_than_the_window_is_not_chased() -> None:
    assert fired(evaluate(result("mg", MG, 0.85, 90))) == set()
    assert fired(evaluate(result("mg", MG, 0.50, 400))) == set()


def test_an_old_result_is_judged_by_its_own_range_too() -> None:
    evaluation = evaluate(result("k", K, 5.4, 60, high=(5.3, "mmol/L")))
    assert "was high" in why(evaluation, "abnormal-electrolyte-not-rechecked")


def test_in_a_group_the_latest_result_of_any_concept_is_judged() -> None:
    # a normal adjusted calcium after a low ionised one: the group's latest is normal
    evaluation = evaluate(result("i", IONISED_CA, 1.0, 80), result("a", ADJUSTED_CA, 2.4, 60))
    assert fired(evaluation) == set()
    evaluation = evaluate(result("i", IONISED_CA, 1.0, 60), result("a", ADJUSTED_CA, 2.4, 80))
    assert evidence(evaluation, "abnormal-electrolyte-not-rechecked") == ("Observation/i",)


def test_in_a_group_results_at_one_time_are_taken_in_the_groups_order() -> None:
    evaluation = evaluate(result("i", IONISED_CA, 1.0, 60), result("a", ADJUSTED_CA, 2.4, 60))
    assert fired(evaluation) == set()
    evaluation = evaluate(result("i", IONISED_CA, 1.2, 60), result("a", ADJUSTED_CA, 2.1, 60))
    assert evidence(evaluation, "abnormal-electrolyte-not-rechecked") == ("Observation/a",)


def test_of_one_concepts_results_at_one_time_a_preferred_code_is_judged() -> None:
    # c1 would come first by its name: the adjusted calcium is judged all the same
    evaluation = evaluate(result("c1", TOTAL_CA, 2.0, 60), result("c2", ADJUSTED_CA, 2.4, 60))
    assert fired(evaluation) == set()
    evaluation = evaluate(result("c1", TOTAL_CA, 2.4, 60), result("c2", ADJUSTED_CA, 2.0, 60))
    assert evidence(evaluation, "abnormal-electrolyte-not-rechecked") == ("Observation/c2",)


def test_a_current_result_of_another_concept_of_the_group_rechecks_it() -> None:
    evaluation = evaluate(result("a", ADJUSTED_CA, 2.0, 60), result("i", IONISED_CA, 1.2, 5))
    assert fired(evaluation) == set()


def test_a_preliminary_result_of_a_concept_whose_preliminary_results_are_ignored() -> None:
    status = {
        "resourceType": "Observation",
        "id": "preg",
        "status": "preliminary",
        "code": {"coding": [{"system": LOINC, "code": "82810-3"}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": (AS_OF - timedelta(days=1)).isoformat(),
        "valueCodeableConcept": {
            "coding": [{"system": "http://snomed.info/sct", "code": "77386006"}]
        },
    }
    evaluation = evaluate(status)
    assert fired(evaluation) == set()
    assert [(w.source, w.message) for w in evaluation.warnings] == [
        ("Observation/preg", "status 'preliminary': a preliminary pregnancy result does not count")
    ]


def test_vigil_evaluate_reads_a_preliminary_candidate_and_an_old_result(tmp_path: Path) -> None:
    ruleset = tmp_path / "ruleset.yaml"
    ruleset.write_text(RULESET)
    data = tmp_path / "chart.json"
    resources = [
        {"resourceType": "Patient", "id": "p"},
        result("k1", K, 3.8, 3),
        result("k2", K, 2.3, 1, status="preliminary"),
        result("mg", MG, 0.45, 90),
    ]
    data.write_text(
        json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": r} for r in resources],
            }
        )
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "vigil",
            "evaluate",
            data,
            "--ruleset",
            ruleset,
            "--as-of",
            AS_OF.isoformat(),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    (patient,) = json.loads(run.stdout)["results"]
    summaries = {s["rule"]: s["summary"] for s in patient["suggestions"]}
    assert summaries == {
        "severe-hypokalemia": "Potassium 2.3 mmol/L (preliminary) is severely low",
        "magnesium-not-rechecked": "Magnesium 0.45 mmol/L on 2025-12-01 was not rechecked",
        "abnormal-electrolyte-not-rechecked": "An abnormal result was not rechecked",
    }
    assert patient["warnings"] == []
