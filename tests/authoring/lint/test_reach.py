"""Rules that can never fire, each reported at its rule's line."""

from tests.authoring.lint.rulesets import edited, line_of, lines_of, lint_text

IMPOSSIBLE = """\
  - id: impossible
    when: [potassium < 3 mmol/L, potassium > 4 mmol/L]
    then: {suggest: severe, summary: Never, cite: [guide]}
"""


def test_contradictory_thresholds_in_one_conjunction() -> None:
    text = edited(("rules:\n", "rules:\n" + IMPOSSIBLE))
    findings = lint_text(text)
    assert lines_of(findings, "never-fires") == [line_of(text, "id: impossible")]
    message = next(f.message for f in findings if f.code == "never-fires")
    assert "`potassium < 3 mmol/L` and `potassium > 4 mmol/L`" in message


def test_thresholds_are_compared_in_canonical_units() -> None:
    # 20 mg/dL of potassium (molar mass 39.098) is 5.1 mmol/L: above 5 mmol/L, so possible
    rule = """\
  - id: converted
    when: [potassium > 5 mmol/L, potassium < 20 mg/dL]
    then: {suggest: mild, summary: Possible, cite: [guide]}
  - id: converted-impossible
    when: [potassium > 6 mmol/L, potassium < 20 mg/dL]
    then: {suggest: mild, summary: Never, cite: [guide]}
"""
    text = edited(
        ("unit: mmol/L}", "unit: mmol/L, molar-mass: 39.098 g/mol}"),
        ("rules:\n", "rules:\n" + rule),
    )
    assert lines_of(lint_text(text), "never-fires") == [line_of(text, "converted-impossible")]


def test_a_condition_and_its_negation() -> None:
    rule = """\
  - id: both-ways
    when: {all: [potassium >= severe_potassium, {not: potassium >= 6.5 mmol/L}]}
    then: {suggest: mild, summary: Never, cite: [guide]}
"""
    text = edited(("rules:\n", "rules:\n" + rule))
    assert lines_of(lint_text(text), "never-fires") == [line_of(text, "id: both-ways")]


def test_one_possible_alternative_is_enough() -> None:
    rule = """\
  - id: either
    when: {any: [[potassium < 3 mmol/L, potassium > 4 mmol/L], potassium < 2 mmol/L]}
    then: {suggest: mild, summary: Low, cite: [guide]}
"""
    text = edited(("rules:\n", "rules:\n" + rule))
    assert lines_of(lint_text(text), "never-fires") == []


def test_a_rule_contradicting_the_scope() -> None:
    rule = """\
  - id: child
    when: [age < 16, potassium >= severe_potassium]
    then: {suggest: severe, summary: Child, cite: [guide]}
"""
    text = edited(
        ("unit: mmol/L}\n", "unit: mmol/L}\n  age: {kind: demographic, field: age}\n"),
        ("rules:\n", "scope: age >= 18\nrules:\n" + rule),
    )
    findings = lint_text(text)
    assert lines_of(findings, "out-of-scope") == [line_of(text, "id: child")]
    message = next(f.message for f in findings if f.code == "out-of-scope")
    assert "`age < 16` and `age >= 18` cannot both hold" in message
    assert lines_of(findings, "never-fires") == []


def test_a_rule_needing_a_finding_only_an_impossible_rule_derives() -> None:
    rules = """\
  - id: impossible
    when: [potassium < 3 mmol/L, potassium > 4 mmol/L]
    then: {derive: odd-potassium}
  - id: needs-odd
    when: [odd-potassium, potassium >= mild_potassium]
    then: {suggest: mild, summary: Odd, cite: [guide]}
"""
    text = edited(("rules:\n", "rules:\n" + rules))
    findings = lint_text(text)
    assert lines_of(findings, "never-fires") == [line_of(text, "id: impossible")]
    assert lines_of(findings, "needs-underived-finding") == [line_of(text, "id: needs-odd")]
