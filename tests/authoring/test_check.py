"""`authoring.check`: every problem of a ruleset at once, located, in an author's words."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authoring.check import UNREADABLE, check, check_text

SMALL = """\
id: small
version: 1.0.0
status: draft
title: A small ruleset
levels:
  - {id: none, title: No action, indicator: info}
  - {id: review, title: Review, indicator: warning}
concepts:
  sodium: {codes: [loinc#2951-2], unit: mmol/L}
  thirst: {codes: [sct#17173007]}
parameters:
  low_sodium: 130 mmol/L
rules:
  - id: low
    when: sodium < low_sodium
    then:
      suggest: review
      summary: Low result
  - id: thirsty
    when: thirst present
    then: {derive: dry}
"""

PYDANTIC_WORDS = ("Input should", "Field required", "Extra inputs", "type=", "pydantic")


def lines(text: str) -> list[str]:
    return [f"{f.line}:{f.column}: {f.message}" for f in check_text(text, "r.yaml").findings]


def line_of(text: str, part: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if part in line)


def test_a_clean_ruleset_has_no_findings_and_a_summary() -> None:
    report = check_text(SMALL, "r.yaml")
    assert report.findings == [] and report.exit_code == 0
    assert report.ruleset is not None and report.ruleset.id == "small"
    assert report.summary() == "small 1.0.0: no problems; 2 rules, 2 compiled"
    assert report.to_dict() == {"ruleset": "small", "version": "1.0.0", "findings": []}


def test_the_packaged_hyperkalaemia_ruleset_checks_clean() -> None:
    report = check("hyperkalaemia")
    assert report.findings == []
    assert report.summary().startswith("hyperkalaemia 1.0.0: no problems; 51 rules, ")


def test_a_shape_problem_does_not_hide_a_typo_elsewhere() -> None:
    text = SMALL.replace("status: draft", "status: draft\nconcpets: {}").replace(
        "thirst present", "thrist present"
    )
    assert lines(text) == [
        "4:1: unknown key `concpets` in the ruleset; did you mean `concepts`?",
        "21:11: unknown concept 'thrist'; did you mean 'thirst'?",
    ]


def test_values_are_named_in_plain_words() -> None:
    text = SMALL.replace("status: draft", "status: live").replace(
        "title: A small ruleset", "title: [A]"
    )
    text = text.replace("version: 1.0.0", "version: 1.0")
    assert lines(text) == [
        "2:10: version `1.0` is not semantic: write major.minor.patch, e.g. 1.0.0",
        "3:9: `status` must be one of draft, active, retired, not `live`",
        "4:8: `title` must be a text, not a list",
    ]


def test_a_missing_key_and_a_wrong_type_inside_a_rule() -> None:
    text = SMALL.replace("    when: thirst present\n", "").replace(
        "{derive: dry}", "{derive: dry, cite: 3}"
    )
    found = lines(text)
    assert found == [
        "19:5: rule `thirsty` needs `when:`",
        "20:31: `then.cite` of rule `thirsty` must be a text or a list, not `3`",
    ]


def test_a_broken_concept_is_not_also_unknown_where_a_rule_reads_it() -> None:
    text = SMALL.replace("unit: mmol/L}", "unti: mmol/L}")
    assert lines(text) == ["9:35: unknown key `unti` in concept `sodium`; did you mean `unit`?"]


def test_a_broken_parameter_is_not_also_unknown() -> None:
    text = SMALL.replace("low_sodium: 130 mmol/L", "low_sodium: [130, mmol/L]")
    assert lines(text) == [
        "12:15: parameter `low_sodium` must be a number, a number with a unit, a duration "
        "(14 days) or a code (system#code), not a list"
    ]


def test_the_rest_is_checked_when_every_rule_is_set_aside() -> None:
    text = SMALL.replace("    when: sodium < low_sodium\n", "").replace(
        "thirst present", "thirst present\n    wehn: 1"
    )
    text += "red-flags:\n  - {id: parched, label: Thirst, concept: thrist}\n"
    assert lines(text) == [
        "14:5: rule `low` needs `when:`",
        "20:5: unknown key `wehn` in rule `thirsty`; did you mean `when`?",
        "23:43: red flag 'Thirst': unknown concept 'thrist'; did you mean 'thirst'?",
    ]


def test_a_finding_of_a_rule_set_aside_is_not_also_never_derived() -> None:
    text = SMALL.replace("{derive: dry}", "{derive: dry, cite: 3}")
    text += (
        "  - id: dry-low\n    when: [dry, sodium < low_sodium]\n"
        "    then: {suggest: review, summary: Dry}\n"
    )
    assert lines(text) == ["21:31: `then.cite` of rule `thirsty` must be a text or a list, not `3`"]


def test_a_duplicate_rule_id_points_at_both_lines() -> None:
    text = SMALL.replace("id: thirsty", "id: low")
    report = check_text(text, "r.yaml")
    assert [(f.line, f.code, f.message) for f in report.findings] == [
        (19, "duplicate-id", "duplicate rule id `low`: first at line 14")
    ]


def test_a_duplicate_mapping_key_is_reported_not_silently_dropped() -> None:
    text = SMALL.replace("  thirst: {codes", "  sodium: {codes: [loinc#2947-0]}\n  thirst: {codes")
    report = check_text(text, "r.yaml")
    assert [(f.line, f.code) for f in report.findings] == [(10, "duplicate-key")]
    assert report.findings[0].message.startswith("duplicate key `sodium`: first at line 9")


def test_a_parameter_of_the_wrong_dimension_is_reported_at_the_parameter() -> None:
    text = SMALL.replace("130 mmol/L", "3 mg")
    report = check_text(text, "r.yaml")
    assert [(f.line, f.code, f.message) for f in report.findings] == [
        (
            12,
            "unit-dimension",
            "parameter `low_sodium` is 3 mg (a mass) but `sodium` is read in mmol/L "
            "(a substance concentration): give it a unit of that dimension",
        )
    ]


@pytest.mark.parametrize(
    ("old", "new", "at", "advice"),
    [
        ("summary: Low result", "summary: Low: recheck", "Low: recheck", "holding `: `"),
        ("summary: Low result", "summary: [Low] result", "[Low] result", "starting with `[`"),
        ("summary: Low result", "summary: @low", "@low", "cannot start with `@`"),
        ("  - id: thirsty", "\t- id: thirsty", "\t- id", "a tab cannot indent"),
        ("title: A small ruleset", 'title: "A small ruleset', '"A small', "never closed"),
        ("    then: {derive: dry}", "   then: {derive: dry}", "   then: {derive", "indented"),
        ("{derive: dry}", "{derive: dry, summary: Dry: drink}", "Dry: drink", "holding `: `"),
        ("{derive: dry}", "{derive: dry", "then: {derive", "is read as a mapping"),
    ],
    ids=[
        "colon",
        "bracket",
        "at-sign",
        "tab",
        "unclosed-quote",
        "indentation",
        "colon-in-braces",
        "unclosed-brace",
    ],
)
def test_a_yaml_syntax_error_says_what_to_do(old: str, new: str, at: str, advice: str) -> None:
    text = SMALL.replace(old, new)
    report = check_text(text, "r.yaml")
    assert len(report.findings) == 1
    finding = report.findings[0]
    assert finding.code == "yaml-syntax" and finding.line == line_of(text, at)
    assert advice in finding.message


def test_a_file_that_cannot_be_read_is_unreadable(tmp_path: Path) -> None:
    assert check(tmp_path / "missing.yaml").exit_code == 2
    path = tmp_path / "ruleset.yaml"
    path.write_bytes("title: Kälte".encode("latin-1"))
    report = check(tmp_path)
    assert report.exit_code == 2 and report.findings[0].code == UNREADABLE
    assert str(report.findings[0]) == f"{path}: error: the file is not UTF-8 text"


def test_a_folder_is_read_by_its_ruleset_file(tmp_path: Path) -> None:
    (tmp_path / "ruleset.yaml").write_text(SMALL)
    report = check(str(tmp_path))
    assert report.exit_code == 0 and report.file == str(tmp_path / "ruleset.yaml")


# -- whatever an author does to a valid ruleset, check answers in words and never raises ----

SMALL_DATA = yaml.safe_load(SMALL)
KEYS = ["id", "version", "status", "title", "levels", "concepts", "parameters", "rules"]
odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["a", "when", "codes"]), st.integers(), max_size=2),
)


def _paths(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


PATHS = _paths(SMALL_DATA)


def _mutate(data: dict[str, object], draw: st.DataObject) -> None:
    path = draw.draw(st.sampled_from(PATHS))
    parent: object = data
    for part in path[:-1]:
        parent = parent[part]  # type: ignore[index]
    last = path[-1]
    action = draw.draw(st.sampled_from(["drop", "retype", "unknown-key"]))
    if action == "drop" and isinstance(parent, dict):
        parent.pop(last, None)
    elif action == "unknown-key" and isinstance(parent, dict):
        parent[f"{last}x"] = parent.get(last)
    elif isinstance(parent, dict | list):
        parent[last] = draw.draw(odd_values)  # type: ignore[index]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutations_are_reported_without_pydantic_words(draw: st.DataObject) -> None:
    data = yaml.safe_load(SMALL)
    for _ in range(draw.draw(st.integers(1, 3))):
        # a path may lead into a value an earlier mutation replaced
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _mutate(data, draw)
    report = check_text(yaml.safe_dump(data, sort_keys=False), "r.yaml")
    for finding in report.findings:
        assert finding.level == "error" and finding.code
        assert not any(word in finding.message for word in PYDANTIC_WORDS), finding.message
        assert finding.line >= 1


def test_a_release_check_names_what_is_missing_and_a_version_not_bumped(tmp_path: Path) -> None:
    last = tmp_path / "last" / "ruleset.yaml"
    last.parent.mkdir()
    last.write_text(SMALL)
    edited = SMALL.replace("status: draft", "status: active\nreviewers: [Dr B]").replace(
        "130 mmol/L", "131 mmol/L"
    )
    now = tmp_path / "now" / "ruleset.yaml"
    now.parent.mkdir()
    now.write_text(edited)

    report = check(now.parent, release=True, against=last.parent)

    assert [(f.line, f.code) for f in report.findings] == [(2, "release-version-unchanged")]
    assert report.exit_code == 1 and report.summary().endswith("1 thing(s) to do before a release")
    now.write_text(edited.replace("version: 1.0.0", "version: 1.1.0"))
    ready = check(now.parent, release=True, against=last.parent)
    assert ready.findings == [] and ready.exit_code == 0
    assert ready.summary() == "small 1.1.0: ready to release"
    assert check(now.parent).exit_code == 0  # without --release, only what loading rejects
