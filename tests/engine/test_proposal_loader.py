"""Misuse of a proposal's `if:`, `already:`, `due: ... after ... started`, `first:`/`joins:`,
of the hit policy's `always` kinds, of code parameters and of `unread-text-warnings`: each a
located error in clinical words."""

from __future__ import annotations

from pathlib import Path

from engine.codes import Code
from engine.loader import load_text
from tests.engine.test_language_loader import BASE, line_of, problems


def proposing(propose: str, extra: str = "") -> str:
    return (
        BASE.replace("rules:\n", f"{extra}rules:\n")
        + "  - id: a\n    when: potassium >= 5.5 mmol/L\n    then:\n"
        + "      suggest: routine-recheck\n      summary: Raised\n"
        + f"      propose:\n        - {propose}\n"
    )


UE = "code: loinc#24362-6, label: Repeat U&E, kind: lab-order"


def test_a_proposal_condition_naming_an_unknown_concept_is_located(tmp_path: Path) -> None:
    text = proposing(f"{{{UE}, if: creatinin present}}")
    line = line_of(text, "creatinin present")
    assert problems(text, tmp_path) == [
        f"{line}:73: unknown concept 'creatinin'; did you mean 'creatinine'?"
    ]


def test_an_already_condition_is_checked_like_a_rules(tmp_path: Path) -> None:
    text = proposing(f"{{{UE}, already: potassium present}}")
    [problem] = problems(text, tmp_path)
    assert problem.startswith(f"{line_of(text, 'already:')}:")
    assert "potassium" in problem and "recorded" in problem


def test_a_due_after_a_start_needs_a_medication(tmp_path: Path) -> None:
    text = proposing(f"{{{UE}, due: '14 days after potassium started, else 3 days'}}")
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'after potassium')}:74: due: potassium is a quantity; a proposal's "
        "due is a medication concept"
    ]


def test_already_text_needs_already_and_names_only_the_date_or_time(tmp_path: Path) -> None:
    alone = proposing(f"{{{UE}, already-text: U&E requested}}")
    assert problems(alone, tmp_path) == [
        f"{line_of(alone, 'already-text')}:83: already-text: goes with already: a condition"
    ]
    named = proposing(
        f"{{{UE}, already: raasi active, already-text: 'U&E requested {{potassium}}'}}"
    )
    [problem] = problems(named, tmp_path)
    assert problem.endswith(
        "{potassium}: an already-text names only {date} or {time}, those of the order "
        "already placed"
    )


def test_a_note_placeholder_must_name_a_concept_or_parameter(tmp_path: Path) -> None:
    text = proposing(f"{{{UE}, note: 'Withhold {{rasi}}'}}")
    [problem] = problems(text, tmp_path)
    assert problem.endswith("{rasi} names no concept or parameter; did you mean 'raasi'?")


def test_joins_needs_merged_orders(tmp_path: Path) -> None:
    text = proposing(f"{{{UE}, joins: true}}")
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'joins: true')}:76: joins: adds to the same order of another rule, "
        "so it needs hit-policy: merge: true"
    ]


def test_always_with_kinds_names_rules_and_known_kinds(tmp_path: Path) -> None:
    unknown = proposing(f"{{{UE}}}", "hit-policy: {always: [{rules: [b], kinds: [lab-order]}]}\n")
    assert problems(unknown, tmp_path) == [
        f"{line_of(unknown, 'hit-policy')}:32: hit-policy always: no rule 'b'"
    ]
    ruleset = load_text(
        proposing(f"{{{UE}}}", "hit-policy: {always: [{rules: [a], kinds: [lab-order]}]}\n")
    )
    assert ruleset.hit_policy.always == frozenset({"a"})
    assert ruleset.hit_policy.kinds == {"a": frozenset({"lab-order"})}


def test_a_code_parameter_is_a_proposals_and_an_event_concepts_code(tmp_path: Path) -> None:
    text = proposing(
        "{code: renal_panel, label: Repeat U&E}",
        "",
    ).replace("parameters:\n", "parameters:\n  renal_panel: loinc#24362-6\n")
    text = text.replace(
        "concepts:\n",
        "concepts:\n  ue_request: {kind: event, resource: ServiceRequest, codes: [renal_panel]}\n",
    )
    ruleset = load_text(text)
    [proposal] = ruleset.rules[0].then.proposals
    assert proposal.code == Code("http://loinc.org", "24362-6")
    assert ruleset.concepts["ue_request"].codes == (Code("http://loinc.org", "24362-6"),)


def test_a_number_parameter_is_not_a_code(tmp_path: Path) -> None:
    text = proposing("{code: aki_ratio, label: Repeat U&E}")
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'aki_ratio, label')}:18: parameter aki_ratio is 1.5, not a code"
    ]


def test_a_code_parameter_must_be_a_code(tmp_path: Path) -> None:
    text = proposing(f"{{{UE}}}").replace("parameters:\n", "parameters:\n  panel: nosuch#1\n")
    [problem] = problems(text, tmp_path)
    assert problem.startswith(f"{line_of(text, 'nosuch#1')}:")
    assert "parameter panel:" in problem


def test_unread_text_warning_words_are_words(tmp_path: Path) -> None:
    text = proposing(f"{{{UE}}}", "unread-text-warnings: [potassium, ' ']\n")
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'unread-text-warnings')}:35: give a word, e.g. potassium"
    ]
    assert load_text(proposing(f"{{{UE}}}", "unread-text-warnings: [potassium]\n")) is not None


def test_a_condition_cannot_compare_with_a_code_parameter(tmp_path: Path) -> None:
    text = proposing(f"{{{UE}}}").replace("parameters:\n", "parameters:\n  panel: loinc#24362-6\n")
    text = text.replace("potassium >= 5.5 mmol/L", "potassium >= panel")
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'potassium >= panel')}:11: parameter panel is a code (loinc#24362-6), "
        "not a number or a duration: 'potassium >= panel' cannot use it"
    ]
