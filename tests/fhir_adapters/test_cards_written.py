"""A card whose text the ruleset writes (`Evaluation.card`): the title is its summary, its lines
open the detail as escaped paragraphs, and the reasons, the rules' advice and every red flag's
state follow."""

from __future__ import annotations

from dataclasses import replace

from engine.evaluation import CardText
from fhir_adapters.cards import cards_json

from .test_cards import PATIENT, RED_FLAGS, counter, evaluation, suggestion, validate


def test_the_written_text_leads_and_the_reasons_advice_and_flags_follow() -> None:
    rested = suggestion("benign", "self-care", advice=("Rest the calf.",))
    written = CardText(
        "SELF-CARE ADVICE — Twitching with no red flag found",
        ("Do now: Give the self-care advice below", "Not recorded: bulbar signs"),
    )
    base = evaluation("self-care", rested, red_flags=RED_FLAGS)
    [card] = validate(cards_json(replace(base, card=written), PATIENT, counter()))  # type: ignore[arg-type]
    assert card.summary == written.title
    parts = (card.detail or "").split("\n\n")
    assert parts[:3] == [
        "Do now: Give the self\\-care advice below",
        "Not recorded: bulbar signs",
        "### Why",
    ]
    assert parts.index("### What may help") < parts.index("### Red flags checked")
    assert "- Rest the calf." in parts


def test_a_long_title_is_cut_with_an_ellipsis() -> None:
    written = CardText("URGENT TODAY — " + "word " * 40, ("Do now: No order proposed",))
    base = evaluation("self-care", suggestion("benign", "self-care"))
    [card] = validate(cards_json(replace(base, card=written), PATIENT, counter()))  # type: ignore[arg-type]
    assert len(card.summary) <= 140
    assert card.summary.startswith("URGENT TODAY — word word")
    assert card.summary.endswith("…")
