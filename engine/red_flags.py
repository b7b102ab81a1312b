"""Red flags: each flag's state on every card, decided by conditions run inside durable_rules.

Each condition of a flag (its present states, in order, and its recorded-absent condition) runs
as a hidden rule that only derives a finding (`flag_rules`), unless the session reads it
already (a derived finding; a concept present, or absent, in its lookback). `flag_checks` reads
which held: the first present state that holds (`present`, or a ruleset's own: `examined`), else
`absent` when its condition holds, else `not-recorded`. A flag never assessed is never "not
met". Its `date` is the local calendar date of the latest dated record in that state's evidence
(for `absent`, the latest record saying absent); None when none is dated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from .clock import calendar_date, zone_of
from .conditions import Condition, FindingRef, Presence
from .evaluation import Finding, RedFlagCheck
from .model import Action, RedFlag, Rule, Ruleset
from .proposals import HIDDEN
from .summary import Summary

__all__ = [
    "ABSENT",
    "NOT_RECORDED",
    "PRESENT",
    "flag_checks",
    "flag_rules",
    "flag_states",
    "red_flag_line",
    "state_words",
]

PRESENT, ABSENT, NOT_RECORDED = "present", "absent", "not-recorded"


def flag_id(flag: RedFlag) -> str:
    """The flag's id: its own, else the concept or finding it names."""
    return flag.id or flag.concept or flag.finding or ""


def flag_states(flag: RedFlag) -> tuple[tuple[tuple[str, Condition], ...], Condition | None]:
    """The flag's present states in order, each with its condition, and its absent condition
    (None: never absent); the `concept` and `finding` shorthands spelt out."""
    if flag.states:
        return flag.states, flag.absent
    if flag.concept is not None:
        name = flag.concept
        path = ("red-flags", flag_id(flag), "concept")
        present = Presence(name, "present", None, f"{name} present", path)
        absent = Presence(name, "absent", None, f"{name} absent", path)
        return ((PRESENT, present),), flag.absent or absent
    if flag.finding is not None:
        path = ("red-flags", flag_id(flag), "finding")
        return ((PRESENT, FindingRef(flag.finding, flag.finding, path)),), flag.absent
    return (), flag.absent


def _finding(flag: RedFlag, state: str) -> str:
    return f"flag{HIDDEN}{flag_id(flag)}{HIDDEN}{state}"


def _is_direct(condition: Condition) -> bool:
    """Whether the condition is a fact the session reads already (a derived finding, or a
    concept present or absent in its lookback): then no rule of its own is needed."""
    if isinstance(condition, FindingRef):
        return True
    return (
        isinstance(condition, Presence)
        and condition.window is None
        and condition.site is None
        and condition.state in ("present", "absent")
    )


def _held(
    flag: RedFlag,
    state: str,
    condition: Condition,
    derived: Mapping[str, Finding],
    summaries: Mapping[str, Summary],
) -> tuple[str, ...] | None:
    """The evidence of one of the flag's conditions when it held, else None."""
    if not _is_direct(condition):
        found = derived.get(_finding(flag, state))
        return found.evidence if found is not None else None
    if isinstance(condition, FindingRef):
        found = derived.get(condition.name)
        return found.evidence if found is not None else None
    assert isinstance(condition, Presence)
    summary = summaries.get(condition.concept)
    if summary is None:
        return None
    if condition.state == PRESENT:
        held = summary.present if summary.is_present else None
    else:
        held = summary.absent if summary.is_absent else None
    return None if held is None else tuple(dict.fromkeys(r.record.source for r in held))


def flag_rules(ruleset: Ruleset) -> tuple[Rule, ...]:
    """A derive-only rule for each condition of the ruleset's red flags that the session does
    not read already."""
    rules: list[Rule] = []
    for flag in ruleset.red_flags:
        states, absent = flag_states(flag)
        named = [*states, *([(ABSENT, absent)] if absent is not None else [])]
        for state, condition in named:
            if not _is_direct(condition):
                name = _finding(flag, state)
                rules.append(Rule(name, name, condition, Action(derive=name)))
    return tuple(rules)


def flag_checks(
    ruleset: Ruleset, derived: Mapping[str, Finding], summaries: Mapping[str, Summary]
) -> tuple[RedFlagCheck, ...]:
    """Each red flag in its state, in the ruleset's order, with the evidence of that state."""
    times, present_times = _record_times(summaries)
    zone = zone_of(ruleset.time_zone)
    checks: list[RedFlagCheck] = []
    for flag in ruleset.red_flags:
        states, absent = flag_states(flag)
        candidates = [*states, *([(ABSENT, absent)] if absent is not None else [])]
        assessable = absent is not None
        held = ((s, _held(flag, s, c, derived, summaries)) for s, c in candidates)
        found = next(((s, e) for s, e in held if e is not None), None)
        if found is None:
            checks.append(
                RedFlagCheck(flag.label, NOT_RECORDED, (), flag_id(flag), None, assessable)
            )
            continue
        state, evidence = found
        known = times if state == ABSENT else present_times
        dated = [known[s] for s in evidence if s in known]
        latest = max(dated, default=None)
        shown: date | None = None
        if latest is not None:
            shown = calendar_date(latest[0], zone, latest[1])
        checks.append(RedFlagCheck(flag.label, state, evidence, flag_id(flag), shown, assessable))
    return tuple(checks)


Times = dict[str, tuple[datetime, bool]]


def _record_times(summaries: Mapping[str, Summary]) -> tuple[Times, Times]:
    """Each source's latest record time (and whether it is a date only) over every summary, of
    all its records, then of its records saying present only."""
    times: Times = {}
    present: Times = {}
    for summary in summaries.values():
        for reading in summary.history:
            record = reading.record
            if record.time is None:
                continue
            for kept in (times, present) if record.present else (times,):
                known = kept.get(record.source)
                if known is None or record.time > known[0]:
                    kept[record.source] = (record.time, record.date_only)
    return times, present


def state_words(check: RedFlagCheck) -> str:
    """A flag's state in words, with its date: `examined (2026-02-20)`, `not recorded`."""
    words = check.status.replace("-", " ")
    return f"{words} ({check.date.isoformat()})" if check.date is not None else words


def red_flag_line(checks: Sequence[RedFlagCheck]) -> str:
    """`Red flags: <label> <state>; ...`, or "" when there are none."""
    if not checks:
        return ""
    return "Red flags: " + "; ".join(f"{c.label} {state_words(c)}" for c in checks)
