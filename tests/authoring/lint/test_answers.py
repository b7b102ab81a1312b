"""Warnings answered in `lint-answers:`, and answers that answer nothing."""

from tests.authoring.lint.rulesets import edited, line_of, lint_text

ANSWERS = """\
lint-answers:
  - {warning: no-reviewers, subject: lint-example, answer: Not reviewed yet; Dr B reviews in May}
"""


def test_an_answered_warning_is_a_note_with_its_answer() -> None:
    text = edited(("reviewers: [Dr A Reviewer]\n", "reviewers: []\n" + ANSWERS))
    [finding] = lint_text(text)
    assert (finding.code, finding.level, finding.line) == ("no-reviewers", "note", 5)
    assert finding.message.endswith("answered: Not reviewed yet; Dr B reviews in May")


def test_an_answer_to_no_warning_is_stale() -> None:
    text = edited(("reviewers: [Dr A Reviewer]\n", "reviewers: [Dr A Reviewer]\n" + ANSWERS))
    [finding] = lint_text(text)
    assert (finding.code, finding.level) == ("stale-answer", "warning")
    assert finding.line == line_of(text, "warning: no-reviewers")


def test_an_answer_naming_no_warning_code_says_so() -> None:
    answer = "lint-answers: [{warning: no-reviewer, subject: lint-example, answer: Typo}]\n"
    text = edited(("reviewers: [Dr A Reviewer]\n", "reviewers: []\n" + answer))
    stale = [f for f in lint_text(text) if f.code == "stale-answer"]
    assert [f.line for f in stale] == [line_of(text, "lint-answers:")]
    assert "'no-reviewer' is no warning code (band-gap," in stale[0].message
