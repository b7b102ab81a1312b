"""SQLite stores: audit records round-trip; feedback is reported per rule; token ids are
claimed once."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from fhir_adapters.cds_hooks.models import FeedbackItem
from fhir_adapters.cds_hooks.storage import (
    JTI_PURGE_SECONDS,
    MAX_STORED_CHARS,
    TRUNCATED,
    AuditRecord,
    CardRecord,
    Claim,
    SqliteReader,
    SqliteStore,
    StoreUnavailable,
    StoreUnreadable,
    bounded,
    unavailable,
)


def feedback(card: str, outcome: str, reason: str | None = None) -> FeedbackItem:
    data: dict[str, object] = {
        "card": card,
        "outcome": outcome,
        "outcomeTimestamp": datetime(2024, 5, 1, tzinfo=UTC).isoformat(),
    }
    if reason:
        data["overrideReason"] = {"reason": {"system": "s", "code": reason, "display": reason}}
    if outcome == "accepted":
        data["acceptedSuggestions"] = [{"id": f"{card}-suggestion"}]
    return FeedbackItem.model_validate(data)


def test_audit_round_trip_newest_first(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a.sqlite3")
    card = CardRecord("c1", "critical", ("severe-hypokalemia",), ("s1",))
    store.record(AuditRecord(time=1.0, service="svc", status=200, patient="Patient/p1"))
    store.record(
        AuditRecord(
            time=2.0,
            service="svc",
            status=200,
            hook_instance="h",
            issuer="iss",
            ruleset_id="svc",
            ruleset_version="1.0.0",
            ruleset_hash="abc",
            patient="Patient/p2",
            escalation="urgent",
            data_source="prefetch",
            cards=(card,),
            duration_ms=3.5,
        )
    )
    store.record(AuditRecord(time=3.0, service="other", status=404))
    newest, oldest = store.query(service="svc")
    assert newest.patient == "Patient/p2" and oldest.patient == "Patient/p1"
    assert newest.cards == (CardRecord("c1", "critical", ("severe-hypokalemia",)),)
    assert newest.to_dict()["cards"] == [
        {"uuid": "c1", "indicator": "critical", "rules": ["severe-hypokalemia"]}
    ]
    assert [r.service for r in store.query(since=2.5)] == ["other"]
    assert len(store.query(limit=1)) == 1
    store.close()


def test_feedback_report_counts_per_rule(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "f.sqlite3")
    store.record(
        AuditRecord(
            time=1.0,
            service="svc",
            status=200,
            cards=(
                CardRecord("c1", "warning", ("low-potassium", "chronic-twitching")),
                CardRecord("c2", "warning", ("low-potassium",)),
            ),
        )
    )
    store.add_feedback(
        "svc",
        [
            feedback("c1", "accepted"),
            feedback("c2", "overridden", "already-addressed"),
            feedback("c9", "overridden"),
        ],
        issuer="iss",
    )
    report = {r.rule: r for r in store.feedback_report()}
    assert (report["low-potassium"].accepted, report["low-potassium"].overridden) == (1, 1)
    assert report["low-potassium"].reasons == {"already-addressed": 1}
    assert report["chronic-twitching"].accepted == 1
    assert report["(card not in the audit log)"].reasons == {"(no reason given)": 1}
    assert store.feedback_report(service="elsewhere") == []
    store.close()


def test_a_token_id_is_claimed_once_until_it_expires(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "j.sqlite3")
    now = time.time()
    assert store.claim("iss", "j1", now + 60)
    assert not store.claim("iss", "j1", now + 60)  # replayed
    assert store.claim("other-iss", "j1", now + 60)  # ids are per issuer
    assert store.claim("iss", "j2", now - 1)
    assert store.claim("iss", "j2", now + 60)  # its first claim had expired: not a replay


def test_claims_made_together_are_answered_in_order(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "j.sqlite3")
    later = time.time() + 60
    store.claim("iss", "j0", later)
    claims = [Claim("iss", j, later) for j in ("j1", "j0", "j1", "j2", "j2")]
    assert store.claim_many(claims) == [True, False, False, True, False]
    assert store.claim_many([]) == []
    store.close()


def test_expired_token_ids_are_purged_now_and_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteStore(tmp_path / "j.sqlite3")
    now = time.time()
    for n in range(5):
        store.claim("iss", f"old{n}", now - 10)

    def rows() -> int:
        with sqlite3.connect(tmp_path / "j.sqlite3") as db:
            return int(db.execute("SELECT count(*) FROM jti").fetchone()[0])

    store.claim("iss", "new1", now + JTI_PURGE_SECONDS + 120)
    assert rows() == 6  # purged on the first claim already, before the old ones existed
    later = now + JTI_PURGE_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    store.claim("iss", "new2", later + 60)
    assert rows() == 2


def test_feedback_times_from_python_need_an_offset_and_are_kept_in_utc() -> None:
    two_hours_ahead = timezone(timedelta(hours=2))
    item = {"card": "c1", "outcome": "overridden"}
    when = datetime(2024, 6, 1, 12, tzinfo=two_hours_ahead)
    parsed = FeedbackItem.model_validate({**item, "outcomeTimestamp": when})
    assert parsed.outcomeTimestamp == when and parsed.outcomeTimestamp.tzinfo == UTC
    with pytest.raises(ValidationError, match="timezone"):
        FeedbackItem.model_validate({**item, "outcomeTimestamp": datetime(2024, 6, 1)})


def test_the_reader_reads_what_the_store_wrote(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    store = SqliteStore(path)
    card = CardRecord("c1", "warning", ("low-potassium",))
    store.record(AuditRecord(time=1.0, service="svc", status=200, cards=(card,)))
    store.add_feedback("svc", [feedback("c1", "accepted")], issuer="iss")
    reader = SqliteReader(path)
    try:
        assert reader.query() == store.query()
        assert reader.feedback_report("svc") == store.feedback_report("svc")
    finally:
        reader.close()
        store.close()


def test_the_reader_refuses_a_file_without_vigils_tables(tmp_path: Path) -> None:
    with pytest.raises(StoreUnreadable, match="no database at"):
        SqliteReader(tmp_path / "missing.sqlite3")
    partial = tmp_path / "partial.sqlite3"
    with sqlite3.connect(partial) as db:
        db.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY)")
        db.execute("CREATE TABLE card (uuid TEXT, rules TEXT)")
    db.close()
    with pytest.raises(StoreUnreadable, match="its audit table has no column cards"):
        SqliteReader(partial)


def test_caller_text_is_stored_bounded_with_a_marker(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a.sqlite3")
    store.record(AuditRecord(time=1.0, service="x" * 50_000, status=404, hook_instance="h" * 5000))
    [record] = store.query()
    assert record.service == bounded("x" * 50_000)
    assert len(record.service) == MAX_STORED_CHARS and record.service.endswith(TRUNCATED)
    assert len(record.hook_instance or "") == MAX_STORED_CHARS


def test_a_write_the_file_refuses_is_store_unavailable_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    SqliteStore(path).close()
    read_only = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    with closing(read_only), pytest.raises(sqlite3.Error) as raised:
        read_only.execute("INSERT INTO jti VALUES ('iss', 'j1', 1.0)")
    assert unavailable(raised.value).reason == "the database is read-only"
    store = SqliteStore(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable, match="the database is locked"):
            store.record(AuditRecord(time=1.0, service="svc", status=200))
        with pytest.raises(StoreUnavailable, match="the database is locked"):
            store.add_feedback("svc", [feedback("c1", "overridden", "no")], None)
        assert store.claimed("iss", "j1") is False  # a read still works
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        store.close()


def test_a_file_written_before_reasons_and_counts_is_read_and_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "CREATE TABLE audit (id INTEGER PRIMARY KEY, time REAL NOT NULL, kind TEXT NOT NULL,"
            " service TEXT NOT NULL, status INTEGER NOT NULL, hook_instance TEXT, issuer TEXT,"
            " ruleset_id TEXT, ruleset_version TEXT, ruleset_hash TEXT, patient TEXT,"
            " escalation TEXT, data_source TEXT, duration_ms REAL, cards TEXT NOT NULL)"
        )
        db.execute("CREATE TABLE card (uuid TEXT PRIMARY KEY, rules TEXT NOT NULL)")
        db.execute(
            "CREATE TABLE feedback (service TEXT, card TEXT, outcome TEXT,"
            " override_display TEXT, comment TEXT)"
        )
        db.execute(
            "INSERT INTO audit (time, kind, service, status, cards)"
            " VALUES (1, 'service', 's', 401, '[]')"
        )
    reader = SqliteReader(path)
    assert [(r.status, r.reason, r.count) for r in reader.query()] == [(401, None, 1)]
    reader.close()
    store = SqliteStore(path)
    store.record(AuditRecord(time=2.0, service="s", status=401, reason="unknown kid", count=9))
    assert [(r.reason, r.count) for r in store.query()] == [("unknown kid", 9), (None, 1)]
    store.close()


def test_a_lone_surrogate_is_stored_as_its_escape(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a.sqlite3")
    store.record(AuditRecord(time=1.0, service="svc", status=200, hook_instance="h\udcff"))
    [record] = store.query()
    assert record.hook_instance == "h\\udcff"
    store.close()
