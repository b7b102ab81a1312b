"""A merged order's text is the deciding proposal's: the highest priority, then the earliest
due, then the first in rule order; its due words are those of its earliest due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.clock import Duration
from engine.codes import parse_code
from engine.evaluation import Suggestion
from engine.model import HitPolicy, Priority, Proposal
from engine.proposals import due_at, due_words, propose

NOW = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # 23:30 in London
UE = parse_code("loinc#24362-6")


def fired(rule: str, *proposals: Proposal) -> Suggestion:
    return Suggestion(rule, "urgent", rule, "", (f"Observation/{rule}",), proposals=proposals)


def ue(note: str, priority: Priority, due: Duration | str) -> Proposal:
    return Proposal(UE, "U&E", priority, "lab-order", due, note)  # type: ignore[arg-type]


def merged(*suggestions: Suggestion) -> tuple[str | None, str, str | None]:
    rules = [s.rule for s in suggestions]
    _, [order] = propose(
        suggestions,
        "urgent",
        HitPolicy("escalation", merge=True),
        NOW,
        zone="Europe/London",
        rule_order=sorted(rules),
    )
    return order.text, order.priority, order.due_words


def test_the_highest_priority_sets_the_text_the_earliest_due_the_words() -> None:
    assert merged(
        fired("a", ue("U&E", "asap", "today")),
        fired("b", ue("Repeat U&E", "urgent", Duration(3, "days"))),
        fired("c", ue("U&E at once", "routine", "now")),
    ) == ("U&E", "asap", "now")


def test_at_equal_priority_the_earliest_due_then_the_first_rule() -> None:
    assert merged(
        fired("b", ue("later", "urgent", Duration(3, "days"))),
        fired("c", ue("sooner", "urgent", Duration(1, "days"))),
    ) == ("sooner", "urgent", "by 2026-07-02")
    assert merged(
        fired("b", ue("second", "urgent", Duration(3, "days"))),
        fired("a", ue("first", "urgent", Duration(3, "days"))),
    ) == ("first", "urgent", "by 2026-07-04")


def test_a_joining_proposal_never_sets_the_text() -> None:
    joiner = Proposal(UE, "U&E", "stat", "lab-order", "now", "Also this", joins=True)
    assert merged(
        fired("a", joiner), fired("b", ue("Repeat U&E", "urgent", Duration(3, "days")))
    ) == ("Repeat U&E", "stat", "now")


def test_due_words_now_hours_today_and_a_local_date() -> None:
    zone = "Europe/London"
    assert due_at("now", NOW, zone) == NOW
    assert due_words("now", NOW, zone) == "now"
    assert due_words(Duration(4, "hours"), NOW + timedelta(hours=4), zone) == "within 4 hours"
    assert due_words(Duration(1, "hours"), NOW + timedelta(hours=1), zone) == "within 1 hour"
    assert due_words("today", due_at("today", NOW, zone), zone) == "today"
    late = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in London
    assert due_words(Duration(14, "days"), late + timedelta(days=14), zone) == "by 2026-07-16"
    assert due_words(None, None, zone) is None
