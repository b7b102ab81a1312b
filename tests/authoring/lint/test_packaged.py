"""The packaged rulesets lint with every warning answered in their YAML."""

import pytest

from authoring.lint import lint, load_with_source


@pytest.mark.parametrize("ruleset", ["calf-fasciculation", "hyperkalaemia"])
def test_packaged_rulesets_have_no_unanswered_warning(ruleset: str) -> None:
    loaded, source = load_with_source(ruleset)
    findings = lint(loaded, source)
    assert [str(f) for f in findings if f.level != "note"] == []
