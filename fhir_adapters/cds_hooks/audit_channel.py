"""Audit records from the worker processes to one writer, the supervisor, a pipe each.

Two workers committing their own records fought over SQLite's write lock: with two workers
under load, a third of the writes waited for the other worker's commit or checkpoint in
SQLite's sleeping busy handler, 1.2 ms a call on average and 10 to 20 ms at the 99th
percentile, with the worker's event loop blocked all the while. A worker now hands each record
to its pipe (a pickle and a write) before it answers; the supervisor writes whatever has
arrived in one transaction (synchronous=FULL: one fsync for many calls). A worker that crashes
loses none of the records it sent, and the supervisor drains every pipe before it exits.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait

from .storage import AuditRecord, SqliteStore

__all__ = ["AuditSender", "AuditWriter"]

log = logging.getLogger("vigil.cds_hooks")
_BATCH = 500
# Once a record arrives, wait this long for more to write with it: one transaction, and one
# fsync, for every call of that stretch instead of one each.
GATHER_SECONDS = 0.01


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


class AuditWriter:
    """The supervisor's side: reads the workers' pipes and writes their records in batches."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self._pipes: list[Connection] = []

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
        """Write what is left in every pipe (their workers have stopped), then close."""
        batch: list[AuditRecord] = []
        for pipe in list(self._pipes):
            self._read(pipe, batch, until_closed=True)
        self._write(batch)
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
        if not batch:
            return
        try:
            self.store.record_many(batch)
        except Exception as exc:  # the records are lost; say so, with no patient data
            log.error("audit: %d records could not be written: %s", len(batch), type(exc).__name__)
            raise
