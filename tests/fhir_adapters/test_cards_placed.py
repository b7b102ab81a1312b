"""A card reports an order already placed under "Already placed" instead of a button, and
proposes the others as before."""

from __future__ import annotations

from datetime import timedelta

from engine import Evaluator, Record
from engine.loader import load_text
from fhir_adapters.cards import build_cards
from tests.engine.test_proposal_conditions import NOW, RULESET, k


def test_an_order_already_placed_is_a_line_not_a_button() -> None:
    request = Record("ue_request", "ServiceRequest/ue", NOW - timedelta(hours=1), status="active")
    evaluation = Evaluator(load_text(RULESET)).evaluate([k(5.7), request], as_of=NOW)
    [card] = build_cards(evaluation, "Patient/p")
    assert card.suggestions is None
    assert "### Already placed\n\n- U&E requested 2026-07-01" in card.detail


def test_orders_not_placed_are_still_proposed() -> None:
    evaluation = Evaluator(load_text(RULESET)).evaluate([k(5.7)], as_of=NOW)
    [card] = build_cards(evaluation, "Patient/p")
    assert card.suggestions is not None
    [suggestion] = card.suggestions
    assert suggestion.label == "Repeat U&E"
    assert "Already placed" not in card.detail
