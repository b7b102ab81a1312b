"""A rule suppressed by a review date (`suppressed-when:` with a named date of `dates:`) and the
rule that says so (`suppressed: [...]`), read from FHIR ServiceRequests, Encounters and
Conditions."""

from __future__ import annotations

from typing import Any

from tests.fhir_adapters.record_semantics import (
    SCT,
    Resource,
    coding,
    condition,
    evaluate,
    observation,
)

FASCICULATION, ATROPHY, MND = "82470000", "88092000", "86044005"

RULESET = """
id: suppression-test
version: 0.1.0
status: draft
title: Suppressed by a review
levels:
  - {id: none, title: None, indicator: info}
  - {id: neurology, title: Neurology, indicator: warning}
concepts:
  fasciculation: {codes: [sct#82470000]}
  atrophy: {codes: [sct#88092000]}
  known_mnd: {codes: [sct#86044005]}
  neurology_referral: {kind: event, resource: ServiceRequest, codes: [sct#308474002]}
  neurology_assessment: {kind: event, resource: Encounter, codes: [sct#394591006]}
parameters:
  neurology_review_window: 365 days
dates:
  neurology_review: >-
    latest of neurology_referral, neurology_assessment within neurology_review_window
rules:
  - id: twitching-with-atrophy
    when: [fasciculation present, atrophy present]
    suppressed-when:
      any:
        - known_mnd present
        - atrophy present all dated on or before neurology_review
    then: {suggest: neurology, summary: Twitching with atrophy}
  - id: neurology-reviewed-recently
    when:
      suppressed: [twitching-with-atrophy]
    then:
      suggest: none
      summary: "Neurology review {neurology_review}: {suppressed} not referred again"
"""


def referral(id_: str, authored: str) -> Resource:
    return {
        "resourceType": "ServiceRequest",
        "id": id_,
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "code": coding(SCT, "308474002"),
        "authoredOn": authored,
    }


def assessment(id_: str, start: str) -> Resource:
    return {
        "resourceType": "Encounter",
        "id": id_,
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
        },
        "subject": {"reference": "Patient/p"},
        "serviceType": coding(SCT, "394591006"),
        "period": {"start": start, "end": start},
    }


def twitching() -> Resource:
    return observation("f", FASCICULATION, "2026-02-20", valueBoolean=True)


def atrophy(id_: str, when: str) -> Resource:
    return observation(id_, ATROPHY, when, valueBoolean=True)


def summary_of(evaluation: Any, rule: str) -> str:
    (suggestion,) = [s for s in evaluation.suggestions if s.rule == rule]
    return str(suggestion.summary)


def test_without_a_review_the_rule_fires() -> None:
    fired, _, _ = evaluate(RULESET, twitching(), atrophy("a", "2026-01-10"))

    assert fired == {"twitching-with-atrophy"}


def test_evidence_dated_on_or_before_the_review_suppresses_the_rule() -> None:
    fired, _, evaluation = evaluate(
        RULESET,
        twitching(),
        atrophy("a", "2026-01-10"),
        referral("r", "2026-01-20"),
    )

    assert fired == {"neurology-reviewed-recently"}
    assert summary_of(evaluation, "neurology-reviewed-recently") == (
        "Neurology review 2026-01-20: twitching-with-atrophy not referred again"
    )
    (reviewed,) = evaluation.suggestions
    assert reviewed.evidence == ("Observation/f", "Observation/a", "ServiceRequest/r")


def test_the_review_date_is_the_latest_of_its_events() -> None:
    # the referral alone is before the atrophy; the assessment after it makes R later
    fired, _, evaluation = evaluate(
        RULESET,
        twitching(),
        atrophy("a", "2026-01-10"),
        referral("r", "2026-01-01"),
        assessment("e", "2026-02-01"),
    )

    assert fired == {"neurology-reviewed-recently"}
    assert "2026-02-01" in summary_of(evaluation, "neurology-reviewed-recently")


def test_a_finding_first_recorded_after_the_review_is_new_and_refers() -> None:
    fired, _, _ = evaluate(
        RULESET,
        twitching(),
        atrophy("a", "2026-01-10"),
        atrophy("b", "2026-02-10"),
        referral("r", "2026-01-20"),
    )

    assert fired == {"twitching-with-atrophy"}


def test_a_review_older_than_its_window_suppresses_nothing() -> None:
    fired, _, _ = evaluate(
        RULESET,
        twitching(),
        condition("a", ATROPHY, "2024-01-10"),
        referral("r", "2025-01-20"),
    )

    assert fired == {"twitching-with-atrophy"}


def test_an_undated_condition_counts_as_before_the_review() -> None:
    fired, _, _ = evaluate(
        RULESET, twitching(), condition("a", ATROPHY), referral("r", "2026-01-20")
    )

    assert fired == {"neurology-reviewed-recently"}


def test_another_concept_present_suppresses_the_rule_without_a_review() -> None:
    fired, _, evaluation = evaluate(
        RULESET, twitching(), atrophy("a", "2026-02-10"), condition("m", MND, "2020-01-01")
    )

    assert fired == {"neurology-reviewed-recently"}
    assert summary_of(evaluation, "neurology-reviewed-recently") == (
        "Neurology review not recorded: twitching-with-atrophy not referred again"
    )


def test_nothing_is_suppressed_when_the_rule_would_not_fire() -> None:
    fired, _, _ = evaluate(RULESET, twitching(), referral("r", "2026-01-20"))

    assert fired == set()


def test_evidence_on_the_day_of_a_review_dated_by_its_day_is_before_it() -> None:
    fired, _, _ = evaluate(
        RULESET, twitching(), atrophy("a", "2026-01-20T16:00:00Z"), referral("r", "2026-01-20")
    )

    assert fired == {"neurology-reviewed-recently"}


def test_evidence_later_on_the_day_of_a_timed_review_is_new() -> None:
    fired, _, _ = evaluate(
        RULESET,
        twitching(),
        atrophy("a", "2026-01-20T16:00:00Z"),
        referral("r", "2026-01-20T09:00:00Z"),
    )

    assert fired == {"twitching-with-atrophy"}


def test_a_window_may_anchor_on_a_named_date() -> None:
    ruleset = RULESET + (
        "  - id: atrophy-since-review\n"
        "    when: atrophy present within 30 days after neurology_review\n"
        "    then: {suggest: none, summary: Atrophy new since the review}\n"
    )
    later, _, _ = evaluate(ruleset, atrophy("a", "2026-02-01"), referral("r", "2026-01-20"))
    earlier, _, _ = evaluate(ruleset, atrophy("a", "2026-01-01"), referral("r", "2026-01-20"))

    assert later == {"atrophy-since-review"}
    assert earlier == set()
