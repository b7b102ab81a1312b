"""The service's card shows the ruleset's notes for the patient under "Notes", in the
ruleset's order, as plain text (a laboratory comment is data, never markdown)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from engine import load_text
from fhir_adapters.cds_hooks.evaluation import evaluate_with_library
from fhir_adapters.cds_hooks.prefetch import prefetch_templates
from tests.engine.notes_ruleset import notes_ruleset

from .support import LOINC, LiveServer, ServerFactory, hook_request, recent, searchset
from .test_service import checked

RULESET = replace(load_text(notes_ruleset()), status="active")
SERVICE = f"/cds-services/{RULESET.id}"


def post(server: LiveServer, resources: list[dict[str, Any]]) -> httpx.Response:
    prefetch: dict[str, Any] = {
        key: searchset(resources if key == "potassium" else [])
        for key in prefetch_templates(RULESET)
    }
    prefetch["patient"] = {"resourceType": "Patient", "id": "nt"}
    body = hook_request("nt", prefetch=prefetch)
    return httpx.post(server.url + SERVICE, json=body, headers=server.auth(SERVICE), timeout=20)


def test_the_card_lists_the_notes_in_order_as_plain_text(serve: ServerFactory) -> None:
    server = serve(evaluate=evaluate_with_library, rulesets=[RULESET])
    potassium = recent("nt-k1", "nt", (LOINC, "2823-3"), 2, 5.8)
    potassium["note"] = [{"text": "Drip arm: see [link](http://x)"}]
    [card] = checked(post(server, [potassium]))
    detail = card["detail"]
    notes = detail.split("### Notes\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(notes) == 3
    # as plain text: markdown's own characters are escaped, so the card shows them as written
    assert notes[0].startswith("- Index potassium 5.8 mmol/L \\(")
    assert notes[0].endswith(", 2 days old\\)")
    assert notes[1:] == [
        "- Laboratory comment: Drip arm: see \\[link\\]\\(http://x\\)",
        "- Not on a RAAS inhibitor.",
    ]


def test_a_card_without_notes_has_no_notes_section(serve: ServerFactory) -> None:
    server = serve(evaluate=evaluate_with_library, rulesets=[RULESET])
    [card] = checked(post(server, [recent("nt-k1", "nt", (LOINC, "2823-3"), 2, 6.7)]))
    assert card["indicator"] == "critical"
    assert "Call the renal team." in card["detail"]  # shown at emergency only
    assert "Not on a RAAS inhibitor." not in card["detail"]
