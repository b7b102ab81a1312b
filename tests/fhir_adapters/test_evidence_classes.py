"""Kinds of evidence (`weakness examined`, `weakness reported`) read from FHIR: an
Observation's category, a Condition's verification status, a score's value; and a reported
record superseded by a later examined-absent one."""

from __future__ import annotations

import pytest

from tests.fhir_adapters.record_semantics import (
    VIGIL,
    Resource,
    condition,
    evaluate,
    observation,
)

WEAKNESS = "26544005"
CALF, THIGH = "53840002", "68367000"

RULESET = """
id: weakness-test
version: 0.1.0
status: draft
title: Kinds of evidence
levels:
  - {id: none, title: None, indicator: info}
  - {id: primary-care, title: GP, indicator: info}
  - {id: neurology, title: Neurology, indicator: warning}
concepts:
  mrc_grade: {kind: score, codes: [vigil#mrc-grade]}
  weakness:
    codes: [sct#26544005]
    lookback: 365 days    # an active Condition counts whatever its date
    evidence:
      examined: {category: [exam], verification: [confirmed, none]}
      reported:
        category: [survey, social-history, none, other]
        verification: [unconfirmed, provisional, differential]
    scores:
      mrc_grade <= 4: examined present
      mrc_grade = 5: examined absent
    superseded: reported by examined absent
sites:
  calf: [sct#53840002]
  thigh: [sct#68367000]
rules:
  - id: examined
    when: weakness examined
    then: {suggest: neurology, summary: Examined weakness}
  - id: reported
    when: weakness reported
    then: {suggest: primary-care, summary: Reported weakness}
  - id: present
    when: weakness present
    then: {suggest: primary-care, summary: Weakness}
  - id: examined-normal
    when: weakness examined absent
    then: {suggest: none, summary: Examined and normal}
"""


def weakness(
    id_: str, when: str, *categories: str, value: bool = True, site: str | None = None
) -> Resource:
    return observation(id_, WEAKNESS, when, categories=categories, site=site, valueBoolean=value)


def grade(id_: str, when: str, value: int, site: str | None = None) -> Resource:
    return observation(id_, "mrc-grade", when, system=VIGIL, valueInteger=value, site=site)


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        (("exam",), {"examined", "present"}),
        (("exam", "survey"), {"examined", "present"}),
        (("survey",), {"reported", "present"}),
        (("social-history",), {"reported", "present"}),
        ((), {"reported", "present"}),
        (("vital-signs",), {"reported", "present"}),
    ],
)
def test_an_observation_is_examined_or_reported_by_its_category(
    categories: tuple[str, ...], expected: set[str]
) -> None:
    fired, _, _ = evaluate(RULESET, weakness("w", "2026-02-01", *categories))

    assert fired == expected


@pytest.mark.parametrize(
    ("verification", "expected"),
    [
        ("confirmed", {"examined", "present"}),
        (None, {"examined", "present"}),
        ("unconfirmed", {"reported", "present"}),
        ("provisional", {"reported", "present"}),
        ("differential", {"reported", "present"}),
    ],
)
def test_a_condition_is_examined_or_reported_by_its_verification_status(
    verification: str | None, expected: set[str]
) -> None:
    fired, _, _ = evaluate(
        RULESET, condition("c", WEAKNESS, "2026-01-01", verification=verification)
    )

    assert fired == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(4, {"examined", "present"}), (0, {"examined", "present"}), (5, {"examined-normal"})],
)
def test_an_mrc_grade_is_examined_weakness_or_an_examined_absence(
    value: int, expected: set[str]
) -> None:
    fired, _, evaluation = evaluate(RULESET, grade("g", "2026-02-01", value))

    assert fired == expected
    (suggestion,) = [s for s in evaluation.suggestions if s.rule in expected][:1]
    assert suggestion.evidence == ("Observation/g",)


def test_an_examined_absence_on_or_after_a_report_supersedes_it() -> None:
    fired, _, _ = evaluate(
        RULESET,
        weakness("w", "2026-02-01T10:00:00Z", "survey"),
        weakness("n", "2026-02-01T10:00:00Z", "exam", value=False),
    )

    assert fired == {"examined-normal"}


def test_an_mrc_grade_5_supersedes_an_earlier_report() -> None:
    fired, _, _ = evaluate(
        RULESET, weakness("w", "2026-02-01", "survey"), grade("g", "2026-02-10", 5)
    )

    assert fired == {"examined-normal"}


def test_an_examined_absence_before_the_report_does_not_supersede_it() -> None:
    fired, _, _ = evaluate(
        RULESET, grade("g", "2026-01-10", 5), weakness("w", "2026-02-01", "survey")
    )

    # the examination was normal, and the report after it still counts
    assert fired == {"reported", "present", "examined-normal"}


def test_a_reported_absence_supersedes_nothing() -> None:
    fired, _, _ = evaluate(
        RULESET,
        weakness("w", "2026-02-01", "survey"),
        weakness("n", "2026-02-10", "survey", value=False),
    )

    assert fired == {"reported", "present"}


def test_an_examined_weakness_is_never_superseded() -> None:
    fired, _, _ = evaluate(
        RULESET, weakness("w", "2026-02-01", "exam"), grade("g", "2026-02-10", 5)
    )

    assert fired == {"examined", "present"}


def test_an_undated_condition_is_never_superseded() -> None:
    fired, _, _ = evaluate(
        RULESET,
        condition("c", WEAKNESS, verification="provisional"),
        grade("g", "2026-02-10", 5),
    )

    assert fired == {"reported", "present", "examined-normal"}


def test_a_dated_reported_condition_is_superseded() -> None:
    fired, _, _ = evaluate(
        RULESET,
        condition("c", WEAKNESS, "2026-01-01", verification="provisional"),
        grade("g", "2026-02-10", 5),
    )

    assert fired == {"examined-normal"}


def test_an_absence_at_a_site_never_supersedes_a_report_without_one() -> None:
    fired, _, _ = evaluate(
        RULESET, weakness("w", "2026-02-01", "survey"), grade("g", "2026-02-10", 5, site=CALF)
    )

    assert fired == {"reported", "present", "examined-normal"}


REGIONED = RULESET.replace(
    "sites:\n  calf: [sct#53840002]\n  thigh: [sct#68367000]\n",
    "regions:\n  lower_limb: {sided: true, focal: true}\n"
    "sites:\n  calf: {codes: [sct#53840002], region: lower_limb}\n"
    "  thigh: {codes: [sct#68367000], region: lower_limb}\n",
)


@pytest.mark.parametrize("site", [CALF, THIGH])
def test_an_absence_at_a_site_of_the_same_region_supersedes_the_report(site: str) -> None:
    fired, _, _ = evaluate(
        REGIONED,
        weakness("w", "2026-02-01", "survey", site=CALF),
        grade("g", "2026-02-10", 5, site=site),
    )

    assert fired == {"examined-normal"}


def test_an_absence_at_another_site_supersedes_nothing_there() -> None:
    fired, _, _ = evaluate(
        RULESET,
        weakness("w", "2026-02-01", "survey", site=CALF),
        grade("g", "2026-02-10", 5, site="85562004"),  # a hand: no site of the ruleset
    )

    assert fired == {"reported", "present", "examined-normal"}
