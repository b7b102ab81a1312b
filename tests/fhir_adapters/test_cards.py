"""Evaluation -> CDS Hooks cards: one card per patient, by escalation level."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from engine import Evaluator, Quantity, Record
from engine.codes import Code
from engine.evaluation import (
    DataWarning,
    Evaluation,
    RedFlagCheck,
    RulesetIdentity,
    Suggestion,
)
from engine.model import Citation, Referral
from fhir_adapters.cards import build_cards, cards_json, indicator_for, service_request
from fhir_adapters.cds_hooks.models import Card, CardResponse
from tests.engine.levelled import LEVELS, levelled

PATIENT = "Patient/p1"
GP = Referral(
    Code("http://snomed.info/sct", "183561008", "Referral to general practitioner"), "routine"
)
NEURO = Referral(
    Code("http://snomed.info/sct", "183521007", "Referral to neurology service"), "routine"
)
URGENT = Referral(
    Code("http://snomed.info/sct", "183561008", "Referral to general practitioner"), "urgent"
)
TRIGGERS = Citation(
    "triggers", "Calf twitching article", "https://example.org/article#triggers", "Triggers"
)
NICE = Citation("ng127", "NICE NG127", None, None)


def suggestion(rule: str, level: str, **kw: object) -> Suggestion:
    defaults: dict[str, object] = {
        "summary": f"{rule} summary",
        "detail": f"Because of {rule}.",
        "evidence": (f"Observation/{rule}-1",),
        "citations": (TRIGGERS,),
    }
    defaults.update(kw)
    return Suggestion(rule=rule, level=level, **defaults)  # type: ignore[arg-type]


def evaluation(
    escalation: str,
    *suggestions: Suggestion,
    red_flags: tuple[RedFlagCheck, ...] = (),
    warnings: tuple[DataWarning, ...] = (),
) -> Evaluation:
    return Evaluation(
        ruleset=RulesetIdentity("calf-fasciculation", "1.0.0", "abc123", "Calf fasciculation"),
        as_of=datetime(2024, 5, 1, tzinfo=UTC),
        escalation=escalation,
        suggestions=suggestions,
        findings=(),
        trace=(),
        warnings=warnings,
        red_flags=red_flags,
    )


RED_FLAGS = (
    RedFlagCheck("Muscle weakness", "present", ("Observation/w1",)),
    RedFlagCheck("Muscle atrophy", "absent", ("Observation/a1",)),
    RedFlagCheck("Bulbar sign | tongue", "not recorded"),
    RedFlagCheck("Persistent weakness", "not met"),
)


def counter() -> object:
    numbers = itertools.count(1)
    return lambda: f"00000000-0000-4000-8000-{next(numbers):012d}"


def validate(cards: list[dict[str, object]]) -> list[Card]:
    """Every card validates against the models, and carries no null or empty field."""
    CardResponse.model_validate({"cards": cards})

    def walk(value: object) -> None:
        assert value is not None and value != [] and value != {} and value != ""
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for card in cards:
        walk(card)
        for s in card.get("suggestions", []):  # type: ignore[attr-defined]
            for action in s["actions"]:
                ServiceRequest.model_validate(action["resource"])
    return [Card.model_validate(c) for c in cards]


def test_none_gives_no_card() -> None:
    assert build_cards(evaluation("none"), PATIENT) == []
    assert indicator_for("none") is None


def test_self_care_is_an_info_card_without_referral_listing_what_was_checked() -> None:
    ev = evaluation(
        "self-care",
        suggestion(
            "benign-twitching", "self-care", advice=("Cut caffeine, especially before bed.",)
        ),
        red_flags=RED_FLAGS,
    )
    [card] = validate(cards_json(ev, PATIENT))
    assert card.indicator == "info"
    assert card.suggestions is None and card.selectionBehavior is None
    assert card.detail is not None
    assert "Cut caffeine" in card.detail
    # clinical-spec.md: "weakness absent plus twitching: still self-care; the absent finding is
    # listed as checked"
    assert "### Red flags checked" in card.detail
    assert "| absent |" in card.detail


@pytest.mark.parametrize(
    ("level", "referral", "indicator"),
    [
        ("primary-care", GP, "warning"),
        ("neurology", NEURO, "warning"),
        ("urgent", URGENT, "critical"),
    ],
)
def test_referral_levels_offer_a_draft_service_request(
    level: str, referral: Referral, indicator: str
) -> None:
    ev = evaluation(level, suggestion("r1", level, referral=referral), red_flags=RED_FLAGS)
    [card] = validate(cards_json(ev, PATIENT))
    assert card.indicator == indicator
    assert card.selectionBehavior == "any"
    assert card.uuid and card.suggestions and card.suggestions[0].uuid
    [action] = card.suggestions[0].actions or []
    sr = action.resource or {}
    assert sr["status"] == "draft" and sr["intent"] == "proposal"
    assert sr["priority"] == referral.priority
    assert sr["code"]["coding"][0]["code"] == referral.code.code
    assert sr["subject"] == {"reference": PATIENT}
    assert sr["reasonReference"] == [{"reference": "Observation/r1-1"}]


def test_detail_lists_reasons_red_flags_and_citations() -> None:
    ev = evaluation(
        "urgent",
        suggestion("low-potassium", "primary-care", referral=GP),
        suggestion(
            "hypokalemia-with-weakness", "urgent", referral=URGENT, citations=(TRIGGERS, NICE)
        ),
        red_flags=RED_FLAGS,
    )
    [card] = validate(cards_json(ev, PATIENT))
    detail = card.detail or ""
    assert detail.index("hypokalemia-with-weakness") < detail.index("low-potassium")
    assert card.summary == "hypokalemia-with-weakness summary"
    for status in ("present", "absent", "not recorded", "not met"):
        assert f"| {status} |" in detail
    assert "Bulbar sign \\| tongue" in detail
    assert "[Calf twitching article, Triggers](https://example.org/article#triggers)" in detail
    assert "NICE NG127" in detail
    assert card.source.label.startswith("Vigil: Calf fasciculation 1.0.0; Calf twitching article")
    # only the escalation level's referral: no routine GP review beside the urgent one
    assert [s.isRecommended for s in card.suggestions or []] == [True]
    resources = [s.actions[0].resource for s in card.suggestions or [] if s.actions]
    assert [r["priority"] for r in resources if r] == ["urgent"]


def test_detail_says_which_data_was_left_out_or_is_in_doubt() -> None:
    # a clinician reading the card must know that a result was not used, and why
    unit = DataWarning("potassium value 3 [mmol](x) cannot be converted", "Observation/k9")
    more = tuple(DataWarning(f"problem {n}", f"Observation/w{n}") for n in range(6))
    ev = evaluation("urgent", suggestion("severe-hypokalemia", "urgent"), warnings=(unit, *more))
    [card] = validate(cards_json(ev, PATIENT))
    section = (card.detail or "").split("### Data not used, or in doubt\n\n")[1]
    lines = section.split("\n\n")[0].splitlines()
    assert lines[0] == "- Observation/k9: potassium value 3 \\[mmol\\]\\(x\\) cannot be converted"
    assert lines[1:] == [f"- Observation/w{n}: problem {n}" for n in range(4)] + ["- and 2 more"]
    assert "### Data not used" not in (
        validate(cards_json(evaluation("urgent", suggestion("x", "urgent")), PATIENT))[0].detail
        or ""
    )


def test_one_service_is_proposed_once_at_its_most_pressing_priority() -> None:
    ev = evaluation(
        "neurology",
        suggestion("twitching-with-atrophy", "neurology", referral=NEURO),
        suggestion(
            "twitching-with-bulbar-sign", "neurology", referral=Referral(NEURO.code, "urgent")
        ),
        red_flags=RED_FLAGS,
    )
    [card] = validate(cards_json(ev, PATIENT))
    [proposal] = card.suggestions or []
    resource = (proposal.actions or [])[0].resource or {}
    assert resource["priority"] == "urgent"
    assert resource["reasonReference"] == [
        {"reference": "Observation/twitching-with-atrophy-1"},
        {"reference": "Observation/twitching-with-bulbar-sign-1"},
    ]


def test_same_referral_from_two_reasons_is_offered_once_with_all_evidence() -> None:
    ev = evaluation(
        "primary-care",
        suggestion("low-potassium", "primary-care", referral=GP),
        suggestion("chronic-twitching", "primary-care", referral=GP),
    )
    [card] = validate(cards_json(ev, PATIENT))
    [s] = card.suggestions or []
    resource = (s.actions or [])[0].resource or {}
    assert resource["reasonReference"] == [
        {"reference": "Observation/low-potassium-1"},
        {"reference": "Observation/chronic-twitching-1"},
    ]


def test_long_summary_is_clipped_below_140() -> None:
    ev = evaluation(
        "primary-care", suggestion("r", "primary-care", summary="x " * 200, referral=GP)
    )
    [card] = validate(cards_json(ev, PATIENT))
    assert len(card.summary) < 140 and card.summary.endswith("…")


def test_cards_are_deterministic_except_uuids() -> None:
    ev = evaluation("urgent", suggestion("a", "urgent", referral=URGENT), red_flags=RED_FLAGS)
    assert cards_json(ev, PATIENT, counter()) == cards_json(ev, PATIENT, counter())  # type: ignore[arg-type]
    first, second = cards_json(ev, PATIENT), cards_json(ev, PATIENT)
    assert first[0]["uuid"] != second[0]["uuid"]


def test_service_request_without_evidence_omits_reason_reference() -> None:
    sr = service_request(GP, PATIENT, ())
    assert "reasonReference" not in sr
    ServiceRequest.model_validate(sr)


def test_card_model_refuses_suggestions_without_selection_behavior() -> None:
    ev = evaluation("primary-care", suggestion("r", "primary-care", referral=GP))
    data = cards_json(ev, PATIENT)[0]
    del data["selectionBehavior"]
    with pytest.raises(ValueError, match="selectionBehavior"):
        Card.model_validate(data)


# --- a ruleset's own levels, proposals and hit policy --------------------------------------

LEVELLED_NOW = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # 23:30 in London (summer time)


def levelled_cards(*records: Record, **policy: Any) -> list[Card]:
    evaluation = Evaluator(levelled(**policy)).evaluate(list(records), as_of=LEVELLED_NOW)
    return validate(cards_json(evaluation, PATIENT))


def k(value: float) -> Record:
    return Record(
        "potassium",
        "Observation/k1",
        LEVELLED_NOW - timedelta(hours=2),
        value=Quantity(value, "mmol/L"),
    )


RAMIPRIL = Record(
    "ace_inhibitor",
    "MedicationRequest/m1",
    LEVELLED_NOW - timedelta(days=90),
    code="rxnorm#35296",
    status="active",
)


def resources(card: Card) -> list[dict[str, Any]]:
    return [a.resource or {} for s in card.suggestions or [] for a in s.actions or []]


def test_the_indicator_is_the_escalation_levels() -> None:
    [emergency] = levelled_cards(k(6.7))
    [same_day] = levelled_cards(k(6.3))
    [recheck] = levelled_cards(k(5.6))
    assert (emergency.indicator, same_day.indicator, recheck.indicator) == (
        "critical",
        "warning",
        "info",
    )
    assert indicator_for("same-day-review", LEVELS) == "warning"
    assert indicator_for("none", LEVELS) is None


def test_a_proposal_is_a_draft_service_request_due_today_in_the_rulesets_zone() -> None:
    [card] = levelled_cards(k(6.7), RAMIPRIL)
    [admit, review] = resources(card)
    assert admit == {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "priority": "stat",
        "code": {
            "coding": [{"system": "http://snomed.info/sct", "code": "183452005"}],
            "text": "Emergency hospital admission",
        },
        "subject": {"reference": PATIENT},
        "reasonReference": [{"reference": "Observation/k1"}],
    }
    # "today" is 23:59:59 of the as-of date in Europe/London, summer time
    assert review["occurrencePeriod"] == {"end": "2026-07-01T23:59:59+01:00"}
    assert review["note"] == [
        {"text": "Withhold the ACE inhibitor until potassium is below 5.5 mmol/L"}
    ]
    assert review["reasonReference"] == [{"reference": "MedicationRequest/m1"}]
    assert review["priority"] == "urgent"


def test_today_follows_the_as_of_date_in_the_zone_not_in_utc() -> None:
    later = LEVELLED_NOW + timedelta(hours=1)  # 00:30 on 2 July in London, 23:30 UTC
    evaluation = Evaluator(levelled()).evaluate([k(6.1), RAMIPRIL], as_of=later)
    [card] = validate(cards_json(evaluation, PATIENT))
    [*_, review] = resources(card)
    assert review["occurrencePeriod"] == {"end": "2026-07-02T23:59:59+01:00"}
    utc = Evaluator(levelled(time_zone="UTC")).evaluate([k(6.1), RAMIPRIL], as_of=later)
    [*_, in_utc] = resources(validate(cards_json(utc, PATIENT))[0])
    assert in_utc["occurrencePeriod"] == {"end": "2026-07-01T23:59:59+00:00"}


def test_the_buttons_are_the_proposals_labels_in_words() -> None:
    [card] = levelled_cards(k(6.7), RAMIPRIL)
    assert [s.label for s in card.suggestions or []] == [
        "Emergency hospital admission",
        "Review of medication",
    ]
    assert [s.isRecommended for s in card.suggestions or []] == [True, None]


def test_rules_not_shown_are_listed_as_also_noted() -> None:
    [card] = levelled_cards(k(6.7))
    why, noted = (card.detail or "").split("### Also noted")
    assert "rule `severe`" in why and "rule `raasi-withhold`" in why
    assert "rule `mild`" in noted and "rule `moderate`" in noted
    assert "rule `mild`" not in why


def test_an_information_rule_alone_gives_an_info_card_without_orders() -> None:
    weakness = Record("weakness", "Observation/w1", LEVELLED_NOW - timedelta(hours=3))
    [card] = levelled_cards(weakness, k(4.2))
    assert card.indicator == "info" and card.suggestions is None
    assert card.summary == "weakness-noted summary"
    assert levelled_cards(k(4.2)) == []
