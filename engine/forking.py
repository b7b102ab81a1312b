"""A gate that lets work run in many threads at once and keeps a fork out of the middle of it.

A child process has only the thread that forked; every lock another thread held at the fork stays
held in the child for ever. An evaluation takes locks besides durable_rules' own: Python 3.11's
`functools.cached_property` holds one lock per property, shared by every instance, while it
computes a patient's summary. So a fork waits until no evaluation is running, and no evaluation
starts until the fork is done. Work in the forking thread itself (a fork from inside it: records
read from a source that starts a process) is not waited for: it cannot end before the fork, and
it goes on in the child.
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
        self._thread = threading.local()  # `depth`: how much of `_running` is this thread's

    def _own(self) -> int:
        depth: int = getattr(self._thread, "depth", 0)
        return depth

    def __enter__(self) -> None:
        with self._condition:
            while self._forking and not self._own():  # a thread already in goes on
                self._condition.wait()
            self._running += 1
            self._thread.depth = self._own() + 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._condition:
            self._running -= 1
            self._thread.depth = self._own() - 1
            if self._forking:  # the forking thread checks whether what is left is its own
                self._condition.notify_all()

    def close(self) -> None:
        """Wait until no other thread's work runs; hold the gate shut (its lock held) until
        `open`/`reset`."""
        self._condition.acquire()
        self._forking += 1  # work arriving now waits, so the fork is not starved
        while self._running > self._own():
            self._condition.wait()

    def open(self) -> None:
        self._forking -= 1
        self._condition.notify_all()
        self._condition.release()

    def reset(self) -> None:
        """In the child: only the forking thread's work runs there, and the threads waiting at
        the gate do not exist."""
        self._condition = threading.Condition(threading.Lock())
        self._running = self._own()
        self._forking = 0
