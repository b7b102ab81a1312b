"""Competing rules: the same condition at two levels, and a rule a higher one shadows."""

from tests.authoring.lint.rulesets import edited, line_of, lines_of, lint_text


def test_two_rules_on_the_same_condition_with_different_levels() -> None:
    # written in another order and with the parameter's value: still the same condition
    rule = """\
  - id: severe-too
    when: [potassium < moderate_potassium, potassium >= 5.5 mmol/L]
    then: {suggest: severe, summary: Severe, cite: [guide]}
"""
    text = edited() + rule
    findings = lint_text(text)
    assert lines_of(findings, "same-condition-levels") == [line_of(text, "id: severe-too")]


def test_a_rule_shadowed_by_a_higher_level_rule() -> None:
    rule = """\
  - id: old-and-severe
    when: [potassium >= 7 mmol/L, age >= 80]
    then: {suggest: moderate, summary: Old, cite: [guide]}
"""
    text = edited(
        ("unit: mmol/L}\n", "unit: mmol/L}\n  age: {kind: demographic, field: age}\n"),
        ("rules:\n", "rules:\n" + rule),
    )
    findings = lint_text(text)
    assert lines_of(findings, "shadowed") == [line_of(text, "id: old-and-severe")]
    message = next(f.message for f in findings if f.code == "shadowed")
    assert "rule severe-k (severe) fires too" in message


def test_no_shadowing_when_the_hit_policy_shows_every_rule() -> None:
    rule = """\
  - id: old-and-severe
    when: [potassium >= 7 mmol/L, age >= 80]
    then: {suggest: moderate, summary: Old, cite: [guide]}
"""
    text = edited(
        ("unit: mmol/L}\n", "unit: mmol/L}\n  age: {kind: demographic, field: age}\n"),
        ("hit-policy: {show: escalation}", "hit-policy: {show: all}"),
        ("rules:\n", "rules:\n" + rule),
    )
    assert lines_of(lint_text(text), "shadowed") == []
