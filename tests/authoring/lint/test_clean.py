from tests.authoring.lint.rulesets import CLEAN, lint_text


def test_the_clean_example_has_no_findings() -> None:
    assert lint_text(CLEAN) == []
