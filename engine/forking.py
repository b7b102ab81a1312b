"""A gate that lets work run in many threads at once and keeps a fork out of the middle of it.

A child process has only the thread that forked; every lock another thread held at the fork stays
held in the child for ever. An evaluation takes locks besides durable_rules' own: Python 3.11's
`functools.cached_property` holds one lock per property, shared by every instance, while it
computes a patient's summary. So a fork waits until no evaluation is running, and no evaluation
starts until the fork is done.
"""

from __future__ import annotations

import threading
from types import TracebackType


class ForkGate:
    """`with gate:` around each piece of work; `close()` before a fork, `open()` after it in
    the parent, `reset()` after it in the child."""

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._running = 0
        self._forking = 0

    def __enter__(self) -> None:
        with self._condition:
            while self._forking:
                self._condition.wait()
            self._running += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._condition:
            self._running -= 1
            if not self._running:
                self._condition.notify_all()

    def close(self) -> None:
        """Wait until no work runs; hold the gate shut (its lock held) until `open`/`reset`."""
        self._condition.acquire()
        self._forking += 1  # work arriving now waits, so the fork is not starved
        while self._running:
            self._condition.wait()

    def open(self) -> None:
        self._forking -= 1
        self._condition.notify_all()
        self._condition.release()

    def reset(self) -> None:
        """In the child: nothing runs there, and the threads waiting at the gate do not exist."""
        self._condition = threading.Condition(threading.Lock())
        self._running = 0
        self._forking = 0
