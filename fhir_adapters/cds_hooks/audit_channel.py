"""Audit records from the worker processes to one writer, the supervisor, a pipe each.

Two workers committing their own records fought over SQLite's write lock: with two workers
under load, a third of the writes waited for the other worker's commit or checkpoint in
SQLite's sleeping busy handler, 1.2 ms a call on average and 10 to 20 ms at the 99th
percentile, with the worker's event loop blocked all the while. A worker now hands each record
to its pipe (a pickle and a write) before it answers; the supervisor writes whatever has
arrived in one transaction (synchronous=FULL: one fsync for many calls). A worker that crashes
loses none of the records it sent, and the supervisor drains every pipe before it exits.

A write that fails (the file locked, read-only, full) stops nothing: the records are kept, up
to `MAX_BACKLOG`, and written with the next batch once a write works again (tried at most every
`RETRY_SECONDS`); those beyond it are lost and counted (`Health`: `audit_lost`), and the
failure is logged once a minute, not per call, while `GET /health` says degraded.
`StoreAuditLog` applies the same rules where a process writes its own records.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait

from .health import Health
from .storage import AuditRecord, SqliteStore, StoreUnavailable

__all__ = ["MAX_BACKLOG", "RETRY_SECONDS", "AuditSender", "AuditWriter", "StoreAuditLog"]

log = logging.getLogger("vigil.cds_hooks")
_BATCH = 500
# Once a record arrives, wait this long for more to write with it: one transaction, and one
# fsync, for every call of that stretch instead of one each.
GATHER_SECONDS = 0.01
MAX_BACKLOG = 10_000
RETRY_SECONDS = 1.0


def audit_failed(health: Health, reason: str, kept: int) -> None:
    """Count a failed audit write; log it when its period has come."""
    if health.failed("audit", reason):
        log.error(
            "audit: records cannot be written: %s (%d kept to retry, %d lost so far); the"
            " service goes on answering, GET /health says degraded",
            reason,
            kept,
            health.report()["counters"]["audit_lost"],
        )


def audit_worked(health: Health) -> None:
    if health.recovered("audit"):
        log.warning("audit: records are written again")


class AuditSender:
    """A worker's audit log: each record goes down the pipe to the supervisor."""

    def __init__(self, pipe: Connection) -> None:
        self._pipe = pipe

    def record(self, entry: AuditRecord) -> None:
        try:
            self._pipe.send(entry)
        except OSError:
            # The supervisor is gone, and with it the audit log: this worker stops (uvicorn
            # finishes the calls in flight) rather than answer calls nobody records.
            log.error("audit: the supervisor is gone; stopping this worker")
            os.kill(os.getpid(), signal.SIGTERM)
            raise


class StoreAuditLog:
    """The audit log of a process that writes its own records (tests, a single process,
    uvicorn's own workers): a record that cannot be written is counted as lost, never raised."""

    def __init__(self, store: SqliteStore, health: Health) -> None:
        self.store = store
        self.health = health

    def record(self, entry: AuditRecord) -> None:
        try:
            self.store.record(entry)
        except StoreUnavailable as exc:
            self.health.count("audit_lost", entry.count)
            audit_failed(self.health, exc.reason, kept=0)
        else:
            audit_worked(self.health)


class AuditWriter:
    """The supervisor's side: reads the workers' pipes and writes their records in batches."""

    def __init__(self, store: SqliteStore, health: Health | None = None) -> None:
        self.store = store
        self.health = health if health is not None else Health()
        self._pipes: list[Connection] = []
        self._backlog: list[AuditRecord] = []  # records a failed write left to retry
        self._retry_at = 0.0

    def add(self, pipe: Connection) -> None:
        self._pipes.append(pipe)

    def drain(self, timeout: float | None, also: Sequence[int] = ()) -> None:
        """Wait up to `timeout` seconds for records (or for one of `also`, such as a process
        sentinel, to be ready), then write all the records that have arrived."""
        ready = wait([*self._pipes, *also], timeout)
        if any(isinstance(pipe, Connection) for pipe in ready):
            time.sleep(GATHER_SECONDS)
            ready = wait(self._pipes, 0)
        batch: list[AuditRecord] = []
        for pipe in ready:
            if isinstance(pipe, Connection):
                self._read(pipe, batch)
        self._write(batch)

    def close(self) -> None:
        """Write what is left in every pipe (their workers have stopped), then close; records
        that cannot be written are counted as lost and logged."""
        batch: list[AuditRecord] = []
        for pipe in list(self._pipes):
            self._read(pipe, batch, until_closed=True)
        self._retry_at = 0.0
        self._write(batch)
        if self._backlog:
            lost = sum(entry.count for entry in self._backlog)
            self.health.count("audit_lost", lost)
            log.error("audit: %d records could not be written before stopping: lost", lost)
            self._backlog = []
        self.store.close()

    def _read(self, pipe: Connection, batch: list[AuditRecord], until_closed: bool = False) -> None:
        try:
            while (until_closed or len(batch) < _BATCH) and pipe.poll():
                entry = pipe.recv()
                if isinstance(entry, AuditRecord):
                    batch.append(entry)
        except (EOFError, OSError):  # the worker has exited: its pipe is done
            self._pipes.remove(pipe)
            pipe.close()

    def _write(self, batch: Sequence[AuditRecord]) -> None:
        pending = [*self._backlog, *batch]
        if not pending:
            return
        if time.monotonic() < self._retry_at:  # failing: keep them without waiting on SQLite
            self._keep(pending)
            return
        try:
            self.store.record_many(pending)
        except StoreUnavailable as exc:
            self._retry_at = time.monotonic() + RETRY_SECONDS
            self._keep(pending)
            audit_failed(self.health, exc.reason, kept=len(self._backlog))
        except Exception as exc:  # records no retry would write: dropped, counted, logged
            lost = sum(entry.count for entry in pending)
            self._backlog = []
            self.health.count("audit_lost", lost)
            log.error("audit: %d records cannot be written: %s; lost", lost, type(exc).__name__)
        else:
            self._backlog = []
            self._retry_at = 0.0
            audit_worked(self.health)

    def _keep(self, pending: list[AuditRecord]) -> int:
        """Keep the newest MAX_BACKLOG records to retry; the number of calls dropped."""
        dropped = pending[: max(0, len(pending) - MAX_BACKLOG)]
        self._backlog = pending[len(dropped) :]
        lost = sum(entry.count for entry in dropped)
        if lost:
            self.health.count("audit_lost", lost)
        return lost
