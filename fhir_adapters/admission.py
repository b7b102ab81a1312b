"""Which content a cache keeps: what has been met twice, not everything met once.

Everything a cache keeps is a Python object the garbage collector walks, and a cache that keeps
whatever it meets, once full, swaps old entries for new ones at the rate of the traffic. Python
counts collections by allocations minus deallocations, and a swap is one of each: the new
entries pile up in the youngest generation uncounted until a collection finally runs, and walks
them all. With fresh patients (their values, ids and timestamps met once, never again) a worker
ran a young collection of 80,000 objects, 20 ms, every 270 calls, on whichever calls were in
flight. Content met a second time is the kind that comes back (a chart opened again, a code on
every lab result); content met once leaves nothing behind but its key in `SeenOnce`: an int or
bytes, which the collector does not track.
"""

from __future__ import annotations

from collections.abc import Hashable

__all__ = ["SeenOnce"]


class SeenOnce:
    """Keys met once and not kept yet, up to `size` of them (then forgotten all at once: a key
    then needs two more sightings, which costs one more validation, never a wrong answer).

    Safe to share between threads: a race costs at most one entry kept early or late.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._keys: set[Hashable] = set()

    def again(self, key: int | bytes) -> bool:
        """Whether `key` was met before; if not, it is remembered."""
        if key in self._keys:
            self._keys.discard(key)
            return True
        if len(self._keys) >= self.size:
            self._keys.clear()
        self._keys.add(key)
        return False

    def __len__(self) -> int:
        return len(self._keys)
