"""`GET /health` and a process that writes its own store (no supervisor): a store that fails
degrades the service, which goes on answering, counts what it lost, and refuses feedback it
cannot keep with a 503 OperationOutcome."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx

from fhir_adapters.cds_hooks.app import create_app
from fhir_adapters.cds_hooks.config import ServiceConfig
from fhir_adapters.cds_hooks.health import Health
from fhir_adapters.cds_hooks.models import FeedbackItem
from fhir_adapters.cds_hooks.storage import AuditRecord, SqliteStore, StoreUnavailable

from .support import fake_evaluate, hook_request, prefetch_for, ruleset, run_in_thread

SERVICE = "/cds-services/calf-fasciculation"


class FullStore(SqliteStore):
    """A store on a disk that fills up when told: every write refused, reads still work."""

    full = False

    def record_many(self, entries: Sequence[AuditRecord]) -> None:
        if self.full:
            raise StoreUnavailable("the disk is full")
        super().record_many(entries)

    def add_feedback(self, service: str, items: Sequence[FeedbackItem], issuer: str | None) -> None:
        if self.full:
            raise StoreUnavailable("the disk is full")
        super().add_feedback(service, items, issuer)


def test_a_full_store_degrades_a_single_process_service(tmp_path: Path) -> None:
    store = FullStore(tmp_path / "vigil.sqlite3")
    config = ServiceConfig(database=store.path, insecure_dev=True)
    app = create_app(config, rulesets=[ruleset()], evaluate=fake_evaluate, store=store)
    served = run_in_thread(app)
    url = next(served)
    try:
        body = hook_request("pk", prefetch=prefetch_for("pk"))
        assert httpx.post(url + SERVICE, json=body).status_code == 200
        store.full = True
        [card] = httpx.post(url + SERVICE, json=body).json()["cards"]
        item = {
            "card": card["uuid"],
            "outcome": "overridden",
            "outcomeTimestamp": "2024-06-01T10:00:00Z",
        }
        response = httpx.post(url + SERVICE + "/feedback", json={"feedback": [item]})
        assert response.status_code == 503
        assert response.json()["resourceType"] == "OperationOutcome"
        report = httpx.get(url + "/health").json()
        assert report["status"] == "degraded"
        assert report["failing"] == {"audit": "the disk is full", "feedback": "the disk is full"}
        assert report["counters"]["audit_lost"] == 2  # the call and the refused feedback
        store.full = False
        assert httpx.post(url + SERVICE + "/feedback", json={"feedback": [item]}).is_success
        assert httpx.get(url + "/health").json()["status"] == "ok"
    finally:
        for _ in served:
            pass
        store.close()


def test_health_counts_and_logs_a_failure_once_a_period() -> None:
    health = Health()
    assert health.failed("audit", "the database is locked") is True
    assert health.failed("audit", "the database is locked") is False  # logged already
    health.count("audit_lost", 3)
    report = health.report()
    assert report["status"] == "degraded"
    assert report["failing"] == {"audit": "the database is locked"}
    assert (report["counters"]["write_failures"], report["counters"]["audit_lost"]) == (2, 3)
    assert health.recovered("audit") is True and health.recovered("audit") is False
    assert health.report()["status"] == "ok"
