"""The hit policy: every fired suggesting rule is reported; which show their proposals, and the
orders proposed, merged per code and per drug group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from engine import Evaluator, Quantity, Record
from engine.clock import Duration
from engine.evaluation import Proposed
from engine.proposals import due_at
from tests.engine.levelled import ADMIT, REVIEW, UE, levelled, without_rules

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
TODAY = datetime(2026, 7, 1, 23, 59, 59, tzinfo=LONDON)


def k(value: float) -> Record:
    return Record(
        "potassium", "Observation/k1", NOW - timedelta(hours=2), value=Quantity(value, "mmol/L")
    )


def acei(source: str, group: str, days: int, **kw: object) -> Record:
    return Record(
        "ace_inhibitor",
        f"MedicationRequest/{source}",
        NOW - timedelta(days=days),
        code=group,
        status=kw.pop("status", "active"),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


RAMIPRIL, LISINOPRIL = "rxnorm#35296", "rxnorm#29046"
MEDICINES = [
    acei("r1", RAMIPRIL, 200),
    acei("r2", RAMIPRIL, 30),
    acei("l1", LISINOPRIL, 300, end=NOW - timedelta(days=2)),  # ended: not active
    acei("l2", LISINOPRIL, 10),
    acei("x1", "rxnorm#1", 50, status="stopped"),
]


def by_code(proposals: tuple[Proposed, ...]) -> dict[str, list[Proposed]]:
    found: dict[str, list[Proposed]] = {}
    for p in proposals:
        found.setdefault(p.code.code, []).append(p)
    return found


def test_every_fired_rule_is_reported_and_only_the_escalation_level_shows() -> None:
    evaluation = Evaluator(levelled()).evaluate([k(6.7), *MEDICINES], as_of=NOW)
    assert evaluation.escalation == "emergency"
    assert [(s.rule, s.level, s.shown) for s in evaluation.suggestions] == [
        ("severe", "emergency", True),
        ("moderate", "same-day-review", False),
        ("moderate-ecg", "same-day-review", False),
        ("mild", "routine-recheck", False),
        ("raasi-withhold", "routine-recheck", True),  # `always`: a drug to stop is stopped
    ]
    orders = by_code(evaluation.proposals)
    # the lower levels' U&E orders are suppressed: the admission supersedes them
    assert set(orders) == {ADMIT.code, REVIEW.code}
    [admit] = orders[ADMIT.code]
    assert (admit.label, admit.priority, admit.due, admit.rules) == (
        "Emergency hospital admission",
        "stat",
        None,
        ("severe",),
    )
    assert admit.reasons == ("Observation/k1",)


def test_a_medication_review_is_one_order_per_drug_group_naming_its_records() -> None:
    evaluation = Evaluator(levelled()).evaluate([k(6.7), *MEDICINES], as_of=NOW)
    reviews = by_code(evaluation.proposals)[REVIEW.code]
    assert [r.reasons for r in reviews] == [
        ("MedicationRequest/l2",),
        ("MedicationRequest/r1", "MedicationRequest/r2"),
    ]
    for review in reviews:
        assert review.label == "Review of medication"
        assert review.notes == ("Withhold the ACE inhibitor until potassium is below 5.5 mmol/L",)
        assert review.due == TODAY and review.kind == "medication-review"


def test_merge_gives_one_order_per_code_earliest_due_highest_priority_notes_once() -> None:
    # moderate: routine, due in 3 days, "Lithium heparin"; moderate-ecg: urgent, today, twice
    evaluation = Evaluator(without_rules(levelled(), "severe")).evaluate([k(6.3)], as_of=NOW)
    assert evaluation.escalation == "same-day-review"
    [ue] = by_code(evaluation.proposals)[UE.code]
    assert ue.priority == "urgent"
    assert ue.due == TODAY
    assert ue.notes == ("Lithium heparin", "Do an ECG")
    assert ue.rules == ("moderate", "moderate-ecg")


def test_without_merge_each_rule_proposes_its_own() -> None:
    ruleset = without_rules(levelled(merge=False), "severe")
    evaluation = Evaluator(ruleset).evaluate([k(6.3)], as_of=NOW)
    orders = by_code(evaluation.proposals)[UE.code]
    assert [(o.rules, o.priority, o.notes) for o in orders] == [
        (("moderate",), "routine", ("Lithium heparin",)),
        (("moderate-ecg",), "urgent", ("Do an ECG", "Lithium heparin")),
    ]
    assert orders[0].due == NOW + timedelta(days=3)


def test_show_all_shows_every_fired_rule() -> None:
    evaluation = Evaluator(levelled(show="all")).evaluate([k(6.7), *MEDICINES], as_of=NOW)
    assert all(s.shown for s in evaluation.suggestions)
    [ue] = by_code(evaluation.proposals)[UE.code]
    assert ue.rules == ("moderate", "moderate-ecg", "mild")
    assert ue.due == TODAY and ue.priority == "urgent"


def test_a_review_without_an_active_record_names_the_concepts_records() -> None:
    stopped = [acei("s1", RAMIPRIL, 40, status="on-hold")]
    evaluation = Evaluator(levelled()).evaluate([k(6.1), *stopped], as_of=NOW)
    [review] = by_code(evaluation.proposals)[REVIEW.code]
    assert review.reasons == ("MedicationRequest/s1",)
    # and without any record of the concept, the rule's evidence
    alone = Evaluator(levelled()).evaluate([k(6.1)], as_of=NOW)
    assert by_code(alone.proposals)[REVIEW.code][0].reasons == ("Observation/k1",)


def test_due_dates_today_hours_days_and_calendar_months() -> None:
    late = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in London
    assert due_at("today", late, "Europe/London") == datetime(2026, 7, 2, 23, 59, 59, tzinfo=LONDON)
    assert due_at("today", late, "UTC") == datetime(2026, 7, 1, 23, 59, 59, tzinfo=UTC)
    assert due_at(Duration(24, "hours"), late, "UTC") == late + timedelta(hours=24)
    assert due_at(Duration(14, "days"), late, "UTC") == late + timedelta(days=14)
    jan = datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert due_at(Duration(1, "months"), jan, "UTC") == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert due_at(None, late, "UTC") is None


def test_to_dict_lists_shown_and_the_proposals() -> None:
    evaluation = Evaluator(levelled()).evaluate([k(6.7), *MEDICINES], as_of=NOW)
    data = evaluation.to_dict()
    assert [s["shown"] for s in data["suggestions"]] == [True, False, False, False, True]
    admit = data["proposals"][0]
    assert admit == {
        "system": "http://snomed.info/sct",
        "code": ADMIT.code,
        "label": "Emergency hospital admission",
        "kind": "admission",
        "priority": "stat",
        "reasons": ["Observation/k1"],
        "rules": ["severe"],
    }
    assert data["proposals"][1]["due"] == "2026-07-01T23:59:59+01:00"


def test_a_medicine_recorded_after_as_of_is_not_a_reason() -> None:
    future = acei("f1", "rxnorm#99", -5)  # prescribed five days after as_of
    evaluation = Evaluator(levelled()).evaluate(
        [k(6.1), acei("r1", RAMIPRIL, 20), future], as_of=NOW
    )
    [review] = by_code(evaluation.proposals)[REVIEW.code]
    assert review.reasons == ("MedicationRequest/r1",)
