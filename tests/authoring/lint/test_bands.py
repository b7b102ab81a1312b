"""Threshold bands of one concept: overlapping, leaving a gap, out of order."""

from tests.authoring.lint.rulesets import edited, line_of, lines_of, lint_text


def test_overlapping_bands() -> None:
    text = edited(
        (
            "[potassium >= mild_potassium, potassium < moderate_potassium]",
            "[potassium >= mild_potassium, potassium < 6.2 mmol/L]",
        )
    )
    findings = lint_text(text)
    assert lines_of(findings, "band-overlap") == [line_of(text, "id: moderate-k")]
    message = next(f.message for f in findings if f.code == "band-overlap")
    assert ">= 6 and < 6.2 mmol/L is in both bands" in message


def test_a_gap_of_one_value_between_bands() -> None:
    # `< 6.0` and `> 6.0`: which rule owns exactly 6.0?
    text = edited(
        (
            "[potassium >= moderate_potassium, potassium < severe_potassium]",
            "[potassium > moderate_potassium, potassium < severe_potassium]",
        )
    )
    findings = lint_text(text)
    assert lines_of(findings, "band-gap") == [line_of(text, "id: moderate-k")]
    message = next(f.message for f in findings if f.code == "band-gap")
    assert "no rule owns exactly 6 mmol/L between rule mild-k" in message


def test_a_range_left_between_bands() -> None:
    text = edited(("when: potassium >= severe_potassium", "when: potassium >= 7 mmol/L"))
    findings = lint_text(text)
    assert lines_of(findings, "band-gap") == [line_of(text, "id: severe-k")]
    assert "no rule owns >= 6.5 and < 7 mmol/L" in next(
        f.message for f in findings if f.code == "band-gap"
    )


def test_levels_out_of_order() -> None:
    # moderate below mild
    text = edited(
        ("then: {suggest: mild, summary: Mild", "then: {suggest: moderate, summary: Mild"),
        ("then: {suggest: moderate, summary: Moderate", "then: {suggest: mild, summary: Moderate"),
    )
    findings = lint_text(text)
    assert lines_of(findings, "band-order") == [line_of(text, "id: moderate-k")]


def test_falling_bands_in_order_are_clean() -> None:
    # a low value more severe the lower it is
    text = edited(
        (
            "potassium >= mild_potassium, potassium < moderate_potassium",
            "potassium < 3.5 mmol/L, potassium >= 3.0 mmol/L",
        ),
        (
            "potassium >= moderate_potassium, potassium < severe_potassium",
            "potassium < 3.0 mmol/L, potassium >= 2.5 mmol/L",
        ),
        ("when: potassium >= severe_potassium", "when: potassium < 2.5 mmol/L"),
    )
    text = text.replace("parameters:\n", "").replace("  mild_potassium: 5.5 mmol/L\n", "")
    text = text.replace("  moderate_potassium: 6.0 mmol/L\n", "")
    text = text.replace("  severe_potassium: 6.5 mmol/L\n", "")
    assert lint_text(text) == []


def test_the_normal_range_between_low_and_high_bands_is_no_gap() -> None:
    low = """\
  - id: low-k
    when: [potassium < 3.5 mmol/L, potassium >= 2.5 mmol/L]
    then: {suggest: mild, summary: Low, cite: [guide]}
  - id: very-low-k
    when: potassium < 2.5 mmol/L
    then: {suggest: severe, summary: Very low, cite: [guide]}
"""
    assert lint_text(edited() + low) == []
