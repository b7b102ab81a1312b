"""Whether the first page of a search sorted newest first holds all the rules read of it.

An EHR that prefetches a search may send only its first page, with a `next` link and no
`fhirAuthorization` to read the rest. The later pages of an Observation search sorted by
`-date` hold entries dated at or before the first page's oldest. When every one of those
ended before the concept's lookback began (`now - lookback`, the window the evaluation reads,
at a `now` no later than the evaluation's), the rest need not be read: nothing on it counts.

A server sorts a date or an interval by one moment of it, so an entry beyond the page may end
after the moment it was sorted by: `MARGIN` allows for one that is a date (a whole day, and the
offsets a date does not state). An interval longer than that is not allowed for. A page that is
not itself newest first (a server that ignored `_sort`) never suffices.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from engine.clock import DATE_END_SLACK, DATE_OFFSET_SLACK

from ..moments import latest_moment

__all__ = ["MARGIN", "reaches_back"]

MARGIN = timedelta(days=1) + DATE_OFFSET_SLACK + DATE_END_SLACK


def reaches_back(page: Sequence[dict[str, Any]], lookback: timedelta, now: datetime) -> bool:
    """Whether `page`, the resources of a first page sorted newest first, reaches back past
    `lookback` before `now` far enough that no later page holds anything that counts."""
    moments = [m for m in map(_last_moment, page) if m is not None]
    if not moments:
        return False
    # An entry may end up to MARGIN after the moment it was sorted by, so newest first, none
    # ends more than MARGIN after any entry before it (not only the one just before: a page
    # sorted oldest first in small steps would pass). Otherwise the later pages may hold anything.
    earliest_before = accumulate(moments[:-1], min)
    if any(
        later - earliest > MARGIN
        for earliest, later in zip(earliest_before, moments[1:], strict=True)
    ):
        return False
    return now - min(moments) > lookback + MARGIN  # as differences: no calendar bound overflows


def _last_moment(resource: dict[str, Any]) -> datetime | None:
    """The last moment an Observation's effective time stands for; None when it has none the
    rules can read, or is an interval still open."""
    if resource.get("resourceType") != "Observation":
        return None
    for name in ("effectiveDateTime", "effectiveInstant"):
        if name in resource:
            return latest_moment(resource[name])
    period = resource.get("effectivePeriod")
    if isinstance(period, dict):
        return latest_moment(period.get("end"))
    return None
