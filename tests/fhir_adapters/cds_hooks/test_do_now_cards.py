"""The service's card for a ruleset with a hit policy across levels: its detail opens with the
"Do now" line, and an admission shown hides the bloods the policy says are taken on admission."""

from __future__ import annotations

from typing import Any

import httpx

from engine.loader import load_text
from fhir_adapters.cds_hooks.evaluation import evaluate_with_library
from fhir_adapters.cds_hooks.prefetch import prefetch_templates
from tests.engine.hit_policy_ruleset import RULESET as TEXT

from .support import LOINC, LiveServer, ServerFactory, hook_request, recent, searchset
from .test_service import checked

SNOMED = "http://snomed.info/sct"
RULESET = load_text(TEXT)
SERVICE = f"/cds-services/{RULESET.id}"


def post(server: LiveServer, resources: list[dict[str, Any]]) -> httpx.Response:
    prefetch = {}
    for key, template in prefetch_templates(RULESET).items():
        wanted = "Observation/k" if key == "potassium" else "Observation/f"
        found = [r for r in resources if f"Observation/{r['id']}".startswith(wanted)]
        prefetch[key] = searchset(found if template.startswith("Observation") else [])
    body = hook_request("dn", prefetch=prefetch)
    return httpx.post(server.url + SERVICE, json=body, headers=server.auth(SERVICE), timeout=20)


def test_the_card_opens_with_do_now_and_hides_the_bloods_on_admission(
    serve: ServerFactory,
) -> None:
    server = serve(evaluate=evaluate_with_library, rulesets=[RULESET])
    tetany = recent("f-tetany", "dn", (SNOMED, "53356000"), 1)
    [alone] = checked(post(server, [tetany]))
    assert alone["detail"].startswith("Do now: U&E [today]; Magnesium [today]\n\n### Why")
    assert [s["label"] for s in alone["suggestions"]] == ["U&E", "Magnesium"]
    potassium = recent("k-1", "dn", (LOINC, "2823-3"), 1, 2.3)
    [admitted] = checked(post(server, [tetany, potassium]))
    assert admitted["indicator"] == "critical"
    assert [s["label"] for s in admitted["suggestions"]] == ["Emergency admission", "ECG"]
    assert admitted["detail"].startswith(
        "Do now: Arrange emergency admission [now]; 12-lead ECG if it does not delay transfer"
        " [now]\n\n"
    )
