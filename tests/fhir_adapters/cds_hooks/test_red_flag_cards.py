"""The service's card lists each red flag in its state, with the date of the record behind it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from engine import load_ruleset
from engine.model import Ruleset
from fhir_adapters.cds_hooks.evaluation import evaluate_with_library
from fhir_adapters.cds_hooks.prefetch import prefetch_templates
from tests.engine.flagged import RULESET, VIGIL, observation

from .support import ServerFactory, hook_request, searchset
from .test_service import checked

SERVICE = "/cds-services/flagged"


def flagged(tmp_path: Path) -> Ruleset:
    path = tmp_path / "flagged.yaml"
    path.write_text(RULESET.replace("status: draft", "status: active"))
    return load_ruleset(path)


def days_ago(days: int) -> datetime:
    return (datetime.now(UTC) - timedelta(days=days)).replace(microsecond=0)


def test_the_card_shows_each_flag_in_its_state(serve: ServerFactory, tmp_path: Path) -> None:
    ruleset = flagged(tmp_path)
    server = serve(evaluate=evaluate_with_library, rulesets=[ruleset])
    mrc, absent = days_ago(5), days_ago(10)
    by_key: dict[str, list[dict[str, Any]]] = {
        "twitch": [observation("fl", "fl-t", "82470000", days_ago(2).isoformat())],
        "mrc_grade": [
            observation("fl", "fl-m", "mrc-grade", mrc.isoformat(), VIGIL, valueInteger=4)
        ],
        "atrophy": [observation("fl", "fl-a", "88092000", absent.isoformat(), valueBoolean=False)],
    }
    prefetch = {key: searchset(by_key.get(key, [])) for key in prefetch_templates(ruleset)}
    response = httpx.post(
        server.url + SERVICE,
        json=hook_request("fl", prefetch=prefetch),
        headers=server.auth(SERVICE),
        timeout=20,
    )
    [card] = checked(response)
    london = ZoneInfo("Europe/London")
    detail = card["detail"]
    assert f"| weakness | examined ({mrc.astimezone(london).date()}) | `Observation/fl-m` |" in (
        detail
    )
    assert (
        f"| muscle wasting | absent ({absent.astimezone(london).date()}) | `Observation/fl-a` |"
        in detail
    )
    assert "| breathlessness | not recorded | - |" in detail
