"""A suggesting rule without a citation, a ruleset without reviewers."""

from tests.authoring.lint.rulesets import edited, line_of, lines_of, lint_text


def test_a_rule_without_a_citation() -> None:
    text = edited(
        (
            "{suggest: moderate, summary: Moderate, cite: [guide]}",
            "{suggest: moderate, summary: Moderate}",
        )
    )
    assert lines_of(lint_text(text), "no-citation") == [line_of(text, "id: moderate-k")]


def test_a_ruleset_without_reviewers() -> None:
    text = edited(("reviewers: [Dr A Reviewer]", "reviewers: []"))
    assert lines_of(lint_text(text), "no-reviewers") == [line_of(text, "reviewers:")]


def test_a_ruleset_that_never_names_reviewers() -> None:
    text = edited(("reviewers: [Dr A Reviewer]\n", ""))
    assert lines_of(lint_text(text), "no-reviewers") == [line_of(text, "id: lint-example")]
