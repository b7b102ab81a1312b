"""The service's card for a ruleset that writes its card's text (`card:`): the summary is the
title (cut to 140 characters with an ellipsis), the detail opens with the lines as markdown
paragraphs, in order, their text escaped (it carries patient data)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from engine import load_text
from fhir_adapters.cds_hooks.evaluation import evaluate_with_library
from fhir_adapters.cds_hooks.prefetch import prefetch_templates
from tests.engine.carded import RULESET as TEXT

from .support import LOINC, LiveServer, ServerFactory, hook_request, matches, recent, searchset
from .test_service import checked

SCT = "http://snomed.info/sct"
RULESET = replace(load_text(TEXT), status="active")
SERVICE = f"/cds-services/{RULESET.id}"


def post(server: LiveServer, patient: str, resources: list[dict[str, Any]]) -> httpx.Response:
    prefetch: dict[str, Any] = {
        key: searchset([r for r in resources if matches(template, r)])
        for key, template in prefetch_templates(RULESET).items()
    }
    body = hook_request(patient, prefetch=prefetch)
    return httpx.post(server.url + SERVICE, json=body, headers=server.auth(SERVICE), timeout=20)


def shown(markdown: str) -> str:
    """Markdown's backslash escapes undone, as a card shows the text."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def local_date(resource: dict[str, Any]) -> str:
    when = datetime.fromisoformat(resource["effectiveDateTime"])
    return when.astimezone(ZoneInfo("Europe/London")).date().isoformat()


def tetany(patient: str, magnesium: float) -> list[dict[str, Any]]:
    found = recent(f"{patient}-t1", patient, (SCT, "71792006"), 1)
    found["valueBoolean"] = True
    return [found, recent(f"{patient}-m1", patient, (LOINC, "2601-3"), 1, magnesium)]


def test_the_card_says_the_title_and_the_lines_in_order(serve: ServerFactory) -> None:
    server = serve(evaluate=evaluate_with_library, rulesets=[RULESET])
    resources = tetany("ct", 0.45)
    on = local_date(resources[1])
    [card] = checked(post(server, "ct", resources))
    assert card["indicator"] == "critical"
    assert card["summary"] == (
        f"URGENT TODAY — Symptomatic hypomagnesaemia: magnesium 0.45 mmol/L ({on}) with tetany"
    )
    lines = [
        "Do now: Arrange emergency admission [now]",
        f"Found: tetany or carpopedal spasm ({local_date(resources[0])}); "
        f"magnesium 0.45 mmol/L ({on}) low",
        f"Also: Low magnesium: 0.45 mmol/L ({on})",
        "Not recorded: weakness; not measured in the last 30 days: potassium",
    ]
    assert shown(card["detail"]).startswith("\n\n".join(lines) + "\n\n### Why\n\n")
    assert "### Red flags checked" in card["detail"]  # each flag's state, absent ones dated


def test_a_long_title_is_cut_to_140_characters(serve: ServerFactory) -> None:
    long = TEXT.replace("{tetany: tetany,", "{tetany: tetany" + " and more words" * 10 + ",")
    server = serve(
        evaluate=evaluate_with_library, rulesets=[replace(load_text(long), status="active")]
    )
    [card] = checked(post(server, "cl", tetany("cl", 0.45)))
    assert len(card["summary"]) <= 140
    assert card["summary"].startswith("URGENT TODAY — Symptomatic hypomagnesaemia:")
    assert card["summary"].endswith("…")


def test_patient_text_on_the_card_is_escaped(serve: ServerFactory) -> None:
    marked = TEXT.replace(
        'text: "GAD-7 {gad7}: discuss support."', 'text: "GAD-7 *{gad7}*: [discuss](x) support."'
    )
    ruleset = replace(load_text(marked), status="active")
    server = serve(evaluate=evaluate_with_library, rulesets=[ruleset])
    twitch = recent("ce-f1", "ce", (SCT, "82470000"), 2)
    score = recent("ce-g1", "ce", (LOINC, "70274-6"), 2)
    del score["valueBoolean"]
    score["valueInteger"] = 12
    [card] = checked(post(server, "ce", [twitch, score]))
    assert card["summary"] == "SELF-CARE ADVICE — Twitching with no red flag found"
    paragraphs = card["detail"].split("\n\n")
    assert paragraphs[:2] == [
        "Do now: Give the self\\-care advice below",
        "GAD\\-7 \\*12\\*: \\[discuss\\]\\(x\\) support.",
    ]
    assert "Stretch and gently massage the calf." in paragraphs  # the advice, at self-care
