"""Misused evidence classes, scores, supersession, dates, suppression and coded answers: every
problem at its line and column, in clinical words."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine

HEADER = """\
id: broken
version: 1.0.0
status: draft
title: Broken on purpose
levels: [{id: none, title: None, indicator: info}, {id: gp, title: GP, indicator: info}]
parameters:
  window: 365 days
  low: 3.5 mmol/L
"""
CONCEPTS = """\
concepts:
  mrc_grade: {kind: score, codes: [vigil#mrc-grade]}
  atrophy: {codes: [sct#88092000]}
  referral: {kind: event, resource: ServiceRequest, codes: [sct#308474002]}
  weakness:
    codes: [sct#26544005]
    evidence:
      examined: {category: [exam], verification: [confirmed, none]}
      reported: {category: [survey, none, other], verification: [unconfirmed]}
"""
RULE = """\
rules:
  - id: a
    when: weakness present
    then: {suggest: gp, summary: Weakness}
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_ruleset(path)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def test_an_unknown_category_and_verification_status(tmp_path: Path) -> None:
    concepts = CONCEPTS.replace("[exam]", "[examination]").replace("[unconfirmed]", "[suspected]")
    found = problems(tmp_path, HEADER + concepts + RULE)

    assert found == [
        "16:29: 'examination' is not an Observation category; use one of activity, exam, "
        "imaging, laboratory, procedure, social-history, survey, therapy, vital-signs, "
        "none or other",
        "17:66: 'suspected' is not a Condition verification status; use one of confirmed, "
        "differential, entered-in-error, provisional, refuted, unconfirmed or none",
    ]


def test_a_condition_naming_a_class_the_concept_lacks(tmp_path: Path) -> None:
    rules = RULE.replace("weakness present", "weakness examind")
    found = problems(tmp_path, HEADER + CONCEPTS + rules)

    assert found == [
        "20:11: 'weakness examind': weakness has no evidence class 'examind' "
        "(its classes: examined, reported); did you mean 'examined'?"
    ]


def test_a_class_on_a_concept_without_classes(tmp_path: Path) -> None:
    rules = RULE.replace("weakness present", "atrophy examined")
    found = problems(tmp_path, HEADER + CONCEPTS + rules)

    assert found == [
        "20:11: 'atrophy examined': atrophy has no evidence class 'examined' (it has none: "
        "give it evidence: classes, e.g. examined and reported)"
    ]


def test_scores_that_name_no_score_or_no_class(tmp_path: Path) -> None:
    concepts = CONCEPTS + (
        "    scores:\n"
        "      atrophy <= 4: examined present\n"
        "      mrc_grade = 5: normal absent\n"
        "      mrc_grade is 5: examined absent\n"
    )
    found = problems(tmp_path, HEADER + concepts + RULE)

    assert found == [
        "19:21: atrophy is a finding, not a score: only a score's records stand as weakness's",
        "20:22: weakness has no evidence class 'normal' (its classes: examined, reported)",
        "21:23: 'mrc_grade is 5': write a score compared with a number, e.g. 'mrc_grade <= 4'",
    ]


def test_a_supersession_that_cannot_be_read(tmp_path: Path) -> None:
    concepts = CONCEPTS + "    superseded: reported by examined\n"
    found = problems(tmp_path, HEADER + concepts + RULE)

    assert found == ["18:17: 'reported by examined': write e.g. 'reported by examined absent'"]


def test_a_date_of_unknown_concepts_or_without_a_window(tmp_path: Path) -> None:
    dates = (
        "dates:\n"
        "  review: latest of referal within window\n"
        "  seen: latest of referral\n"
        "  atrophy: latest of referral within window\n"
    )
    found = problems(tmp_path, HEADER + CONCEPTS + dates + RULE)

    assert found == [
        "19:11: unknown concept 'referal' in 'latest of referal within window'",
        "20:9: 'latest of referral': write e.g. 'latest of neurology_referral, "
        "neurology_assessment within 365 days'",
        "21:12: atrophy is a concept already; give the date another name",
    ]


def test_a_date_whose_window_is_no_duration(tmp_path: Path) -> None:
    dates = "dates:\n  review: latest of referral within low\n"
    found = problems(tmp_path, HEADER + CONCEPTS + dates + RULE)

    assert found == [
        "19:11: in 'latest of referral within low': 'low' is neither a duration nor a "
        "duration parameter"
    ]


def test_suppressed_names_a_rule_that_is_never_suppressed(tmp_path: Path) -> None:
    rules = RULE + (
        "  - id: b\n"
        "    when: {suppressed: [a]}\n"
        "    then: {suggest: none, summary: 'Held back: {suppressed}'}\n"
    )
    found = problems(tmp_path, HEADER + CONCEPTS + rules)

    assert found == [
        "23:25: suppressed: rule 'a' has no suppressed-when:, so it is never suppressed",
        "24:36: {suppressed} names no concept or parameter",
    ]


def test_all_dated_on_or_before_something_that_is_no_date(tmp_path: Path) -> None:
    rules = RULE.replace("weakness present", "weakness present all dated on or before reveiw")
    found = problems(tmp_path, HEADER + CONCEPTS + rules)

    assert found == [
        "20:11: 'weakness present all dated on or before reveiw': 'reveiw' is neither one of "
        "the ruleset's dates nor a concept"
    ]


def test_undated_reads_no_value(tmp_path: Path) -> None:
    concepts = CONCEPTS + "  potassium: {codes: [loinc#2823-3], unit: mmol/L}\n"
    rules = RULE.replace("weakness present", "potassium < low undated")
    found = problems(tmp_path, HEADER + concepts + rules)

    assert found == [
        "21:11: 'potassium < low undated': 'undated' reads records with no date, which have "
        "no value to compare; write e.g. 'pregnancy present undated'"
    ]


def test_answers_and_answer_ties_belong_to_a_coded_concept(tmp_path: Path) -> None:
    concepts = CONCEPTS + (
        "  status:\n"
        "    kind: coded\n"
        "    codes: [loinc#82810-3]\n"
        "    answers: [sct#77386006, sct#60001007]\n"
        "    ties: [sct#261665006]\n"
        "  other: {codes: [sct#1], answers: [sct#2], ties: [sct#3]}\n"
    )
    found = problems(tmp_path, HEADER + concepts + RULE)

    assert found == [
        "22:12: sct#261665006 is not one of status's answers",
        "23:36: answers: is for a coded concept; other is a finding",
        "23:51: ties: is highest or lowest for a finding; a list of answers is for a coded concept",
    ]


def test_a_misspelt_state_is_not_taken_for_a_class(tmp_path: Path) -> None:
    rules = RULE.replace("weakness present", "atrophy presnt")
    found = problems(tmp_path, HEADER + CONCEPTS + rules)

    assert found == [
        "20:11: 'atrophy presnt': atrophy has no evidence class 'presnt' (it has none: give "
        "it evidence: classes, e.g. examined and reported); did you mean 'present'?"
    ]


def test_a_word_after_a_quantity_says_what_a_quantity_is_asked(tmp_path: Path) -> None:
    concepts = CONCEPTS + "  potassium: {codes: [loinc#2823-3], unit: mmol/L}\n"
    rules = RULE.replace("weakness present", "potassium raised")
    found = problems(tmp_path, HEADER + concepts + rules)

    assert found == [
        "21:11: potassium is a quantity, which has a value rather than being present; write "
        "'potassium recorded' or compare it"
    ]
