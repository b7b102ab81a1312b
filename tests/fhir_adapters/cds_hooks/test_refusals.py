"""What an unauthenticated caller can make the service store and log: refused calls counted per
window under keys of bounded size, never a row per call with the path as sent; the reason a
token was refused in the log and the audit, never in the answer."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from fhir_adapters.cds_hooks.refusals import (
    LOGGED_PER_WINDOW,
    MAX_KEYS,
    MAX_REASON_CHARS,
    OTHER_REASONS,
    RefusalTally,
    reason_text,
)
from fhir_adapters.cds_hooks.security import AuthError
from fhir_adapters.cds_hooks.storage import MAX_STORED_CHARS, AuditRecord

from .support import ServerFactory, hook_request, prefetch_for, token

SERVICE = "/cds-services/calf-fasciculation"


def stored_bytes(database: Path) -> int:
    """The database and its journal files (the write-ahead log holds the latest writes)."""
    return sum(p.stat().st_size for p in database.parent.glob(database.name + "*"))


def test_unauthenticated_calls_with_long_paths_leave_the_database_small(
    serve: ServerFactory,
) -> None:
    server = serve()
    body = hook_request("pk", prefetch=prefetch_for("pk"))
    assert httpx.post(server.url + SERVICE, json=body, headers=server.auth(SERVICE)).is_success
    before = stored_bytes(server.config.database)
    unknown = "/cds-services/" + "x" * 8000
    with httpx.Client(base_url=server.url, timeout=20) as client:
        for _ in range(150):
            assert client.post(unknown, json=body).status_code == 404
            assert client.post(unknown + "/feedback", json=body).status_code == 404
            bad = {"Authorization": "Bearer " + "y" * 4000}
            assert client.post(SERVICE, json=body, headers=bad).status_code == 401
    # 450 calls carrying 3 MB of path and token: a few records of a few bytes (and the pages
    # of the write-ahead log their transactions wrote); a minute may end inside the loop
    assert stored_bytes(server.config.database) - before < 256 * 1024
    records = server.store.query(limit=10_000)
    refused = [r for r in records if r.status != 200]
    assert len(refused) <= 2 * 6
    assert {r.service for r in refused} <= {"(unknown service)", "calf-fasciculation"}
    assert all(len(r.reason or "") <= MAX_STORED_CHARS for r in refused)


def test_a_refused_token_has_its_reason_logged_and_audited_but_not_answered(
    serve: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server = serve()
    stranger = token(server.url + SERVICE, iss="https://stranger.example")
    body = hook_request("pk", prefetch=prefetch_for("pk"))
    with caplog.at_level(logging.INFO, logger="vigil.cds_hooks"):
        response = httpx.post(
            server.url + SERVICE, json=body, headers={"Authorization": f"Bearer {stranger}"}
        )
    assert response.status_code == 401
    assert response.json()["issue"][0]["diagnostics"] == "unauthorized"
    assert "issuer" not in response.text
    assert any(
        "calf-fasciculation 401" in m and m.endswith("(unknown issuer)") for m in caplog.messages
    )
    assert stranger not in caplog.text
    [record] = server.store.query()
    assert (record.status, record.reason, record.count) == (401, "unknown issuer", 1)


def test_health_says_ok_to_anyone(serve: ServerFactory) -> None:
    server = serve()
    response = httpx.get(server.url + "/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "failing": {},
        "counters": {
            "write_failures": 0,
            "audit_lost": 0,
            "tokens_in_memory": 0,
            "refused_calls": 0,
            "fhir_server_failures": 0,
        },
    }


def test_a_window_holds_two_records_a_key_at_most() -> None:
    records: list[AuditRecord] = []
    tally = RefusalTally(records.append)
    for n in range(100):
        tally.add(60.0 + n * 0.1, "service", "(unknown service)", 404, None)
    assert [r.count for r in records] == [1]  # the first at once
    tally.add(125.0, "service", "(unknown service)", 404, None)  # the next window
    assert [(r.count, r.time) for r in records] == [(1, 60.0), (99, 69.9), (1, 125.0)]


def test_distinct_reasons_beyond_the_bound_share_one_key() -> None:
    records: list[AuditRecord] = []
    tally = RefusalTally(records.append)
    for n in range(200):
        tally.add(1.0, "service", "calf-fasciculation", 401, f"algorithm 'x{n}' is not allowed")
    tally.flush()
    assert sum(r.count for r in records) == 200
    assert len(records) == MAX_KEYS + 2
    assert [r.count for r in records if r.reason == OTHER_REASONS] == [1, 200 - MAX_KEYS - 1]


def test_only_the_first_refused_calls_of_a_window_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tally = RefusalTally(lambda _: None)
    logged = [tally.add(1.0, "service", "s", 401, "r") for _ in range(LOGGED_PER_WINDOW + 30)]
    assert logged == [True] * LOGGED_PER_WINDOW + [False] * 30
    with caplog.at_level(logging.INFO, logger="vigil.cds_hooks"):
        tally.flush()
    assert "30 more calls" in caplog.text


def test_a_reason_is_one_bounded_line() -> None:
    alg = "\x1b[2J" + "A" * 500  # a token's header is the caller's to write
    text = reason_text(AuthError(f"algorithm {alg!r} is not allowed"))
    assert text.isprintable() and len(text) <= MAX_REASON_CHARS
    assert reason_text(AuthError("line\nforged")) == "line\\x0aforged"
