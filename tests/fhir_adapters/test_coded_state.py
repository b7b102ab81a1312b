"""A state from a coded status and dated findings (calf 2.1.0's pregnancy, §5.16), written
with the language's general constructs: a coded concept's `answers` and answer `ties`, a
window anchored on its latest answer, and the `undated` window."""

from __future__ import annotations

import pytest

from tests.fhir_adapters.record_semantics import (
    LOINC,
    SCT,
    Resource,
    coding,
    condition,
    evaluate,
    observation,
)

PREGNANT, NOT_PREGNANT, LA_PREGNANT = "sct#77386006", "sct#60001007", "loinc#LA15173-0"

RULESET = """
id: coded-state-test
version: 0.1.0
status: draft
title: Pregnancy from a status and conditions
levels:
  - {id: none, title: None, indicator: info}
concepts:
  pregnancy: {codes: [sct#77386006, sct#72892002]}
  pregnancy_status:
    kind: coded
    codes: [loinc#82810-3]
    lookback: pregnancy_window
    answers: [sct#77386006, loinc#LA15173-0, sct#60001007]
    ties: [sct#77386006, loinc#LA15173-0]     # of answers at one time, pregnant is the latest
parameters:
  pregnancy_window: 300 days
rules:
  - id: pregnant
    when:
      any:
        - pregnancy_status is sct#77386006
        - pregnancy_status is loinc#LA15173-0
        - all: [pregnancy present within pregnancy_window, not pregnancy_status recorded]
        - pregnancy present within pregnancy_window after pregnancy_status
        - all:
            - pregnancy present undated
            - not pregnancy_status is sct#60001007 within pregnancy_window
    then: {suggest: none, summary: Pregnant}
"""


def status(id_: str, when: str, answer: str) -> Resource:
    system, code = answer.split("#")
    return observation(
        id_,
        "82810-3",
        when,
        system=LOINC,
        valueCodeableConcept=coding(SCT if system == "sct" else LOINC, code),
    )


def pregnancy(id_: str, onset: str | None = None) -> Resource:
    return condition(id_, "77386006", onset)


def pregnant(*resources: Resource) -> bool:
    fired, _, _ = evaluate(RULESET, *resources)
    return "pregnant" in fired


@pytest.mark.parametrize("answer", [PREGNANT, LA_PREGNANT])
def test_the_latest_status_says_pregnant(answer: str) -> None:
    assert pregnant(status("s", "2026-02-01", answer))


def test_a_later_not_pregnant_status_ends_it() -> None:
    assert not pregnant(
        status("s1", "2026-01-01", PREGNANT), status("s2", "2026-02-01", NOT_PREGNANT)
    )


def test_of_statuses_at_one_time_pregnant_wins() -> None:
    assert pregnant(
        status("s1", "2026-02-01T10:00:00Z", NOT_PREGNANT),
        status("s2", "2026-02-01T10:00:00Z", PREGNANT),
    )
    assert pregnant(
        status("s2", "2026-02-01T10:00:00Z", PREGNANT),
        status("s3", "2026-02-01T10:00:00Z", NOT_PREGNANT),
    )


def test_a_status_older_than_the_window_says_nothing() -> None:
    assert not pregnant(status("s", "2025-01-01", PREGNANT))


def test_a_condition_dated_after_the_latest_status_counts() -> None:
    assert pregnant(status("s", "2026-01-01", NOT_PREGNANT), pregnancy("c", "2026-02-01"))


def test_a_condition_dated_before_the_latest_status_does_not() -> None:
    assert not pregnant(pregnancy("c", "2026-01-01"), status("s", "2026-02-01", NOT_PREGNANT))


def test_a_condition_in_the_window_with_no_status_counts() -> None:
    assert pregnant(pregnancy("c", "2026-01-01"))


def test_a_condition_older_than_the_window_does_not() -> None:
    assert not pregnant(pregnancy("c", "2025-01-01"))


def test_an_undated_condition_counts_unless_a_status_says_not_pregnant() -> None:
    assert pregnant(pregnancy("c"))
    assert not pregnant(pregnancy("c"), status("s", "2026-01-01", NOT_PREGNANT))


def test_another_answer_is_left_out_with_a_warning_naming_the_resource() -> None:
    fired, warnings, _ = evaluate(
        RULESET, status("s", "2026-02-01", "sct#261665006"), pregnancy("c")
    )

    assert "pregnant" in fired  # the undated condition, with no status that counts
    assert [w for w in warnings if w.startswith("Observation/")] == [
        "Observation/s: coded value sct#261665006 is not one of the answers "
        "pregnancy status reads: left out"
    ]


def test_a_condition_with_only_a_recorded_date_is_dated_by_it() -> None:
    recorded = {**pregnancy("c"), "recordedDate": "2026-01-01"}

    # after a "not pregnant" status: pregnant by its date (read as undated, the status ends it)
    assert pregnant(recorded, status("s", "2025-12-01", NOT_PREGNANT))
