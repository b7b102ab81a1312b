"""Whether the service's storage works, shared by the supervisor and its workers.

`Health` keeps, for each store the service writes (the audit log, feedback, token ids), whether
its last write failed and why (a fixed phrase from `StoreUnavailable`), and counters: failed
writes, audit records lost, token ids answered from memory while the file could not be
written. It lives in shared memory made before the workers start, so any worker's `GET /health`
reports what the supervisor meets. A failure is logged once a period per process, not per call
(`failed` says when), and its recovery once (`recovered`).
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any, Literal

__all__ = ["COMPONENTS", "COUNTERS", "LOG_PERIOD_SECONDS", "REASONS", "Health"]

log = logging.getLogger("vigil.cds_hooks")
Component = Literal["audit", "feedback", "tokens"]
COMPONENTS: tuple[Component, ...] = ("audit", "feedback", "tokens")
Counter = Literal[
    "write_failures", "audit_lost", "tokens_in_memory", "refused_calls", "fhir_server_failures"
]
COUNTERS: tuple[Counter, ...] = (
    "write_failures",
    "audit_lost",
    "tokens_in_memory",
    "refused_calls",
    "fhir_server_failures",
)
# what a failing component may report: StoreUnavailable's phrases (index 0: working)
REASONS: tuple[str, ...] = (
    "",
    "the database is locked",
    "the disk is full",
    "the database is read-only",
    "disk I/O error",
    "the database cannot be opened",
    "the database is corrupt",
    "database error",
)
LOG_PERIOD_SECONDS = 60.0


class Health:
    """Storage state and counters in one shared array: a slot per component (its reason's
    index, 0 when working) then one per counter. Pass it to worker processes at their start."""

    def __init__(self, context: Any = None) -> None:
        ctx = context if context is not None else multiprocessing.get_context("spawn")
        self._slots: SynchronizedArray[int] = ctx.Array("q", len(COMPONENTS) + len(COUNTERS))
        self._logged: dict[Component, float] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"slots": self._slots}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._slots = state["slots"]
        self._logged = {}

    def failed(self, component: Component, reason: str) -> bool:
        """Record a failed write of `component`; True when it is to be logged now (the first
        failure in this process, or the first for LOG_PERIOD_SECONDS)."""
        code = REASONS.index(reason) if reason in REASONS else len(REASONS) - 1
        with self._slots.get_lock():
            self._slots[COMPONENTS.index(component)] = code
            self._slots[len(COMPONENTS) + COUNTERS.index("write_failures")] += 1
        now = time.monotonic()
        last = self._logged.get(component)
        if last is not None and now - last < LOG_PERIOD_SECONDS:
            return False
        self._logged[component] = now
        return True

    def recovered(self, component: Component) -> bool:
        """Record a write of `component` that worked; True when it was failing until now."""
        index = COMPONENTS.index(component)
        if self._slots[index] == 0:  # the common case, without the lock
            return False
        with self._slots.get_lock():
            was = self._slots[index]
            self._slots[index] = 0
        self._logged.pop(component, None)
        return was != 0

    def count(self, counter: Counter, n: int = 1) -> None:
        with self._slots.get_lock():
            self._slots[len(COMPONENTS) + COUNTERS.index(counter)] += n

    def report(self) -> dict[str, Any]:
        """`{"status": "ok" | "degraded", "failing": {component: reason}, "counters": {...}}`:
        fixed phrases and numbers only, safe to show to anyone."""
        with self._slots.get_lock():
            slots = [int(self._slots[i]) for i in range(len(self._slots))]
        failing = {
            component: REASONS[code]
            for component, code in zip(COMPONENTS, slots, strict=False)
            if code
        }
        counters = dict(zip(COUNTERS, slots[len(COMPONENTS) :], strict=True))
        return {
            "status": "degraded" if failing else "ok",
            "failing": failing,
            "counters": counters,
        }
