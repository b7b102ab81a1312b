"""The service's card for a ruleset with its own levels, proposals and hit policy: the
indicator is the escalation level's, each proposal a draft ServiceRequest named in words."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from fhir_adapters.cds_hooks.evaluation import evaluate_with_library
from fhir_adapters.cds_hooks.prefetch import prefetch_templates
from tests.engine.levelled import levelled

from .support import LOINC, LiveServer, ServerFactory, hook_request, recent, searchset
from .test_service import checked

SERVICE = "/cds-services/levelled"
RULESET = replace(levelled(), status="active")


def post(server: LiveServer, resources: list[dict[str, Any]]) -> httpx.Response:
    # the potassium results under their own template, nothing under the others
    prefetch = {
        key: searchset(resources if key == "potassium" else [])
        for key in prefetch_templates(RULESET)
    }
    body = hook_request("lv", prefetch=prefetch)
    return httpx.post(server.url + SERVICE, json=body, headers=server.auth(SERVICE), timeout=20)


def test_the_card_follows_the_rulesets_levels_and_proposes_in_words(
    serve: ServerFactory,
) -> None:
    server = serve(evaluate=evaluate_with_library, rulesets=[RULESET])
    [card] = checked(post(server, [recent("lv-k1", "lv", (LOINC, "2823-3"), 1, 6.7)]))
    assert card["indicator"] == "critical"
    assert [s["label"] for s in card["suggestions"]] == [
        "Emergency hospital admission",
        "Review of medication",
    ]
    admit, review = (s["actions"][0]["resource"] for s in card["suggestions"])
    assert admit["priority"] == "stat" and admit["subject"] == {"reference": "Patient/lv"}
    assert admit["code"]["coding"] == [{"system": "http://snomed.info/sct", "code": "183452005"}]
    assert admit["reasonReference"] == [{"reference": "Observation/lv-k1"}]
    # due today: 23:59:59 of the evaluation's date in Europe/London
    end = datetime.fromisoformat(review["occurrencePeriod"]["end"])
    assert end.time() == time(23, 59, 59)
    assert end.utcoffset() == end.astimezone(ZoneInfo("Europe/London")).utcoffset()
    assert "### Also noted" in card["detail"] and "rule `mild`" in card["detail"]


def test_mild_gives_an_info_card_with_its_levels_order(serve: ServerFactory) -> None:
    server = serve(evaluate=evaluate_with_library, rulesets=[RULESET])
    [card] = checked(post(server, [recent("lv-k1", "lv", (LOINC, "2823-3"), 1, 5.7)]))
    assert card["indicator"] == "info"
    [order] = card["suggestions"]
    assert order["label"] == "Repeat U&E"
    assert order["actions"][0]["resource"]["code"]["text"] == "Repeat U&E"
