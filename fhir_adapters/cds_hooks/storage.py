"""Stores behind small interfaces: replayed-jti cache, audit log, feedback.

`SqliteStore` implements all three on one SQLite file (standard library, WAL mode), creating its
tables when they are not there. Under `vigil serve` the supervisor alone writes the audit log and
the jti claims, for every worker (`audit_channel`, `replay_channel`); a server database can
implement the same protocols later. `SqliteReader` reads the audit log and feedback of such a file
read-only, for `vigil audit` and `vigil feedback report`: it changes nothing in the file and
refuses one without Vigil's tables (`StoreUnreadable`).

What a store writes is bounded: request-derived text is cut to `MAX_STORED_CHARS` with a marker
(`bounded`), and a write that fails (the file locked beyond `BUSY_TIMEOUT_SECONDS`, read-only,
full, an I/O error) raises `StoreUnavailable` with a fixed reason, never the caller's text.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from .models import FeedbackItem


@dataclass(frozen=True, slots=True)
class CardRecord:
    """What Vigil answered: a card's uuid, indicator and the rules behind it."""

    uuid: str
    indicator: str
    rules: tuple[str, ...]
    suggestions: tuple[str, ...] = ()


# AuditRecord's fields that may be unknown (a call refused early), each an audit table column
_OPTIONAL_AUDIT_FIELDS = (
    "hook_instance",
    "issuer",
    "ruleset_id",
    "ruleset_version",
    "ruleset_hash",
    "patient",
    "escalation",
    "data_source",
    "duration_ms",
    "reason",
)
MAX_STORED_CHARS = 200
MAX_COMMENT_CHARS = 2000  # a clinician's override comment
MAX_LISTED = 20  # accepted suggestions kept per feedback item
TRUNCATED = "...(truncated)"
# A write waits this long for another connection's lock, then the store is unavailable: a
# call must be answered within its deadline, not after SQLite's default minutes of retrying.
BUSY_TIMEOUT_SECONDS = 0.5


def bounded(text: str | None, limit: int = MAX_STORED_CHARS) -> str | None:
    """`text` as it can be stored: a lone surrogate (which UTF-8 cannot encode) written as
    its escape, then cut to `limit` characters, the cut marked with TRUNCATED; None stays
    None."""
    if text is None:
        return None
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATED)] + TRUNCATED


@dataclass(frozen=True, slots=True)
class AuditRecord:
    time: float
    service: str
    status: int
    kind: str = "service"  # service | feedback
    hook_instance: str | None = None
    issuer: str | None = None
    ruleset_id: str | None = None
    ruleset_version: str | None = None
    ruleset_hash: str | None = None
    patient: str | None = None
    escalation: str | None = None
    data_source: str | None = None  # prefetch | fhirServer | none
    cards: tuple[CardRecord, ...] = ()
    duration_ms: float | None = None
    reason: str | None = None  # why a call was refused (never sent to the caller)
    count: int = 1  # calls this record stands for (refused calls are counted per window)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": self.time,
            "kind": self.kind,
            "service": self.service,
            "status": self.status,
        }
        for key in _OPTIONAL_AUDIT_FIELDS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.count != 1:
            out["count"] = self.count
        out["cards"] = [
            {"uuid": c.uuid, "indicator": c.indicator, "rules": list(c.rules)} for c in self.cards
        ]
        return out


@dataclass(slots=True)
class RuleFeedback:
    """Feedback counts for one rule: accepted, overridden, and the override reasons given."""

    rule: str
    accepted: int = 0
    overridden: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class StoreUnavailable(Exception):
    """A write the store could not make; `reason` is one of a few fixed phrases (`str()` too)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# SQLite's primary result codes (the name before any `_` suffix) -> the reason given
_UNAVAILABLE_REASONS = {
    "SQLITE_BUSY": "the database is locked",
    "SQLITE_LOCKED": "the database is locked",
    "SQLITE_FULL": "the disk is full",
    "SQLITE_READONLY": "the database is read-only",
    "SQLITE_IOERR": "disk I/O error",
    "SQLITE_CANTOPEN": "the database cannot be opened",
    "SQLITE_CORRUPT": "the database is corrupt",
    "SQLITE_NOTADB": "the database is corrupt",
}


def unavailable(exc: sqlite3.Error) -> StoreUnavailable:
    """The StoreUnavailable for a SQLite error, by its result code."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    primary = "_".join(name.split("_")[:2])
    return StoreUnavailable(_UNAVAILABLE_REASONS.get(primary, "database error"))


class ReplayUnavailable(Exception):
    """The replay cache cannot say whether a token id is new: no token can be accepted."""


