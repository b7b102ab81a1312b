"""authoring.diff.diff_rulesets: what changed between two versions, compared as loaded models."""

from __future__ import annotations

from authoring.diff import diff_rulesets
from authoring.diff.plain import text_change
from engine import load_text

from .small_ruleset import RULESET


def _texts(old: str, new: str) -> list[str]:
    """The changes' texts, but for the reminder that the version did not change."""
    changes = diff_rulesets(load_text(old), load_text(new)).changes
    return [c.text for c in changes if not c.text.startswith("the rules changed but")]


def test_a_ruleset_compared_with_itself_has_no_changes() -> None:
    assert diff_rulesets(load_text(RULESET), load_text(RULESET)).identical


def test_moving_a_rule_in_the_file_is_no_change() -> None:
    moved = RULESET.replace("rules:\n", "rules:\n\n\n")
    assert _texts(RULESET, moved) == []


def test_a_threshold_change_names_the_parameter_both_values_and_the_rules_reading_it() -> None:
    new = RULESET.replace("severe_potassium: 6.5 mmol/L", "severe_potassium: 6.0 mmol/L")
    diff = diff_rulesets(load_text(RULESET), load_text(new.replace("1.0.0", "1.0.1")))
    assert [c.to_dict() for c in diff.changes] == [
        {
            "section": "metadata",
            "kind": "changed",
            "subject": "version",
            "text": "version: 1.0.0 -> 1.0.1",
            "line": 0,
        },
        {
            "section": "parameters",
            "kind": "changed",
            "subject": "severe_potassium",
            "text": "severe_potassium: 6.5 mmol/L -> 6.0 mmol/L (rules severe, raised)",
            "line": 0,
        },
    ]


def test_metadata_levels_and_citations_changes_are_reported() -> None:
    new = (
        RULESET.replace("version: 1.0.0", "version: 1.1.0")
        .replace("status: active", "status: draft")
        .replace("title: Urgent today", "title: Same-day admission")
        .replace("section: Severity", "section: Classification")
    )
    assert _texts(RULESET, new) == [
        "version: 1.0.0 -> 1.1.0",
        "status: active -> draft",
        "level urgent: title Urgent today -> Same-day admission",
        "citation ukka: section Severity -> Classification",
    ]


def test_rules_added_removed_and_changed_in_clinical_words() -> None:
    new = (
        RULESET.replace("  - id: weak\n    title: Weakness", "  - id: weakness\n    title: Weak")
        .replace(
            "suggest: recheck\n      summary: Raised", "suggest: urgent\n      summary: Raised"
        )
        .replace("when: potassium >= severe_potassium", "when: potassium >= 7 mmol/L")
        .replace("      cite: [ukka]\n", "")
    )
    diff = diff_rulesets(load_text(RULESET), load_text(new.replace("1.0.0", "2.0.0")))
    rules = {(c.kind, c.subject): c.text for c in diff.in_section("rules")}
    assert rules == {
        ("added", "weakness"): "rule weakness added: Weak: suggests recheck when weakness present",
        ("removed", "weak"): "rule weak removed: Weakness: suggests recheck when weakness present",
        ("changed", "severe"): "rule severe: no longer cites ukka",
        ("changed", "raised"): "rule raised: level recheck -> urgent",
    }
    severe = [c.text for c in diff.in_section("rules") if c.subject == "severe"]
    assert severe == [
        "rule severe: condition potassium >= severe_potassium -> potassium >= 7 mmol/L",
        "rule severe: no longer cites ukka",
    ]
    assert all(c.line > 0 for c in diff.in_section("rules"))
    # a parameter's value did not change: no parameter line, even though a rule stopped reading it
    assert "severe_potassium" not in {c.subject for c in diff.changes}


def test_concept_codes_and_units_added_and_removed() -> None:
    new = RULESET.replace(
        "codes: [loinc#2823-3], unit: mmol/L, lookback: 30 days",
        "codes: [loinc#2823-3, loinc#6298-4], unit: mmol/L, lookback: 14 days",
    ).replace(
        "weakness: {codes: [sct#26544005]}",
        "weakness: {codes: [sct#26544005]}\n  cramp: {codes: [sct#55300003]}",
    )
    assert _texts(RULESET, new) == [
        "concept cramp added: cramp [finding]: sct#55300003",
        "concept potassium: code loinc#6298-4 added",
        "concept potassium: lookback 30 days -> 14 days",
    ]


def test_a_renamed_rule_and_a_part_added_to_an_all_of_condition() -> None:
    new = RULESET.replace("  - id: weak\n", "  - id: weakness-only\n").replace(
        "when: [potassium >= high_potassium, potassium < severe_potassium]",
        "when: [potassium >= high_potassium, potassium < severe_potassium, weakness absent]",
    )
    assert _texts(RULESET, new) == [
        "rule weak renamed to weakness-only, otherwise unchanged",
        "rule raised: condition now also requires weakness absent",
    ]


def test_changed_rules_under_the_same_version_are_a_reminder_to_bump_it() -> None:
    new = RULESET.replace("title: Raised potassium\n", "title: Raised potassium level\n")
    texts = [c.text for c in diff_rulesets(load_text(RULESET), load_text(new)).changes]
    assert texts == [
        "the rules changed but the version is still 1.0.0: bump it to release",
        "rule raised: title Raised potassium -> Raised potassium level",
    ]
    # a status alone is the same content released (or retired): no new version needed
    retired = RULESET.replace("status: active", "status: retired")
    texts = [c.text for c in diff_rulesets(load_text(RULESET), load_text(retired)).changes]
    assert texts == ["status: active -> retired"]


def test_a_long_text_change_shows_the_words_that_differ() -> None:
    before = "Review medicines that cause cramp; check U&E, magnesium, adjusted calcium, TSH and CK"
    after = before.replace("adjusted calcium", "calcium")
    assert text_change(before * 2, after * 2).count("…") >= 2
    assert text_change("short", "text") == "short -> text"


def test_a_level_and_a_parameter_added_with_the_rule_reading_it() -> None:
    new = RULESET.replace(
        "  - {id: urgent, title: Urgent today, indicator: critical}\n",
        "  - {id: urgent, title: Urgent today, indicator: critical}\n"
        "  - {id: emergency, title: Emergency admission, indicator: critical}\n",
    ).replace(
        "  severe_potassium: 6.5 mmol/L\n",
        "  severe_potassium: 6.5 mmol/L\n  critical_potassium: 7.5 mmol/L\n",
    ) + (
        "  - id: critical\n"
        "    title: Critical potassium\n"
        "    when: potassium >= critical_potassium\n"
        "    then: {suggest: emergency, summary: Critical potassium}\n"
    )
    assert _texts(RULESET, new) == [
        "level emergency (Emergency admission, critical) added",
        "critical_potassium: 7.5 mmol/L added (rules critical)",
        "rule critical added: Critical potassium: suggests emergency when potassium >= "
        "critical_potassium",
    ]
    # and the way back
    assert _texts(new, RULESET) == [
        "level emergency (Emergency admission, critical) removed",
        "critical_potassium: 7.5 mmol/L removed (rules critical)",
        "rule critical removed: Critical potassium: suggests emergency when potassium >= "
        "critical_potassium",
    ]
