"""Whether a ruleset is in force: its status (draft, active, retired) and effective period.

Only an active ruleset within its `effective: {from, until}` dates (inclusive, judged on a date
in its own time zone) is used by default; one that is not is still used when named explicitly,
and `named_warning` is the one line that says so. `read_standing` reads these keys from a
ruleset file without loading (or compiling) its rules, so a registry can filter cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .model import Ruleset


@dataclass(frozen=True, slots=True)
class Standing:
    """What decides whether a ruleset is in force: its id, version, status, effective dates
    and time zone (the calendar of "today")."""

    id: str
    version: str
    status: str
    effective_from: date | None = None
    effective_until: date | None = None
    time_zone: str = "UTC"

    @classmethod
    def of(cls, ruleset: Ruleset) -> Standing:
        return cls(
            ruleset.id,
            ruleset.version,
            ruleset.status,
            ruleset.effective_from,
            ruleset.effective_until,
            ruleset.time_zone,
        )


def today_in(time_zone: str, now: datetime | None = None) -> date:
    """The calendar date in `time_zone` (UTC when the name is unknown) at `now` (default the
    current time); a naive `now` is read as UTC."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).date()


def not_in_force(what: Ruleset | Standing, as_of: datetime | None = None) -> str | None:
    """Why the ruleset is not in force at `as_of` (default now), as words after its name
    ("is a draft", "is retired", "is not effective until 2027-01-01", "was effective until
    2025-12-31"); None when it is active and effective."""
    standing = what if isinstance(what, Standing) else Standing.of(what)
    if standing.status == "draft":
        return "is a draft"
    if standing.status == "retired":
        return "is retired"
    if standing.status != "active":
        return f"has status {standing.status!r}"
    today = today_in(standing.time_zone, as_of)
    if standing.effective_from is not None and today < standing.effective_from:
        return f"is not effective until {standing.effective_from.isoformat()}"
    if standing.effective_until is not None and today > standing.effective_until:
        return f"was effective until {standing.effective_until.isoformat()}"
    return None


def in_force(what: Ruleset | Standing, as_of: datetime | None = None) -> bool:
    """Whether the ruleset is active and effective at `as_of` (default now)."""
    return not_in_force(what, as_of) is None


def named_warning(what: Ruleset | Standing, as_of: datetime | None = None) -> str | None:
    """The one-line warning for a ruleset used because it was named though not in force
    ("calf-x 0.1.0 is a draft: used because it was named"); None when it is in force."""
    reason = not_in_force(what, as_of)
    if reason is None:
        return None
    standing = what if isinstance(what, Standing) else Standing.of(what)
    return f"{standing.id} {standing.version} {reason}: used because it was named"


def read_standing(path: Path) -> Standing | None:
    """The standing a ruleset file states, read from its top-level keys without checking or
    compiling the rest; None when the file cannot be read or those keys are not usable (the
    loader then says why, when the ruleset is loaded)."""
    try:
        data: Any = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    effective = data.get("effective") or {}
    if not isinstance(effective, dict):
        return None
    start, until = effective.get("from"), effective.get("until")
    fields = (data.get("id"), data.get("version"), data.get("status"))
    if not all(isinstance(f, str) for f in fields):
        return None
    if not all(d is None or type(d) is date for d in (start, until)):
        return None
    zone = data.get("time-zone", "UTC")
    return Standing(
        str(data["id"]),
        str(data["version"]),
        str(data["status"]),
        start,
        until,
        zone if isinstance(zone, str) else "UTC",
    )


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