class ReplayCache(Protocol):
    async def claim(self, issuer: str, jti: str, expires_at: float) -> bool:
        """Record a token id; False when it was already seen and has not expired. Raises
        ReplayUnavailable when that cannot be known."""


class Claim(NamedTuple):
    issuer: str
    jti: str
    expires_at: float


class AuditSink(Protocol):
    """Where a service call's audit record goes: the log itself, or a pipe to its writer."""

    def record(self, entry: AuditRecord) -> None: ...


class AuditLog(AuditSink, Protocol):
    def record_many(self, entries: Sequence[AuditRecord]) -> None: ...

    def query(
        self, *, service: str | None = None, since: float | None = None, limit: int = 100
    ) -> list[AuditRecord]: ...


class FeedbackStore(Protocol):
    def add_feedback(
        self, service: str, items: Sequence[FeedbackItem], issuer: str | None
    ) -> None: ...

    def feedback_report(self, service: str | None = None) -> list[RuleFeedback]: ...


JTI_PURGE_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jti (
    issuer TEXT NOT NULL, jti TEXT NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (issuer, jti));
CREATE INDEX IF NOT EXISTS jti_expiry ON jti (expires_at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, time REAL NOT NULL, kind TEXT NOT NULL, service TEXT NOT NULL,
    status INTEGER NOT NULL, hook_instance TEXT, issuer TEXT, ruleset_id TEXT,
    ruleset_version TEXT, ruleset_hash TEXT, patient TEXT, escalation TEXT, data_source TEXT,
    duration_ms REAL, cards TEXT NOT NULL, reason TEXT, count INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS audit_time ON audit (time);
CREATE TABLE IF NOT EXISTS card (
    uuid TEXT PRIMARY KEY, service TEXT NOT NULL, indicator TEXT NOT NULL, rules TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, received REAL NOT NULL, service TEXT NOT NULL, issuer TEXT,
    card TEXT NOT NULL, outcome TEXT NOT NULL, outcome_time TEXT NOT NULL,
    accepted_suggestions TEXT, override_code TEXT, override_display TEXT, comment TEXT);
"""
# columns added since the first schema, added to an older file when it is opened for writing
_ADDED_AUDIT_COLUMNS = {"reason": "TEXT", "count": "INTEGER NOT NULL DEFAULT 1"}


class SqliteStore:
    """Replay cache, audit log and feedback store on one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._next_purge = 0.0
        self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
        with self._tx() as db:
            db.execute("PRAGMA journal_mode=WAL")
        with self._tx() as db:
            db.executescript(_SCHEMA)
            columns = {
                name for (name,) in db.execute("SELECT name FROM pragma_table_info('audit')")
            }
            for name, declaration in _ADDED_AUDIT_COLUMNS.items():
                if name not in columns:
                    db.execute(f"ALTER TABLE audit ADD COLUMN {name} {declaration}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._db:
            yield self._db

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A transaction whose SQLite errors are StoreUnavailable."""
        try:
            with self._tx() as db:
                yield db
        except sqlite3.Error as exc:
            raise unavailable(exc) from None

    # -- ReplayCache ---------------------------------------------------------------------------

    def claim(self, issuer: str, jti: str, expires_at: float) -> bool:
        """Record a token id; False when it was already seen and has not expired."""
        return self.claim_many([Claim(issuer, jti, expires_at)])[0]

    def claim_many(self, claims: Sequence[Claim], kept: Sequence[Claim] = ()) -> list[bool]:
        """`claim` for each, in order, in one transaction (one fsync for all): a jti twice in
        `claims` is new the first time only. `kept` are claims already answered as new but not
        yet written (while the store was unavailable): they are written first, whatever they
        were before. StoreUnavailable when the store cannot be written."""
        now = time.time()
        with self._writing() as db:
            db.executemany(
                "INSERT OR REPLACE INTO jti (issuer, jti, expires_at) VALUES (?, ?, ?)", kept
            )
            # Expired ids are deleted now and then, not on every claim (the table holds every
            # token of the last minutes); one that has expired may be claimed again meanwhile.
            if now >= self._next_purge:
                db.execute("DELETE FROM jti WHERE expires_at < ?", (now,))
                self._next_purge = now + JTI_PURGE_SECONDS
            return [
                db.execute(
                    "INSERT INTO jti (issuer, jti, expires_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = excluded.expires_at"
                    " WHERE jti.expires_at < ?",
                    (claim.issuer, claim.jti, claim.expires_at, now),
                ).rowcount
                == 1
                for claim in claims
            ]

    def claimed(self, issuer: str, jti: str) -> bool:
        """Whether the token id is recorded and has not expired (a read: it works while the
        store cannot be written). StoreUnavailable when it cannot be read either."""
        try:
            with self._tx() as db:
                row = db.execute(
                    "SELECT 1 FROM jti WHERE issuer = ? AND jti = ? AND expires_at >= ?",
                    (issuer, jti, time.time()),
                ).fetchone()
        except sqlite3.Error as exc:
            raise unavailable(exc) from None
        return row is not None

    # -- AuditLog ------------------------------------------------------------------------------

    def record(self, entry: AuditRecord) -> None:
        self.record_many([entry])

    def record_many(self, entries: Sequence[AuditRecord]) -> None:
        """Write the records in one transaction (one fsync for all); StoreUnavailable when
        the store cannot be written."""
        with self._writing() as db:
            for entry in entries:
                _insert_audit(db, entry)

    def query(
        self, *, service: str | None = None, since: float | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        with self._tx() as db:
            return _select_audit(db, service=service, since=since, limit=limit)

    # -- FeedbackStore -------------------------------------------------------------------------

    def add_feedback(self, service: str, items: Sequence[FeedbackItem], issuer: str | None) -> None:
        """Store the items in one transaction; StoreUnavailable when the store cannot be
        written. The caller's text is stored bounded (`bounded`)."""
        now = time.time()
        with self._writing() as db:
            for item in items:
                reason = item.overrideReason
                coding = reason.reason if reason is not None else None
                accepted = [s.id for s in item.acceptedSuggestions or []]
                db.execute(
                    "INSERT INTO feedback (received, service, issuer, card, outcome, outcome_time,"
                    " accepted_suggestions, override_code, override_display, comment)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        now,
                        bounded(service),
                        bounded(issuer),
                        bounded(item.card),
                        item.outcome,
                        item.outcomeTimestamp.isoformat(),
                        json.dumps([bounded(a) for a in accepted[:MAX_LISTED]]),
                        bounded(coding.code) if coding else None,
                        bounded(coding.display or coding.code) if coding else None,
                        bounded(reason.userComment, MAX_COMMENT_CHARS)
                        if reason is not None
                        else None,
                    ),
                )

    def feedback_report(self, service: str | None = None) -> list[RuleFeedback]:
        with self._tx() as db:
            return _select_feedback_report(db, service)


class StoreUnreadable(Exception):
    """A file `SqliteReader` cannot read: missing, not SQLite, or not a database Vigil wrote."""


# The columns the reads select, per table: a file without them is not a Vigil database.
_READ_COLUMNS: dict[str, frozenset[str]] = {
    "audit": frozenset(
        {"id", "time", "kind", "service", "status", *_OPTIONAL_AUDIT_FIELDS, "cards"}
        - _ADDED_AUDIT_COLUMNS.keys()
    ),
    "card": frozenset({"uuid", "rules"}),
    "feedback": frozenset({"service", "card", "outcome", "override_display", "comment"}),
}


class SqliteReader:
    """The audit log and feedback of a SQLite file `SqliteStore` wrote, opened read-only: reading
    creates no table and leaves the journal mode as it is (for `vigil audit` and `vigil feedback
    report`, which may be pointed at any file)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreUnreadable(f"no database at {self.path}")
        uri = f"{self.path.absolute().as_uri()}?mode=ro"
        try:
            self._db = sqlite3.connect(uri, uri=True, timeout=10)
        except sqlite3.Error as exc:
            raise StoreUnreadable(f"{self.path} cannot be opened: {exc}") from None
        try:
            self._check_schema()
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def query(
        self, *, service: str | None = None, since: float | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        with self._reading():
            return _select_audit(self._db, service=service, since=since, limit=limit)

    def feedback_report(self, service: str | None = None) -> list[RuleFeedback]:
        with self._reading():
            return _select_feedback_report(self._db, service)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise StoreUnreadable(
                f"{self.path} cannot be read as a Vigil database: {exc}"
            ) from None

    def _check_schema(self) -> None:
        with self._reading():
            problem = _schema_problem(self._db)
        if problem is not None:
            raise StoreUnreadable(f"{self.path} is not a Vigil database: {problem}")


def _schema_problem(db: sqlite3.Connection) -> str | None:
    """What `db` lacks of the tables and columns the reads need; None when nothing."""
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables & _READ_COLUMNS.keys():
        return "it has none of Vigil's tables"
    for table, needed in sorted(_READ_COLUMNS.items()):
        if table not in tables:
            return f"it has no {table} table"
        columns = {
            name for (name,) in db.execute("SELECT name FROM pragma_table_info(?)", (table,))
        }
        if missing := sorted(needed - columns):
            return f"its {table} table has no column {', '.join(missing)}"
    return None


class StoreReplayCache:
    """The replay cache of a process that claims its tokens in the store itself (tests, a
    single process, uvicorn's own workers where no supervisor can keep the claims)."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    async def claim(self, issuer: str, jti: str, expires_at: float) -> bool:
        try:
            return self.store.claim(issuer, jti, expires_at)
        except StoreUnavailable as exc:
            raise ReplayUnavailable(f"the jti store: {exc}") from None


def _select_audit(
    db: sqlite3.Connection, *, service: str | None, since: float | None, limit: int
) -> list[AuditRecord]:
    where, args = _where(("service = ?", service), ("time >= ?", since))
    columns = {name for (name,) in db.execute("SELECT name FROM pragma_table_info('audit')")}
    # a file written before these columns existed: no reason, one call a row
    reason = "reason" if "reason" in columns else "NULL"
    count = "count" if "count" in columns else "1"
    sql = (
        "SELECT time, kind, service, status, hook_instance, issuer, ruleset_id,"
        " ruleset_version, ruleset_hash, patient, escalation, data_source, duration_ms, cards,"
        f" {reason}, {count} FROM audit{where} ORDER BY time DESC, id DESC LIMIT ?"
    )
    return [_audit_from_row(row) for row in db.execute(sql, [*args, max(0, limit)]).fetchall()]


def _where(*conditions: tuple[str, Any]) -> tuple[str, list[Any]]:
    """A WHERE clause of the conditions whose value is given (each a constant SQL text with one
    placeholder), and their values."""
    given = [(clause, value) for clause, value in conditions if value is not None]
    if not given:
        return "", []
    return " WHERE " + " AND ".join(clause for clause, _ in given), [v for _, v in given]


def _select_feedback_report(db: sqlite3.Connection, service: str | None) -> list[RuleFeedback]:
    where, args = _where(("f.service = ?", service))
    sql = (
        "SELECT f.outcome, f.override_display, f.comment, c.rules FROM feedback f"
        f" LEFT JOIN card c ON c.uuid = f.card{where}"
    )
    report: dict[str, RuleFeedback] = {}
    for outcome, display, comment, rules_json in db.execute(sql, args).fetchall():
        rules = json.loads(rules_json) if rules_json else ["(card not in the audit log)"]
        for rule in rules:
            entry = report.setdefault(rule, RuleFeedback(rule))
            if outcome == "accepted":
                entry.accepted += 1
            else:
                entry.overridden += 1
                reason = display or ("(comment only)" if comment else "(no reason given)")
                entry.reasons[reason] = entry.reasons.get(reason, 0) + 1
    return sorted(report.values(), key=lambda r: r.rule)


def _insert_audit(db: sqlite3.Connection, entry: AuditRecord) -> None:
    cards = [
        {"uuid": bounded(c.uuid), "indicator": c.indicator, "rules": list(c.rules)}
        for c in entry.cards
    ]
    db.execute(
        "INSERT INTO audit (time, kind, service, status, hook_instance, issuer, ruleset_id,"
        " ruleset_version, ruleset_hash, patient, escalation, data_source, duration_ms,"
        " cards, reason, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.time,
            entry.kind,
            bounded(entry.service),
            entry.status,
            bounded(entry.hook_instance),
            bounded(entry.issuer),
            entry.ruleset_id,
            entry.ruleset_version,
            entry.ruleset_hash,
            bounded(entry.patient),
            entry.escalation,
            entry.data_source,
            entry.duration_ms,
            json.dumps(cards),
            bounded(entry.reason),
            entry.count,
        ),
    )
    for card in entry.cards:
        rules = json.dumps(list(card.rules))
        for uuid in (card.uuid, *card.suggestions):
            db.execute(
                "INSERT OR REPLACE INTO card (uuid, service, indicator, rules) VALUES (?, ?, ?, ?)",
                (bounded(uuid), bounded(entry.service), card.indicator, rules),
            )


def _audit_from_row(row: tuple[Any, ...]) -> AuditRecord:
    cards = tuple(
        CardRecord(c["uuid"], c["indicator"], tuple(c["rules"])) for c in json.loads(row[13])
    )
    return AuditRecord(
        time=row[0],
        kind=row[1],
        service=row[2],
        status=row[3],
        hook_instance=row[4],
        issuer=row[5],
        ruleset_id=row[6],
        ruleset_version=row[7],
        ruleset_hash=row[8],
        patient=row[9],
        escalation=row[10],
        data_source=row[11],
        duration_ms=row[12],
        cards=cards,
        reason=row[14],
        count=row[15],
    )


__all__ = [
    "AuditLog",
    "AuditRecord",
    "AuditSink",
    "CardRecord",
    "Claim",
    "FeedbackStore",
    "ReplayCache",
    "ReplayUnavailable",
    "RuleFeedback",
    "SqliteReader",
    "SqliteStore",
    "StoreReplayCache",
    "StoreUnavailable",
    "StoreUnreadable",
    "bounded",
    "unavailable",
]
