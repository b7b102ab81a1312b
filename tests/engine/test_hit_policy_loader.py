"""Misuse of the hit policy's `always` by level and escalation, of `hide`, of `due: now` and
of a rule's `instruction`: each a located error in clinical words."""

from __future__ import annotations

from pathlib import Path

from engine.clock import Duration
from engine.loader import load_text
from tests.engine.hit_policy_ruleset import RULESET
from tests.engine.test_language_loader import line_of, problems

POLICY = RULESET[RULESET.index("hit-policy:") : RULESET.index("concepts:")]


def with_policy(policy: str) -> str:
    return RULESET.replace(POLICY, policy)


def test_the_demo_policy_loads_by_level_escalation_kind_and_code() -> None:
    policy = load_text(RULESET).hit_policy
    [urgent, specialist] = policy.also
    assert (urgent.levels, urgent.at, urgent.kinds) == ({"specialist"}, {"urgent"}, frozenset())
    assert (specialist.levels, specialist.kinds) == ({"routine"}, {"lab-order"})
    assert policy.always == {"drug-review"}
    [hide] = policy.hide
    assert hide.if_shown == ("http://snomed.info/sct", "183452005")
    assert hide.rules == {"bloods-missing"}


def test_codes_limit_what_is_shown_from_a_level() -> None:
    text = with_policy(
        "hit-policy:\n  show: escalation\n  always:\n"
        "    - {levels: [routine], at: [specialist], codes: [loinc#24362-6]}\n"
    )
    [entry] = load_text(text).hit_policy.also
    assert entry.codes == {("http://loinc.org", "24362-6")}


def test_an_unknown_level_or_escalation_is_located_with_a_suggestion(tmp_path: Path) -> None:
    text = with_policy(
        "hit-policy:\n  show: escalation\n  always:\n    - levels: [specalist]\n      at: [urgnt]\n"
    )
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'specalist')}:16: there is no level 'specalist'; did you mean "
        "'specialist'? (levels: routine, specialist, urgent)",
        f"{line_of(text, 'urgnt')}:12: there is no level 'urgnt'; did you mean 'urgent'? "
        "(levels: routine, specialist, urgent)",
    ]


def test_an_entry_must_name_rules_or_levels(tmp_path: Path) -> None:
    text = with_policy("hit-policy:\n  always:\n    - {at: [urgent], kinds: [lab-order]}\n")
    [problem] = problems(text, tmp_path)
    assert problem.startswith(f"{line_of(text, 'at: [urgent]')}:")
    assert "name the rules or the levels whose proposals are shown" in problem


def test_hide_names_known_rules_and_a_code(tmp_path: Path) -> None:
    text = with_policy(
        "hit-policy:\n  merge: true\n  hide:\n"
        "    - if-shown: sct#183452005\n"
        "      rules: [blods-missing]\n"
        "    - if-shown: snomed#1\n"
        "      rules: [low]\n"
        "    - if-shown: sct#183452005\n"
    )
    found = problems(text, tmp_path)
    assert found[0] == (
        f"{line_of(text, 'blods-missing')}:15: hit-policy hide: no rule 'blods-missing'; "
        "did you mean 'bloods-missing'?"
    )
    assert found[1].startswith(f"{line_of(text, 'snomed#1')}:17: ") and "snomed" in found[1]
    assert found[2].startswith(f"{line_of(text, 'if-shown: sct#183452005') + 4}:")
    assert "name the rules or the codes whose proposals are not shown" in found[2]
    assert len(found) == 3


def test_a_code_no_rule_proposes_is_located(tmp_path: Path) -> None:
    text = with_policy(
        "hit-policy:\n  always:\n"
        "    - {levels: [routine], at: [specialist], codes: [loinc#2951-2]}\n"
        "  hide:\n"
        "    - {if-shown: sct#183452006, rules: [bloods-missing]}\n"
    )
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'loinc#2951-2')}:53: hit-policy: no level or rule proposes loinc#2951-2",
        f"{line_of(text, 'sct#183452006')}:18: hit-policy: no level or rule proposes sct#183452006",
    ]


def test_due_now_is_the_evaluation_time() -> None:
    ruleset = load_text(RULESET)
    [admit, ecg] = ruleset.rules[0].then.proposals
    assert admit.due == "now" and ecg.due == "now"
    assert ruleset.rules[3].then.proposals[0].due == Duration(14, "days")


def test_an_instructions_condition_is_checked_like_a_rules(tmp_path: Path) -> None:
    text = RULESET.replace("if: potassium >= 6.0 mmol/L", "if: potasium >= 6.0 mmol/L")
    [problem] = problems(text, tmp_path)
    assert problem.startswith(f"{line_of(text, 'potasium')}:")
    assert "unknown concept 'potasium'; did you mean 'potassium'?" in problem


def test_instruction_goes_with_a_suggestion_and_names_known_values(tmp_path: Path) -> None:
    text = RULESET.replace(
        "      instruction: Check blood pressure and test urine for protein",
        "      instruction: Check {blood_pressure}",
    )
    assert problems(text, tmp_path) == [
        f"{line_of(text, '{blood_pressure}')}:20: {{blood_pressure}} names no concept or parameter",
    ]
