"""The hit policy's showing across levels (`always` by level, at an escalation, limited to
kinds or codes), hiding when an admission is shown, merging to the deciding proposal's text,
conditional proposals, due words and the "Do now" line, from a YAML ruleset through the engine."""

from __future__ import annotations

from datetime import timedelta

from engine import Evaluator
from engine.evaluation import Evaluation, Proposed
from tests.engine.hit_policy_ruleset import NOW, finding, k, ruleset


def evaluate(*records: object) -> Evaluation:
    return Evaluator(ruleset()).evaluate(records, as_of=NOW)  # type: ignore[arg-type]


def texts(evaluation: Evaluation) -> list[tuple[str | None, str, str | None]]:
    return [(p.text, p.priority, p.due_words) for p in evaluation.proposals]


def order(evaluation: Evaluation, code: str) -> Proposed:
    [found] = [p for p in evaluation.proposals if p.code.code == code]
    return found


def test_at_urgent_the_specialist_rules_proposals_are_shown_the_routine_ones_not() -> None:
    evaluation = evaluate(k(2.3), finding("weakness"))
    assert evaluation.escalation == "urgent"
    assert {s.rule: s.shown for s in evaluation.suggestions} == {
        "severe-low": True,
        "weak": True,
        "low": False,
    }
    assert evaluation.do_now == (
        "Do now: Arrange emergency admission [now]; 12-lead ECG if it does not delay transfer"
        " [now]; Refer to neurology urgently [by 2026-07-15]"
    )
    assert order(evaluation, "183452005").due == NOW


def test_at_specialist_only_the_lab_orders_of_routine_rules_are_shown() -> None:
    evaluation = evaluate(k(3.2), finding("weakness"))
    assert evaluation.escalation == "specialist"
    assert [p.code.code for p in evaluation.proposals] == ["308474002", "24362-6"]  # no review
    # a routine rule with no lab order to show is not shown (the card lists it as also noted)
    raised = evaluate(k(5.8), finding("weakness"))
    assert {s.rule: s.shown for s in raised.suggestions} == {"weak": True, "raised": False}
    assert evaluation.do_now == (
        "Do now: Refer to neurology urgently [by 2026-07-15]; Repeat U&E [by 2026-07-15]"
    )


def test_a_medicine_review_is_shown_at_every_escalation_its_lab_order_not() -> None:
    evaluation = evaluate(finding("cramp"), k(2.3))
    assert evaluation.escalation == "urgent"
    assert [p.code.code for p in evaluation.proposals] == ["183452005", "268400002", "182836005"]
    assert evaluation.do_now is not None and evaluation.do_now.endswith("Stop the statin [today]")


def test_bloods_are_not_proposed_when_an_admission_is_shown() -> None:
    alone = evaluate(finding("tetany"))
    assert alone.do_now == "Do now: U&E [today]; Magnesium [today]"
    admitted = evaluate(finding("tetany"), k(2.3))
    assert [p.code.code for p in admitted.proposals] == ["183452005", "268400002"]
    tetany = next(s for s in admitted.suggestions if s.rule == "bloods-missing")
    assert tetany.shown  # still reported, at the escalation level


def test_merged_order_takes_the_text_of_the_earliest_due_at_equal_priority() -> None:
    evaluation = evaluate(finding("swelling"), finding("tetany"))
    ue = order(evaluation, "24362-6")
    assert (ue.text, ue.priority, ue.due_words) == (
        "U&E with the D-dimer",
        "asap",
        "within 4 hours",
    )
    assert ue.notes == ("U&E", "U&E with the D-dimer") and ue.rules == (
        "bloods-missing",
        "swelling",
    )
    assert ue.due == NOW + timedelta(hours=4)


def test_conditional_proposals_choose_priority_and_due() -> None:
    very_low = order(evaluate(k(2.8)), "24362-6")
    assert (very_low.priority, very_low.due, very_low.due_words) == (
        "urgent",
        NOW + timedelta(days=3),
        "by 2026-07-04",
    )
    low = order(evaluate(k(3.2)), "24362-6")
    assert (low.priority, low.due_words) == ("routine", "by 2026-07-15")
    not_pregnant = evaluate(finding("swelling"))
    assert texts(not_pregnant) == [
        ("D-dimer", "asap", "within 4 hours"),
        ("U&E with the D-dimer", "asap", "within 4 hours"),
        ("Proximal leg vein ultrasound", "asap", "within 4 hours"),
    ]
    pregnant = evaluate(finding("swelling"), finding("pregnant"))
    assert texts(pregnant) == [
        ("Compression duplex ultrasound via the maternity pathway", "asap", "today")
    ]


def test_do_now_orders_escalation_level_first_then_priority_then_due() -> None:
    # urgent: the bloods (asap, today) come before the specialist referral (urgent)
    evaluation = evaluate(finding("tetany"), finding("weakness"))
    assert evaluation.do_now == (
        "Do now: U&E [today]; Magnesium [today]; Refer to neurology urgently [by 2026-07-15]"
    )
    # routine: the review (asap, today) before the CK (urgent, 7 days)
    assert (
        evaluate(finding("cramp")).do_now
        == "Do now: Stop the statin [today]; Repeat CK [by 2026-07-08]"
    )


def test_without_an_order_the_title_rules_instruction_else_no_order_proposed() -> None:
    raised = evaluate(k(5.8))
    assert raised.proposals == ()
    assert raised.do_now == (
        "Do now: Assess the raised potassium 5.8 mmol/L with the hyperkalaemia guidance"
    )
    assert evaluate(k(6.2)).do_now == (
        "Do now: Assess the raised potassium 6.2 mmol/L today with the hyperkalaemia guidance"
    )
    assert evaluate(finding("pregnant")).do_now == (
        "Do now: Check blood pressure and test urine for protein"
    )
    assert evaluate(finding("weakness", present=False)).do_now == "Do now: No order proposed"
    assert evaluate(k(4.2)).do_now is None  # nothing fired: no card, no line


def test_do_now_is_in_the_json_form() -> None:
    data = evaluate(finding("tetany")).to_dict()
    assert data["do_now"] == "Do now: U&E [today]; Magnesium [today]"
    assert data["proposals"][0]["due_words"] == "today"
    assert data["proposals"][0]["text"] == "U&E"
