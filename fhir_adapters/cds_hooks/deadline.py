"""One time limit for everything a CDS Hooks call reads from other servers.

A `Deadline` starts when the call arrives and is handed down to whatever fetches on its behalf
(every prefetch key, every page, every redirect): each part gets what is left of the one
budget, not a fresh timeout of its own, so a server that answers slowly, or trickles a byte at a
time, cannot hold the call past it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


class DeadlinePassed(Exception):
    """The work under `Deadline.enforced` had not finished when the deadline passed."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """`seconds` of budget ending at `ends` (on the `time.monotonic` clock)."""

    seconds: float
    ends: float

    @classmethod
    def start(cls, seconds: float) -> Deadline:
        return cls(seconds, time.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds left, 0 once the deadline has passed."""
        return max(0.0, self.ends - time.monotonic())

    def __str__(self) -> str:
        return f"{self.seconds:g} s"

    @asynccontextmanager
    async def enforced(self) -> AsyncIterator[None]:
        """Cancel the work inside at the deadline and raise DeadlinePassed instead."""
        # asyncio's timeout, not a per-read one: it ends the call however the bytes arrive
        scope = asyncio.timeout(self.remaining())
        try:
            async with scope:
                yield
        except TimeoutError:
            if scope.expired():
                raise DeadlinePassed(f"not done within {self}") from None
            raise


__all__ = ["Deadline", "DeadlinePassed"]
