"""The last moment a FHIR JSON date, dateTime or instant may stand for, anywhere on Earth.

For code that reads resources as JSON, before (or instead of) validating them: the times are
read as `fhir_adapters` reads them for the engine (a dateTime without an offset is UTC; a date,
a month or a year lasts to its end), and a date, which states no offset, is taken to end
`engine.clock.DATE_END_SLACK` after its end UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.clock import DATE_END_SLACK

from ._time import is_date_only, last_instant

__all__ = ["latest_moment"]


def latest_moment(text: object) -> datetime | None:
    """The last moment the JSON value `text` may stand for; None when it is not a FHIR date,
    dateTime or instant."""
    if not isinstance(text, str):
        return None
    value: object = text  # a month or a year stays text, as the R4B models keep it
    try:
        if "T" in text:
            value = datetime.fromisoformat(text)
        elif len(text) == len("2024-05-01"):
            value = date.fromisoformat(text)
    except ValueError:
        return None
    last = last_instant(value)
    if last is None or not is_date_only(value):
        return last
    try:
        return last + DATE_END_SLACK
    except OverflowError:  # 9999-12-31, an open end's usual stand-in
        return datetime.max.replace(tzinfo=UTC)
