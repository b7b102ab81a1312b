"""A card note's text with its placeholders filled in, one line per value of a list placeholder.

`{name}` is what summaries and details show (a value with its unit, a parameter, the active
drugs of a medication concept). `{concept part}` reads one more thing about a concept:

    date         the local date (the ruleset's time zone) of its latest current record; of a
                 medication, the latest start of its active drugs
    age          how long before the evaluation time that record is: "5 hours", "3 days"
    days         calendar days from its local date to the evaluation's: "1 day", "3 days"
                 (a record of today has none)
    comment      each note text of the latest current result (one line each)
    changed      each active drug whose latest start is a new strength or product: that date
    ended        the drug whose course ended last: its end date
    held         each drug on hold: its name
    unconfirmed  each active drug whose statements are not confirmed: when last recorded

A medication part makes one line per drug it names, in which `{concept}` names that drug. A
placeholder with nothing to say (no record, no such drug) leaves the note out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime

from .clock import local_date
from .conditions import MedicationState, MedicationStateName
from .measures import Context, Measure, compute, current
from .model import Concept
from .summary import Reading, Summary

BRACED = re.compile(r"\{([^{}]*)\}")
_PART = re.compile(r"^(?P<name>[a-z][a-z0-9_]*) (?P<part>[a-z]+)$")
_PLAIN = re.compile(r"^[a-z][a-z0-9_]*$")

MEDICATION_PARTS = frozenset({"changed", "ended", "held", "unconfirmed"})
LIST_PARTS = MEDICATION_PARTS | {"comment"}  # parts that may give several lines
_READ_BY: Mapping[str, frozenset[str]] = {
    "date": frozenset({"quantity", "score", "coded", "finding", "event", "medication"}),
    "age": frozenset({"quantity", "score", "coded", "finding", "event"}),
    "days": frozenset({"quantity", "score", "coded", "finding", "event"}),
    "comment": frozenset({"quantity", "score", "coded", "finding"}),
    **{part: frozenset({"medication"}) for part in MEDICATION_PARTS},
}

Fill = Callable[[str], str]  # the `{name}` placeholders filled, as in a summary


def problems(
    text: str, concepts: Mapping[str, Concept], parameters: Mapping[str, object]
) -> list[str]:
    """What is wrong with the placeholders of a note's `text` (empty: nothing); `parameters`
    are the other names a plain `{name}` may give (parameters, named dates)."""
    found: list[str] = []
    lists: set[str] = set()
    for inner in BRACED.findall(text):
        if _PLAIN.fullmatch(inner):
            if inner not in concepts and inner not in parameters:
                found.append(f"{{{inner}}} names no concept or parameter")
            continue
        match = _PART.fullmatch(inner)
        if match is None:
            found.append(f"{{{inner}}} is not a placeholder: write {{concept}} or {{concept date}}")
            continue
        name, part = match["name"], match["part"]
        concept = concepts.get(name)
        if part not in _READ_BY:
            found.append(f"{{{inner}}}: unknown part {part!r} ({', '.join(sorted(_READ_BY))})")
        elif concept is None:
            found.append(f"{{{inner}}}: unknown concept {name!r}")
        elif concept.kind not in _READ_BY[part]:
            found.append(f"{{{inner}}}: a {concept.kind} concept has no {part}")
        elif part in LIST_PARTS:
            lists.add(name if part in MEDICATION_PARTS else f"{name} comment")
    if len(lists) > 1:
        found.append(f"one list placeholder a note, not {len(lists)} ({', '.join(sorted(lists))})")
    if set(BRACED.sub("", text)) & {"{", "}"}:
        found.append("a brace without its pair; braces only mark placeholders")
    return found


def lines(text: str, context: Context, fill: Fill) -> list[str]:
    """The lines a note shows: none when a placeholder has nothing to say."""
    parts = [(m, _PART.fullmatch(m)) for m in dict.fromkeys(BRACED.findall(text))]
    rows: list[dict[str, str]] = [{}]
    for inner, match in parts:
        if match is None:
            continue
        values = _values(match["name"], match["part"], context)
        if not values:
            return []
        if len(values) == 1 and match["part"] not in LIST_PARTS:
            rows = [{**row, inner: values[0][1]} for row in rows]
            continue
        # a list part: one row per value; a drug's row names that drug as {concept}
        rows = [
            {**row, inner: value, **({match["name"]: drug} if drug else {})}
            for row in rows
            for drug, value in values
        ]
    out: list[str] = []
    for row in rows:
        filled = " ".join(_fill_row(text, row, fill).split())
        if filled not in out:
            out.append(filled)
    return out


def _fill_row(text: str, row: Mapping[str, str], fill: Fill) -> str:
    """`text` with each placeholder filled in one pass, so that a value read from the record
    (a laboratory comment, a drug's name) is shown as written, never filled in again."""

    def one(match: re.Match[str]) -> str:
        inner = match.group(1)
        return row[inner] if inner in row else fill(match.group(0))

    return BRACED.sub(one, text)


def _values(name: str, part: str, context: Context) -> list[tuple[str, str]]:
    """(drug name or "", value) for each value of `{name part}`."""
    summary = context.summaries.get(name)
    if summary is None:
        return []
    if part in MEDICATION_PARTS:
        return _medication(summary, part, context)
    if summary.concept.kind == "medication":  # date: the latest start of its active drugs
        start = context.anchor(name)
        return [("", _date(start, context))] if start is not None else []
    reading = current(summary)
    if reading is None or reading.record.time is None:
        return []
    time = reading.record.time
    if part == "date":
        return [("", _date(time, context))]
    if part == "age":
        return [("", _age(context.as_of, time))]
    if part == "days":
        days = (context.today - local_date(time, context.zone)).days
        return [("", f"{days} day{'s' if days != 1 else ''}")] if days > 0 else []
    return [("", " ".join(note.split())) for note in reading.record.notes if note.strip()]


def _date(time: datetime, context: Context) -> str:
    return local_date(time, context.zone).isoformat()


def _age(as_of: datetime, time: datetime) -> str:
    hours = max(0, int((as_of - time).total_seconds() // 3600))
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours // 24} days"


def _medication(summary: Summary, part: str, context: Context) -> list[tuple[str, str]]:
    groups: dict[str, list[Reading]] = {}
    for reading in summary.history:
        if reading.record.present:
            groups.setdefault(reading.record.code or reading.record.source, []).append(reading)
    found: list[tuple[datetime, str, str]] = []  # (order, drug, value)
    for readings in groups.values():
        group = replace(summary, present=readings, absent=[], valued=[], earlier=[])
        name = next((r.record.display for r in reversed(readings) if r.record.display), None)
        drug = name or readings[0].record.code or readings[0].record.source
        value = _group_value(group, part, context)
        if value is not None:
            found.append((value[0], drug, drug if part == "held" else value[1]))
    found.sort()
    if part == "ended":  # the course that ended last: the likely cause
        found = found[-1:]
    return [(drug, value) for _, drug, value in found]


def _group_value(group: Summary, part: str, context: Context) -> tuple[datetime, str] | None:
    """(when, value) of one drug group for `part`, or None."""
    name = group.concept.name

    def state(word: MedicationStateName) -> list[Reading] | None:
        atom = MedicationState(name, word, f"{name} {word}", ())
        measured = compute(Measure(f"note:{word}", atom, None), group, context)
        return None if measured is None else list(measured.evidence)

    records = [r.record for r in group.history]
    if part == "held":
        held = state("on-hold")
        if not held:
            return None
        when = max((r.time for r in records if r.time), default=context.as_of)
        return when, ""  # the row's drug name is the value
    if part == "ended":
        ended = state("ended")
        if not ended:
            return None
        end = max(r.record.end or r.record.time or context.as_of for r in ended)
        return end, _date(end, context)
    if not state("active"):
        return None
    if part == "unconfirmed":
        if state("confirmed"):
            return None
        recorded = [time for r in records if (time := r.asserted or r.time) is not None]
        if not recorded:
            return None
        return max(recorded), _date(max(recorded), context)
    # changed: the latest start is a product new to the group, not its first record
    dated = sorted((r for r in records if r.time), key=lambda r: (r.time, r.source))
    alone = Context(context.ruleset, {name: group}, context.as_of, thresholds=context.thresholds)
    started = [start for _, start in alone.groups(group) if start is not None]
    latest = max(started, key=lambda r: (r.time, r.source), default=None)
    if not dated or latest is None or latest.time is None or latest.time == dated[0].time:
        return None
    return latest.time, context.date_of(latest).isoformat()
