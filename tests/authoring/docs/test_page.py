"""The review page's content, through library calls: escaping, unit systems, every rule,
reviewers, the scenario table and the lint findings."""

from __future__ import annotations

from pathlib import Path

import engine
from authoring import Finding
from authoring.docs import build_page, page_for, to_html, to_markdown, write_docs
from engine.conditions import suppressed_rule
from engine.loader import check_text
from tests.authoring.docs.tiny import RULESET, tiny_folder


def test_markup_in_a_title_is_escaped_in_both_pages(tmp_path: Path) -> None:
    page, (html, markdown) = write_docs(tiny_folder(tmp_path), tmp_path / "out")
    for text in (html.read_text(), markdown.read_text()):
        assert "<script>" not in text and "<b>low" not in text
        assert "Low calcium &lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "Calcium &lt;b&gt;low&lt;/b&gt;" in text
        assert "javascript:" not in text  # a citation's URL that is not http(s) is no link
    assert '<a href="https://example.org/guide">A guide</a>' in html.read_text()
    assert page.title == "Low calcium <script>alert(1)</script>"


def test_a_threshold_is_given_in_each_unit_system_the_concept_converts_to(
    tmp_path: Path,
) -> None:
    page, (html, markdown) = write_docs(tiny_folder(tmp_path), tmp_path / "out")
    [low, slow] = page.rules
    # molar (as written), equivalents by the valence, mass by the molar mass
    assert low.conditions[0].text == "calcium is below 2.10 mmol/L (4.2 mEq/L; ≈8.42 mg/dL)"
    # a literal threshold too; a rate has no other unit system
    assert [line.text for line in slow.conditions] == [
        "any of:",
        "heart rate is below 50 /min",
        "calcium is below 1.5 mmol/L (3 mEq/L; ≈6.01 mg/dL)",
    ]
    for text in (html.read_text(), markdown.read_text()):
        assert "2.10 mmol/L (4.2 mEq/L; ≈8.42 mg/dL)" in text


def test_every_rule_of_the_calf_ruleset_is_on_the_page_in_words() -> None:
    path = engine.packaged_rulesets()["calf-fasciculation"]
    ruleset = check_text(path.read_text(), str(path), source=path)  # not compiled: fast
    page = page_for(ruleset, None)
    html, markdown = to_html(page), to_markdown(page)
    written = [rule for rule in ruleset.rules if suppressed_rule(rule.id) is None]
    assert len(page.rules) == len(written) == 67  # each rule as written, no loader's twin
    assert not any("(suppressed)" in entry.id for entry in page.rules)
    for rule in written:
        assert f'id="rule-{rule.id}"' in html
        assert f"`{rule.id}`" in markdown
        entry = next(e for e in page.rules if e.id == rule.id)
        assert entry.conditions and all(line.text for line in entry.conditions)
    assert "Not run for this page." in html
    assert page.scope and "Applies only when:" in html and "Applies only when:" in markdown
    assert any(line.startswith("Do now") for entry in page.rules for line in entry.advice)
    assert page.value_sets and all(v.codes and v.problem is None for v in page.value_sets)
    # a code of a value set has its display beside it on the concept's row
    assert any(c.display for concept in page.concepts for c in concept.codes)


def test_reviewers_are_named_or_the_page_says_not_yet_reviewed() -> None:
    ruleset = check_text(RULESET)
    assert "not yet reviewed" in to_html(build_page(ruleset))
    reviewed = check_text(RULESET.replace("reviewers: []", "reviewers: [Dr B. Reviewer]"))
    page = build_page(reviewed)
    assert "Dr B. Reviewer" in to_html(page) and "not yet reviewed" not in to_html(page)
    assert "Dr B. Reviewer" in to_markdown(page)


def test_the_scenario_table_says_pass_or_fail_and_why(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path)
    wrong = (folder / "scenarios" / "normal.yaml").read_text().replace("none", "review")
    (folder / "scenarios" / "wrong.yaml").write_text(wrong)
    (folder / "scenarios" / "broken.yaml").write_text("scenario: [\n")
    page, (html, markdown) = write_docs(folder, tmp_path / "out")
    rows = {row.file: row for row in page.scenarios or ()}
    assert set(rows) == {"low.yaml", "normal.yaml", "wrong.yaml", "broken.yaml"}
    assert rows["low.yaml"].passed and rows["normal.yaml"].passed
    assert not rows["wrong.yaml"].passed and rows["wrong.yaml"].got == "none"
    assert rows["wrong.yaml"].expected == "review" and rows["wrong.yaml"].failures
    assert not rows["broken.yaml"].passed and "broken.yaml:" in rows["broken.yaml"].failures[0]
    assert "2 of 4 scenarios pass." in html.read_text()
    assert "2 of 4 scenarios pass." in markdown.read_text()


def test_a_card_note_says_when_it_is_shown() -> None:
    page = build_page(check_text(RULESET))
    assert page.notes == (
        ("recheck", "Recheck the calcium. (when rule low-calcium (Calcium <b>low</b>) fired)"),
    )
    assert "Recheck the calcium. (when rule low-calcium (Calcium &lt;b&gt;low" in to_html(page)


def test_lint_findings_given_are_rendered_in_their_section() -> None:
    finding = Finding("ruleset.yaml", 12, 5, "warning", "a <rule> never fires", "never-fires")
    page = build_page(check_text(RULESET), findings=[finding])
    assert "ruleset.yaml:12:5: warning: a &lt;rule&gt; never fires" in to_html(page)
    assert "`ruleset.yaml:12:5: warning: a <rule> never fires`" in to_markdown(page)
    assert '<h2 id="findings">Lint findings</h2><p>None.</p>' in to_html(
        build_page(check_text(RULESET))
    )


def test_an_effective_period_is_shown_when_the_ruleset_has_one() -> None:
    ruleset = check_text(RULESET)
    dated = check_text(
        RULESET.replace("status:", "effective: {from: 2026-01-01, until: 2026-12-31}\nstatus:", 1)
    )
    page = build_page(dated)
    assert page.effective == "from 2026-01-01 until 2026-12-31"
    assert "from 2026-01-01 until 2026-12-31" in to_html(page)
    assert "Effective: no period set" in to_markdown(build_page(ruleset))
