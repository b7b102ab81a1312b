"""Calls refused before a caller was authenticated, counted rather than stored one by one.

Anyone can send such calls (an unknown service, a bad token), as fast as they like: stored a
row each, with the path as sent, they filled the disk. `RefusalTally` counts them per window
(`WINDOW_SECONDS`, aligned to the clock) under a key of fixed-size parts (the call's kind, the
service as shown in the log, the status, the refusal's reason): the first call of a key in a
window is recorded at once, and the others of that window as one record with their count
when it is flushed. So a window holds at most two records a key; its keys are bounded
(`MAX_KEYS`: the rest count under `OTHER_REASONS`), and so are the calls logged one by one
(`LOGGED_PER_WINDOW`: the rest are summed up in one line when the window is flushed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .storage import AuditRecord, bounded

__all__ = [
    "LOGGED_PER_WINDOW",
    "MAX_KEYS",
    "MAX_REASON_CHARS",
    "OTHER_REASONS",
    "WINDOW_SECONDS",
    "RefusalTally",
    "reason_text",
]

log = logging.getLogger("vigil.cds_hooks")
WINDOW_SECONDS = 60.0
LOGGED_PER_WINDOW = 20
MAX_REASON_CHARS = 120
OTHER_REASONS = "(other reasons)"

Key = tuple[str, str, int, str | None]  # kind, service shown, status, reason
MAX_KEYS = 16


def reason_text(exc: BaseException) -> str:
    """An exception's message as a refusal reason: one line, control characters escaped, at
    most MAX_REASON_CHARS (parts of it, such as a token's `alg`, are the caller's)."""
    text = str(exc) or type(exc).__name__
    shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return bounded(shown, MAX_REASON_CHARS) or ""


class RefusalTally:
    """Counts of refused calls per window, written to `record` as one AuditRecord per key."""

    def __init__(self, record: Callable[[AuditRecord], None]) -> None:
        self._record = record
        self._window = 0.0
        self._counts: dict[Key, int] = {}  # calls after the first, per key
        self._last: dict[Key, float] = {}  # the time of the last call counted, per key
        self._calls = 0
        self._unlogged = 0

    def add(self, now: float, kind: str, service: str, status: int, reason: str | None) -> bool:
        """Count one refused call at time `now`; True when it is to be logged one by one."""
        window = now - now % WINDOW_SECONDS
        if window != self._window:
            self.flush()
            self._window = window
        key: Key = (kind, service, status, reason)
        if key not in self._counts and len(self._counts) >= MAX_KEYS:
            key = (kind, service, status, OTHER_REASONS)
        if key in self._counts:
            self._counts[key] += 1
            self._last[key] = now
        else:
            self._counts[key] = 0
            self._record(self._entry(key, now, 1))
        self._calls += 1
        logged = self._calls <= LOGGED_PER_WINDOW
        if not logged:
            self._unlogged += 1
        return logged

    def flush_ended(self, now: float) -> None:
        """Flush when the window counted has ended by `now`."""
        if self._counts and now - self._window >= WINDOW_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Hand the counts of the current window to the audit log, and start afresh."""
        counts, self._counts = self._counts, {}
        last, self._last = self._last, {}
        unlogged, self._unlogged = self._unlogged, 0
        self._calls = 0
        for key, count in counts.items():
            if count:
                self._record(self._entry(key, last[key], count))
        if unlogged:
            log.info(
                "refused: %d more calls in that minute were not logged one by one (counted in"
                " the audit)",
                unlogged,
            )

    @staticmethod
    def _entry(key: Key, when: float, count: int) -> AuditRecord:
        kind, service, status, reason = key
        return AuditRecord(
            time=when, kind=kind, service=service, status=status, reason=reason, count=count
        )
