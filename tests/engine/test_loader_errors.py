"""A broken ruleset reports every problem at once, each at file:line:column, in clinical words."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from tests.engine.frozen import CALF_1
from tests.engine.rulesets import chained

HEADER = """\
id: broken
version: 1.0.0
status: draft
title: Broken on purpose
concepts:
  potassium: {codes: [loinc#2823-3], unit: mmol/L, molar-mass: 39.098 g/mol}
  weakness: {codes: [sct#26544005]}
  cramp: {codes: [sct#55300003], unit: min}
parameters:
  low_potassium: 3.5 mmol/L
  long_cramp: 10 min
rules:
"""
# after the rules, so the lines the tests name stay where they were
LEVELS = (
    "levels: [{id: none, title: No action, indicator: info}, "
    "{id: self-care, title: Self-care, indicator: info}, "
    "{id: primary-care, title: Primary care, indicator: warning}, "
    "{id: neurology, title: Neurology, indicator: warning}, "
    "{id: urgent, title: Urgent, indicator: critical}]\n"
)


def problems(rules: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "broken.yaml"
    path.write_text(HEADER + rules + LEVELS)
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_ruleset(path)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def test_unknown_concept_says_where_and_suggests_the_nearest(tmp_path: Path) -> None:
    found = problems(
        "  - id: a\n    when: potasium < low_potassium\n    then: {derive: x}\n", tmp_path
    )
    assert found == ["14:11: unknown concept 'potasium'; did you mean 'potassium'?"]


def test_threshold_without_a_unit(tmp_path: Path) -> None:
    found = problems("  - id: a\n    when: potassium < 3.5\n    then: {derive: x}\n", tmp_path)
    assert found == ["14:11: threshold 3.5 has no unit; potassium is measured in mmol/L"]


def test_threshold_with_a_unit_of_the_wrong_dimension(tmp_path: Path) -> None:
    found = problems(
        "  - id: a\n    when: potassium < long_cramp\n    then: {derive: x}\n", tmp_path
    )
    assert found == [
        "11:15: parameter `long_cramp` is 10 min (a duration) but `potassium` is read in mmol/L "
        "(a substance concentration): give it a unit of that dimension"
    ]


def test_mass_units_convert_only_with_a_molar_mass(tmp_path: Path) -> None:
    found = problems("  - id: a\n    when: cramp > 3 mg/dL\n    then: {derive: x}\n", tmp_path)
    assert found == [
        "14:11: threshold 3 mg/dL is in mg/dL (mass concentration), which cannot be compared "
        "with cramp in min (duration)"
    ]


def test_duplicate_rule_id(tmp_path: Path) -> None:
    rules = (
        "  - id: a\n    when: weakness present\n    then: {derive: x}\n"
        "  - id: a\n    when: weakness absent\n    then: {derive: y}\n"
    )
    assert problems(rules, tmp_path) == ["16:9: duplicate rule id `a`: first at line 13"]


def test_derived_finding_that_no_rule_produces(tmp_path: Path) -> None:
    rules = (
        "  - id: a\n    when: weakness present\n    then: {derive: weak}\n"
        "  - id: b\n    when: weakk\n    then: {suggest: urgent, summary: Weak}\n"
    )
    assert problems(rules, tmp_path) == [
        "17:11: no rule derives the finding 'weakk'; did you mean 'weak'?"
    ]


def test_a_concept_used_as_a_finding_says_how_to_write_it(tmp_path: Path) -> None:
    rules = "  - id: b\n    when: weakness\n    then: {suggest: urgent, summary: Weak}\n"
    assert problems(rules, tmp_path) == [
        "14:11: no rule derives the finding 'weakness'; weakness is a concept: "
        "write 'weakness present'"
    ]


def test_cycle_of_derivations(tmp_path: Path) -> None:
    rules = (
        "  - id: a\n    when: y\n    then: {derive: x}\n"
        "  - id: b\n    when: x\n    then: {derive: y}\n"
    )
    assert problems(rules, tmp_path) == [
        "13:5: these rules derive each other's findings in a cycle: a -> b -> a"
    ]


def test_a_negation_cycle_is_a_cycle_too(tmp_path: Path) -> None:
    rules = "  - id: a\n    when: not x\n    then: {derive: x}\n"
    assert problems(rules, tmp_path) == [
        "13:5: these rules derive each other's findings in a cycle: a -> a"
    ]


def test_level_that_does_not_exist(tmp_path: Path) -> None:
    rules = "  - id: a\n    when: weakness present\n    then: {suggest: urgnet, summary: x}\n"
    assert problems(rules, tmp_path) == [
        "15:21: there is no level 'urgnet'; did you mean 'urgent'? "
        "(levels: self-care, primary-care, neurology, urgent)"
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    rules = (
        "  - id: a\n    when: potasium < 3.5\n    then: {suggest: urgnet, summary: x}\n"
        "  - id: a\n    when: nothing-derives-this\n    then: {derive: y}\n"
        "  - id: c\n    when: cramp span >= 3 mmol/L\n    then: {derive: z}\n"
    )
    found = problems(rules, tmp_path)
    assert len(found) == 4
    assert [f.split(":")[0] for f in found] == ["14", "15", "16", "20"]


def test_a_condition_with_too_many_alternatives_for_durable_rules(tmp_path: Path) -> None:
    options = "".join(f"\n        - potassium < {n / 10} mmol/L" for n in range(70))
    rules = f"  - id: a\n    when:\n      any:{options}\n    then: {{derive: x}}\n"
    assert problems(rules, tmp_path) == [
        "13:5: rule a: its condition expands to 70 alternatives; split the rule"
    ]


def test_a_condition_needing_too_many_facts_at_once(tmp_path: Path) -> None:
    negations = "".join(f"\n      - not potassium < {n / 10} mmol/L" for n in range(16))
    rules = f"  - id: a\n    when:{negations}\n    then: {{derive: x}}\n"
    assert problems(rules, tmp_path) == [
        "13:5: rule a: one alternative of its condition needs 17 facts at once (at most 15); "
        "split the rule"
    ]


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    found = problems("  - id: a\n    when: [weakness present\n    then: {derive: x}\n", tmp_path)
    # at the `[` that is never closed, saying to quote the text
    assert len(found) == 1 and found[0].startswith("14:11:")
    assert "not valid YAML" in found[0] and "quotes" in found[0]


def test_missing_and_unknown_keys(tmp_path: Path) -> None:
    found = problems("  - id: a\n    wehn: weakness present\n    then: {derive: x}\n", tmp_path)
    assert found == [
        "13:5: rule `a` needs `when:`",
        "14:5: unknown key `wehn` in rule `a`; did you mean `when`?",
    ]


def test_condition_that_cannot_be_read(tmp_path: Path) -> None:
    found = problems("  - id: a\n    when: weakness seems bad\n    then: {derive: x}\n", tmp_path)
    assert found == [
        "14:11: cannot read the condition 'weakness seems bad'; write e.g. "
        "'potassium < low_potassium', 'weakness present', or the name of a derived finding"
    ]


@pytest.mark.parametrize(
    ("condition", "written"),
    [("potassium == low_potassium", "=="), ("potassium => low_potassium", "=>")],
)
def test_an_operator_the_language_lacks_is_named_as_written(
    tmp_path: Path, condition: str, written: str
) -> None:
    # `==` read as `=` and a threshold '= low_potassium': "neither a parameter nor a number"
    found = problems(f"  - id: a\n    when: {condition}\n    then: {{derive: x}}\n", tmp_path)
    assert found == [
        f"14:11: {written!r} in {condition!r} is not an operator; use one of <, <=, >, >=, ="
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("K {Potassium}", "{Potassium} names no concept or parameter; did you mean 'potassium'?"),
        ("K {nonexistent}", "{nonexistent} names no concept or parameter"),
        (
            "K { potassium }",
            "{ potassium } names no concept or parameter; did you mean 'potassium'?",
        ),
        ("K {potassium", "{ without its pair; braces only mark placeholders such as {potassium}"),
    ],
)
@pytest.mark.parametrize("field", ["summary", "detail"])
def test_a_brace_that_is_no_placeholder_is_an_error_at_the_text(
    tmp_path: Path, field: str, text: str, message: str
) -> None:
    # {Potassium} was left literal on the card, with no warning
    then = f"    then: {{suggest: urgent, summary: Weak, {field}: '{text}'}}"
    then = then.replace("summary: Weak, summary:", "summary:")
    rules = f"  - id: a\n    when: weakness present\n{then}\n"
    assert problems(rules, tmp_path) == [f"15:{then.index(chr(39)) + 1}: {message}"]


def test_a_placeholder_in_advice_text_must_name_something_too(tmp_path: Path) -> None:
    # an advice {nonexistent} was filled as "not recorded"
    rules = (
        "  - id: a\n    when: weakness present\n    then:\n      suggest: self-care\n"
        "      summary: Weak\n      advice:\n        - text: Rest {nonexistent}\n"
    )
    assert problems(rules, tmp_path) == ["19:17: {nonexistent} names no concept or parameter"]


def test_problems_print_with_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(chained("3.5 mg/d"))
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_ruleset(path)
    assert str(caught.value).splitlines() == [
        "1 problem in ruleset",
        f"{path}:11:18: parameter `low_potassium` is 3.5 mg/d (a mass per day) but `potassium` "
        "is read in mmol/L (a substance concentration): give it a unit of that dimension",
    ]


def test_a_ruleset_file_that_is_not_utf8_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(chained().replace("A guideline", "Leitlinie für Kalium").encode("latin-1"))
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_ruleset(path)
    assert [str(p) for p in caught.value.problems] == [f"{path}:1:1: the file is not UTF-8 text"]


def test_an_unknown_ruleset_reference_lists_the_packaged_ones() -> None:
    with pytest.raises(engine.RulesetNotFound) as caught:
        engine.load_ruleset("calf-fasciculaton")
    assert "no packaged ruleset or file named 'calf-fasciculaton'" in str(caught.value)
    assert "calf-fasciculation" in str(caught.value)


CALF = CALF_1.read_text()


def calf_problems(old: str, new: str, tmp_path: Path) -> list[str]:
    """The problems of the packaged calf ruleset with one line changed, each at line:column."""
    assert old in CALF
    path = tmp_path / "calf.yaml"
    path.write_text(CALF.replace(old, new, 1))
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_ruleset(path)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def calf_position(text: str) -> str:
    """line:column of the value after the first key of `text` in the packaged calf ruleset."""
    before = CALF[: CALF.index(text)]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + text.index(":") + 3
    return f"{line}:{column}"


POTASSIUM_LOOKBACK = "lookback: 30 days\n    molar-mass: 39.098"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            POTASSIUM_LOOKBACK,
            POTASSIUM_LOOKBACK.replace("30", "-30"),
            "potassium lookback '-30 days' must be more than 0 "
            "(leave lookback out to count records of any age)",
        ),
        (
            POTASSIUM_LOOKBACK,
            POTASSIUM_LOOKBACK.replace("30", "0"),
            "potassium lookback '0 days' must be more than 0 "
            "(leave lookback out to count records of any age)",
        ),
        (
            POTASSIUM_LOOKBACK,
            POTASSIUM_LOOKBACK.replace("30", "99999999999"),
            "potassium lookback '99999999999 days' is too long to be a date range",
        ),
        (
            "molar-mass: 39.098 g/mol",
            "molar-mass: -39.098 g/mol",
            "potassium: molar-mass '-39.098 g/mol' must be more than 0 g/mol",
        ),
        (
            "molar-mass: 39.098 g/mol",
            "molar-mass: 0 g/mol",
            "potassium: molar-mass '0 g/mol' must be more than 0 g/mol",
        ),
        (
            "molar-mass: 39.098 g/mol",
            'molar-mass: "39.098"',
            "potassium: write molar-mass as e.g. '24.305 g/mol'",
        ),
        (
            "chronic_twitching: 14 days",
            "chronic_twitching: -14 days",
            "parameter chronic_twitching: a duration must be more than 0, not -14 days",
        ),
        (
            "prolonged_cramp: 10 min",
            "prolonged_cramp: 0 min",
            "parameter prolonged_cramp: a duration must be more than 0, not 0 min",
        ),
        (
            "persistent_weakness_records: 2",
            "persistent_weakness_records: -2",
            "weakness count is a whole number, 0 or more; persistent_weakness_records (-2) is not",
        ),
        (
            "widespread_sites: 2",
            "widespread_sites: -1",
            "fasciculation sites is a whole number, 0 or more; widespread_sites (-1) is not",
        ),
        (
            "weak_mrc_grade: 4",
            "weak_mrc_grade: yes",
            "parameter weak_mrc_grade: YAML reads this as true (yes/no), not a number; "
            "write a number, e.g. 4 or 14 days",
        ),
        (
            "valence: 1",
            "valence: yes",
            "`valence` of concept `potassium` must be a whole number, not `true` (YAML reads "
            "yes, no, on and off as true or false)",
        ),
    ],
    ids=[
        "negative-lookback",
        "zero-lookback",
        "endless-lookback",
        "negative-molar-mass",
        "zero-molar-mass",
        "molar-mass-without-its-unit",
        "negative-duration",
        "zero-duration",
        "negative-count",
        "negative-sites",
        "yes-as-a-number",
        "yes-as-a-valence",
    ],
)
def test_a_number_that_cannot_be_right_is_refused_where_it_is_written(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert calf_problems(old, new, tmp_path) == [f"{calf_position(old)}: {message}"]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("cramp span >= -14 days", "threshold -14 days is a duration, which must be more than 0"),
        ("cramp highest > 0 min", "threshold 0 min is a duration, which must be more than 0"),
        ("weakness count >= -1", "weakness count is a whole number, 0 or more; -1 is not"),
    ],
)
def test_a_threshold_written_in_a_rule_is_checked_the_same_way(
    tmp_path: Path, condition: str, message: str
) -> None:
    found = problems(f"  - id: a\n    when: {condition}\n    then: {{derive: x}}\n", tmp_path)
    assert found == [f"14:11: {message}"]


def test_a_count_of_zero_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(HEADER + "  - id: a\n    when: weakness count > 0\n    then: {derive: x}\n")
    assert engine.load_ruleset(path).rules[0].id == "a"
