"""A ruleset is in force when active and within its effective dates, judged in its time zone;
the registry offers only those by default, and reads their standing without compiling them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import engine
from engine import registry
from engine.lifecycle import Standing, in_force, named_warning, not_in_force, read_standing

RULESET = """\
id: tiny
version: 0.1.0
status: {status}
{effective}title: Tiny
time-zone: Europe/London
concepts:
  potassium: {{kind: quantity, codes: ['loinc#2823-3'], unit: mmol/L}}
levels:
  - {{id: none, title: No action, indicator: info}}
  - {{id: act, title: Act, indicator: warning}}
rules:
  - id: high
    when: potassium > 6 mmol/L
    then: {{suggest: act, summary: High}}
"""


def tiny(status: str = "active", effective: str = "") -> str:
    return RULESET.format(status=status, effective=f"effective: {effective}\n" if effective else "")


def test_the_effective_period_is_loaded_with_either_end_optional() -> None:
    both = engine.load_text(tiny(effective="{from: 2026-01-01, until: 2026-12-31}"))
    start = engine.load_text(tiny(effective="{from: 2026-01-01}"))

    assert (both.effective_from, both.effective_until) == (date(2026, 1, 1), date(2026, 12, 31))
    assert (start.effective_from, start.effective_until) == (date(2026, 1, 1), None)
    assert engine.load_text(tiny()).effective_from is None


def test_a_date_that_is_not_a_date_is_an_error_at_its_line() -> None:
    with pytest.raises(engine.RulesetError) as raised:
        engine.load_text(tiny(effective="{from: soon}"), "r.yaml")

    [problem] = raised.value.problems
    assert (
        str(problem) == "r.yaml:4:19: `effective.from` `soon` is not a date: write it as YYYY-MM-DD"
    )


@pytest.mark.parametrize(
    ("status", "effective", "reason"),
    [
        ("active", "", None),
        ("draft", "", "is a draft"),
        ("retired", "", "is retired"),
        ("active", "{from: 2026-03-02}", "is not effective until 2026-03-02"),
        ("active", "{until: 2026-02-28}", "was effective until 2026-02-28"),
        ("active", "{from: 2026-03-01, until: 2026-03-01}", None),
    ],
)
def test_why_a_ruleset_is_not_in_force(status: str, effective: str, reason: str | None) -> None:
    ruleset = engine.load_text(tiny(status, effective))

    assert not_in_force(ruleset, datetime(2026, 3, 1, 12, tzinfo=UTC)) == reason
    assert in_force(ruleset, datetime(2026, 3, 1, 12, tzinfo=UTC)) is (reason is None)


def test_the_effective_date_is_today_in_the_rulesets_time_zone() -> None:
    # 23:30 UTC on 31 March is 00:30 on 1 April in London (summer time)
    standing = Standing(
        "x", "1.0.0", "active", effective_from=date(2026, 4, 1), time_zone="Europe/London"
    )
    late = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)

    assert in_force(standing, late)
    assert not in_force(Standing("x", "1.0.0", "active", date(2026, 4, 1)), late)


def test_the_warning_for_a_ruleset_used_because_it_was_named() -> None:
    draft = Standing("calf-x", "0.1.0", "draft")

    assert named_warning(draft) == "calf-x 0.1.0 is a draft: used because it was named"
    assert named_warning(Standing("calf-x", "1.0.0", "active")) is None


def test_the_standing_is_read_from_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "ruleset.yaml"
    path.write_text(tiny("retired", "{until: 2026-12-31}"))
    (tmp_path / "bad.yaml").write_text("id: [unclosed")

    assert read_standing(path) == Standing(
        "tiny", "0.1.0", "retired", None, date(2026, 12, 31), "Europe/London"
    )
    assert read_standing(tmp_path / "bad.yaml") is None
    assert read_standing(tmp_path / "missing.yaml") is None


def test_packaged_rulesets_offers_those_in_force_unless_every_one_is_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in [
        ("in_force", tiny()),
        ("drafted", tiny("draft")),
        ("later", tiny(effective="{from: 2030-01-01}")),
    ]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "ruleset.yaml").write_text(text)
    monkeypatch.setattr(registry, "_packaged_root", lambda: tmp_path)

    assert list(engine.packaged_rulesets()) == ["in-force"]
    assert list(engine.packaged_rulesets(as_of=datetime(2030, 1, 2, tzinfo=UTC))) == [
        "in-force",
        "later",
    ]
    assert list(engine.packaged_rulesets(every=True)) == ["drafted", "in-force", "later"]
    assert engine.load_ruleset("drafted").status == "draft"  # named: used whatever its status


def test_both_packaged_rulesets_are_in_force() -> None:
    assert set(engine.packaged_rulesets()) == {"calf-fasciculation", "hyperkalaemia"}
