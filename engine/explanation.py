"""Facts a rule matched, in words a clinician reads: values with units, and their sources."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from . import units
from .evaluation import Matched
from .measures import MEASURE_PREFIX
from .model import Concept
from .records import Quantity
from .summary import Reading, Summary


def sources(readings: Iterable[Reading]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.record.source for r in readings))


def number(value: float) -> str:
    return f"{round(value, 3):g}"


def written(value: float, concept: Concept) -> str:
    """A value as a card writes it: with the concept's `shown-decimals` places exactly
    (rounded half-up), else as `number` does."""
    if concept.shown_decimals is None:
        return number(value)
    step = Decimal(1).scaleb(-concept.shown_decimals)
    return f"{Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP):f}"


def describe(
    summary: Summary, attribute: str, *, reported: bool = True
) -> tuple[str, list[Reading]]:
    """A matched attribute in words, with the readings that support it (a measure: as it
    was computed for the session)."""
    measured = summary.measured.get(attribute)
    if measured is not None:
        return measured
    if attribute in ("latest", "lowest", "highest"):
        reading = getattr(summary, attribute)
        if reading is None or reading.value is None:
            return "not recorded", []
        return describe_reading(summary, reading, reported=reported), [reading]
    if attribute == "count":
        return str(summary.count), summary.present
    if attribute == "sites":
        return ", ".join(sorted(summary.sites)), [r for r in summary.present if r.site]
    if attribute == "span":
        return f"{number(summary.span_days)} days", summary.present
    if attribute == "absent":
        return "recorded absent", summary.absent
    if attribute == "recorded":
        return "recorded", summary.present + summary.absent
    if attribute == "below_ref":
        below = summary.below_reading
        return "below its reference range", [below] if below else []
    if attribute.startswith("site:"):
        site = attribute.removeprefix("site:")
        return f"present at {site}", [r for r in summary.present if r.site == site]
    flag = " (preliminary)" if any(r.record.preliminary for r in summary.present) else ""
    return f"present{flag}", summary.present


def describe_reading(summary: Summary, reading: Reading, *, reported: bool = True) -> str:
    """One valued reading in words: its value with the concept's unit (or its `shown-unit`
    words), as recorded when that differs (`reported`), flagged when preliminary."""
    assert reading.value is not None, "valued readings only"
    unit = summary.concept.unit
    suffix = f" {units.display(unit)}" if unit else ""
    if summary.concept.shown_unit is not None:  # the ruleset's words for its unit
        suffix = f" {summary.concept.shown_unit}"
    flag = " (preliminary)" if reading.record.preliminary else ""
    raw = reading.record.value
    if reported and isinstance(raw, Quantity) and number(raw.value) != number(reading.value):
        flag = f" (reported as {number(raw.value)} {units.display(raw.unit)}){flag}"
    return f"{written(reading.value, summary.concept)}{suffix}{flag}"


def reason(matched: Matched) -> str:
    if matched.kind == "finding":
        return (
            f"- finding *{matched.name}* (derived by rule `{dict(matched.values)['derived by']}`)"
        )
    at_a_site = any(attribute.startswith("site:") for attribute, _ in matched.values)
    values = "; ".join(
        value
        if attribute in ("present", "absent", "recorded", "below_ref")
        or attribute.startswith(("site:", MEASURE_PREFIX))
        else f"{attribute} {value}"
        for attribute, value in matched.values
        if not (attribute == "present" and at_a_site)  # "present at tongue" says it already
    )
    sources = f" ({', '.join(matched.sources)})" if matched.sources else ""
    return f"- {matched.name.replace('_', ' ')}: {values}{sources}"
