"""Misused result constructs are load errors at file:line:column, in clinical words: limits,
`prefer`, `preliminary`, `including preliminary`, `and low`, `not rechecked`."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine

HEADER = """\
id: broken
version: 1.0.0
status: draft
title: Broken on purpose
levels: [{id: none, title: No action, indicator: info}, {id: gp, title: GP, indicator: warning}]
parameters:
  low_potassium: 3.5 mmol/L
  long_cramp: 10 min
concepts:
  weakness: {codes: [sct#26544005]}
"""
POTASSIUM = """\
  potassium:
    codes: [loinc#2823-3]
    unit: mmol/L
    lookback: 30 days
"""


def problems(tmp_path: Path, concepts: str, when: str = "weakness present") -> list[str]:
    path = tmp_path / "broken.yaml"
    rules = f"rules:\n  - id: a\n    when: {when}\n    then: {{suggest: gp, summary: S}}\n"
    path.write_text(HEADER + concepts + rules)
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_ruleset(path)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def test_a_limit_that_cannot_be_read(tmp_path: Path) -> None:
    found = problems(tmp_path, POTASSIUM + "    low: below 3.5\n")
    assert found == [
        "15:10: cannot read the limit 'below 3.5'; write e.g. '< low_potassium or below "
        "reference range' or '>= 5.5 mmol/L'"
    ]


def test_a_limit_whose_threshold_is_no_value_of_the_concept(tmp_path: Path) -> None:
    found = problems(tmp_path, POTASSIUM + "    low: < long_cramp or below reference range\n")
    assert len(found) == 1
    assert found[0].startswith("15:10: in '< long_cramp or below reference range': threshold")
    assert "cannot be compared with potassium in mmol/L" in found[0]


def test_limits_prefer_and_candidates_are_for_quantities(tmp_path: Path) -> None:
    concepts = (
        "  cramp:\n    codes: [sct#55300003]\n    low: < 3 min\n"
        "    prefer: [sct#55300003]\n    preliminary: candidates\n"
    )
    assert problems(tmp_path, concepts) == [
        "13:10: low: is for a quantity; cramp is a finding",
        "14:13: prefer: is for a quantity; cramp is a finding",
        "15:18: preliminary: is for a quantity; cramp is a finding",
    ]


def test_a_preferred_code_must_be_one_of_the_concepts_own(tmp_path: Path) -> None:
    found = problems(tmp_path, POTASSIUM + "    prefer: [loinc#6298-4]\n")
    assert found == [
        "15:14: potassium: prefer http://loinc.org#6298-4, which is not one of its codes; "
        "list the codes preferred among its own"
    ]


def test_a_limit_the_concept_does_not_define(tmp_path: Path) -> None:
    found = problems(tmp_path, POTASSIUM, "potassium >= 2.5 mmol/L and low")
    assert found == [
        "17:11: 'potassium >= 2.5 mmol/L and low': potassium has no low limit (give it low: ...)"
    ]


def test_including_preliminary_needs_a_concept_that_keeps_them(tmp_path: Path) -> None:
    found = problems(tmp_path, POTASSIUM, "potassium including preliminary < 2.5 mmol/L")
    assert found == [
        "17:11: 'potassium including preliminary < 2.5 mmol/L': potassium does not keep "
        "preliminary results; give it preliminary: candidates"
    ]


def test_a_result_test_on_a_finding(tmp_path: Path) -> None:
    assert problems(tmp_path, "", "weakness low") == [
        "13:11: weakness has no unit: 'weakness low' reads results with a value",
        "13:11: 'weakness low': weakness has no low limit (give it low: ...)",
    ]


def test_a_result_test_takes_no_window(tmp_path: Path) -> None:
    found = problems(
        tmp_path, POTASSIUM, "potassium < 2.5 mmol/L or below reference range within 7 days"
    )
    assert found == [
        "17:11: in 'potassium < 2.5 mmol/L or below reference range within 7 days': this reads "
        "the current results; it takes no window"
    ]


def test_not_rechecked_needs_a_window_and_limits(tmp_path: Path) -> None:
    assert problems(tmp_path, POTASSIUM, "potassium not rechecked") == [
        "17:11: in 'potassium not rechecked': say how far back to look, e.g. 'within 365 days'"
    ]
    assert problems(tmp_path, POTASSIUM, "potassium or magnesium not rechecked within 1 year") == [
        "17:11: 'potassium or magnesium not rechecked within 1 year': potassium has no low or "
        "high limit to judge an old result by (give potassium low: or high:)",
        "17:11: unknown concept 'magnesium'",
    ]
