"""The calf-fasciculation specification written as plain Python, independent of the engine.

Used two ways: as the oracle that property tests compare the engine's answers with, and as the
hand-written floor in the benchmark. It reads the same Records the engine reads and follows
clinical-spec.md row by row; it shares no code with `engine` beyond the Record type.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.records import Quantity, Record

LOOKBACK = timedelta(days=30)
LABS = {"potassium", "magnesium", "calcium", "gad7", "sleep", "caffeine"}
# mmol/L per unit; Mg and Ca are divalent (mEq/L = 2 x mmol/L); spec factors from molar masses
TO_MMOL = {
    "potassium": {"mmol/L": 1.0, "meq/L": 1.0, "mEq/L": 1.0, "mg/dL": 10 / 39.098},
    "magnesium": {"mmol/L": 1.0, "meq/L": 0.5, "mEq/L": 0.5, "mg/dL": 10 / 24.305},
    "calcium": {"mmol/L": 1.0, "meq/L": 0.5, "mEq/L": 0.5, "mg/dL": 10 / 40.078},
}
LEVEL_RANK = {"none": 0, "self-care": 1, "primary-care": 2, "neurology": 3, "urgent": 4}
RULE_LEVEL = {
    "severe-hypokalemia": "urgent",
    "hypokalemia-with-weakness": "urgent",
    "severe-hypomagnesemia": "urgent",
    "severe-hypocalcemia": "urgent",
    "low-potassium": "primary-care",
    "low-magnesium": "primary-care",
    "low-calcium": "primary-care",
    "twitching-with-persistent-weakness": "neurology",
    "twitching-with-unconfirmed-weakness": "primary-care",
    "twitching-with-atrophy": "neurology",
    "twitching-with-bulbar-sign": "neurology",
    "widespread-twitching": "primary-care",
    "chronic-twitching": "primary-care",
    "prolonged-cramp": "primary-care",
    "anxiety-screen-positive": "primary-care",
    "benign-twitching": "self-care",
}


@dataclass(frozen=True)
class Answer:
    escalation: str
    rules: frozenset[str]


def _counts(record: Record, as_of: datetime) -> bool:
    # a date (no offset) has begun somewhere on Earth up to 14 hours before its midnight UTC
    slack = timedelta(hours=14) if record.date_only else timedelta(0)
    if record.time is not None and record.time - as_of > slack:
        return False
    if record.concept in LABS:
        if record.time is None:
            return False
        end = as_of if record.ongoing else (record.end or record.time)
        return end >= as_of - LOOKBACK
    return True


def _number(record: Record) -> float | None:
    value = record.value
    if isinstance(value, Quantity):
        table = TO_MMOL.get(record.concept)
        if table is not None:
            factor = table.get(value.unit)
            return None if factor is None else value.value * factor
        if record.concept == "cramp":
            return {"min": 1.0, "s": 1 / 60, "h": 60.0}.get(value.unit, float("nan")) * value.value
        if record.concept == "sleep":
            return {"h": 1.0, "min": 1 / 60}[value.unit] * value.value
        return value.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def evaluate(records: Iterable[Record], as_of: datetime) -> Answer:
    present: dict[str, list[Record]] = {}
    for record in records:
        if record.present and _counts(record, as_of):
            present.setdefault(record.concept, []).append(record)

    def latest(concept: str) -> Record | None:
        valued = [r for r in present.get(concept, []) if _number(r) is not None]
        return max(valued, key=_order, default=None)

    def value(concept: str) -> float | None:
        record = latest(concept)
        return None if record is None else _number(record)

    def below_reference(concept: str) -> bool:
        record = latest(concept)
        if record is None or record.reference_low is None:
            return False
        low = record.reference_low.value * TO_MMOL[concept][record.reference_low.unit]
        number = _number(record)
        return number is not None and number < low

    def span_days(concept: str) -> float:
        dated = [(r, r.time) for r in present.get(concept, []) if r.time is not None]
        if not dated:
            return 0.0
        first = min(time for _, time in dated)
        # what is known at as_of: an end after it is not known yet
        last = max(as_of if r.ongoing else min(r.end or time, as_of) for r, time in dated)
        return max(0.0, (last - first).total_seconds() / 86400)

    fasciculation = bool(present.get("fasciculation"))
    if not fasciculation and not present.get("cramp"):
        return Answer("none", frozenset())
    weakness = bool(present.get("weakness"))
    k, mg, ca = value("potassium"), value("magnesium"), value("calcium")
    fired: set[str] = set()
    if k is not None and k < 2.5:
        fired.add("severe-hypokalemia")
    if k is not None and k < 3.5 and weakness:
        fired.add("hypokalemia-with-weakness")
    if mg is not None and mg < 0.40:
        fired.add("severe-hypomagnesemia")
    if ca is not None and ca < 1.9:
        fired.add("severe-hypocalcemia")
    if k is not None and k >= 2.5 and (k < 3.5 or below_reference("potassium")):
        fired.add("low-potassium")
    if mg is not None and mg >= 0.40 and (mg < 0.70 or below_reference("magnesium")):
        fired.add("low-magnesium")
    if ca is not None and 1.9 <= ca < 2.2:
        fired.add("low-calcium")
    deficit = bool(
        fired & {"severe-hypokalemia", "severe-hypomagnesemia", "severe-hypocalcemia"}
        | fired & {"low-potassium", "low-magnesium", "low-calcium"}
    )
    grades = [n for r in present.get("mrc_grade", []) if (n := _number(r)) is not None]
    # occasions: one resource read at several body sites (records) is one
    weakness_records = len({r.source for r in present.get("weakness", [])})
    persistent = (weakness_records >= 2 and span_days("weakness") >= 14) or any(
        g <= 4 for g in grades
    )
    if fasciculation and persistent and not deficit:
        fired.add("twitching-with-persistent-weakness")
    if fasciculation and weakness and not persistent:
        fired.add("twitching-with-unconfirmed-weakness")
    if fasciculation and present.get("atrophy"):
        fired.add("twitching-with-atrophy")
    tongue = any(_is_tongue(r.site) for r in present.get("fasciculation", []))
    if fasciculation and (present.get("bulbar_sign") or tongue):
        fired.add("twitching-with-bulbar-sign")
    sites = {_site_key(r.site) for r in present.get("fasciculation", []) if r.site}
    if len(sites) >= 2 and span_days("fasciculation") >= 14:
        fired.add("widespread-twitching")
    if span_days("fasciculation") >= 14:
        fired.add("chronic-twitching")
    durations = [n for r in present.get("cramp", []) if (n := _number(r)) is not None]
    if durations and max(durations) > 10:
        fired.add("prolonged-cramp")
    gad7 = value("gad7")
    if fasciculation and gad7 is not None and gad7 >= 10:
        fired.add("anxiety-screen-positive")
    if fasciculation and not any(LEVEL_RANK[RULE_LEVEL[r]] >= 2 for r in fired):
        fired.add("benign-twitching")
    escalation = max((RULE_LEVEL[r] for r in fired), key=LEVEL_RANK.__getitem__, default="none")
    return Answer(escalation, frozenset(fired))


def _order(record: Record) -> tuple[object, ...]:
    """Chronological; ties (one source, one time) broken as the engine breaks them."""
    low = record.reference_low.value if record.reference_low else float("-inf")
    number = _number(record)
    return (
        record.time,
        record.source,
        float("-inf") if number is None else number,
        low,
        record.site or "",
        record.preliminary,
    )


def _site_key(site: str | None) -> str:
    return (site or "").replace("http://snomed.info/sct", "sct")


def _is_tongue(site: str | None) -> bool:
    return _site_key(site) == "sct#21974007"
