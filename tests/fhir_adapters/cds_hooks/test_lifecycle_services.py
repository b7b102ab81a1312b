"""The service offers only the rulesets in force: active, and within their effective dates on
the day of each call (a service runs for days, so the dates are judged per call)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import httpx

from .support import ServerFactory, hook_request, ruleset


def test_a_ruleset_outside_its_effective_dates_is_not_offered(serve: ServerFactory) -> None:
    current = replace(ruleset("current"), effective_until=date(2999, 12, 31))
    later = replace(ruleset("later"), effective_from=date(2999, 1, 1))
    ended = replace(ruleset("ended"), effective_until=date(2020, 1, 1))
    server = serve(rulesets=[current, later, ended, ruleset("drafted", status="draft")])

    body = httpx.get(server.url + "/cds-services").json()
    response = httpx.post(server.url + "/cds-services/later", json=hook_request("pk"))

    assert [s["id"] for s in body["services"]] == ["current"]
    assert response.status_code == 404
    assert "is not effective until 2999-01-01" in response.json()["issue"][0]["diagnostics"]
