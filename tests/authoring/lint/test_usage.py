"""Concepts, parameters and derived findings nothing reads."""

from tests.authoring.lint.rulesets import edited, line_of, lines_of, lint_text


def test_an_unused_concept() -> None:
    text = edited(
        (
            "unit: mmol/L}\n",
            "unit: mmol/L}\n  sodium: {kind: quantity, codes: [loinc#2951-2], unit: mmol/L}\n",
        )
    )
    assert lines_of(lint_text(text), "unused-concept") == [line_of(text, "sodium:")]


def test_an_unused_parameter() -> None:
    text = edited(("parameters:\n", "parameters:\n  spare_potassium: 7 mmol/L\n"))
    assert lines_of(lint_text(text), "unused-parameter") == [line_of(text, "spare_potassium")]


def test_a_parameter_read_only_by_a_summary_is_used() -> None:
    text = edited(
        ("parameters:\n", "parameters:\n  shown_potassium: 7 mmol/L\n"),
        ("summary: Severe,", "summary: 'Above {shown_potassium}',"),
    )
    assert lines_of(lint_text(text), "unused-parameter") == []


def test_a_finding_nobody_reads() -> None:
    rule = """\
  - id: note-high
    when: potassium >= mild_potassium
    then: {derive: high-potassium}
"""
    text = edited(("rules:\n", "rules:\n" + rule))
    assert lines_of(lint_text(text), "unused-finding") == [
        line_of(text, "then: {derive: high-potassium}")
    ]


def test_a_finding_read_by_a_rule_is_used() -> None:
    rule = """\
  - id: note-high
    when: potassium >= mild_potassium
    then: {derive: high-potassium}
"""
    text = edited(
        ("rules:\n", "rules:\n" + rule),
        (
            "when: potassium >= severe_potassium",
            "when: [high-potassium, potassium >= severe_potassium]",
        ),
    )
    assert lines_of(lint_text(text), "unused-finding") == []
