"""A card's text, written from what the evaluation has, in the words of the ruleset's `card:`.

Title: `<level label> — <headline>`, the headline the summary of the first fired rule at the
escalation level in rule order. Then the lines, each left out when it has nothing to say but
the second: the Do now line; `Found: ` the red flags in a present state (their words for it,
with the date of the latest present record of a flag that can be recorded absent), then each
current result of the listed concepts beyond its `low:` or `high:` limit (`<words> <v> (<date>)
low`), then each old value not rechecked (`..., not repeated`); `Also: ` the summaries of the
other fired rules above the first level, in rule order, then each note shown, one a line;
`Not recorded: ` the flags never assessed, then the listed concepts not measured within their
lookback; at the `advice-at` levels, the advice notes, one a line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta, tzinfo

from .clock import calendar_date, zone_of
from .codes import parse_code
from .conditions import NotRechecked
from .do_now import NO_ORDER, PREFIX
from .errors import CodeError
from .evaluation import CardText, RedFlagCheck, ShownNote, Suggestion
from .explanation import describe_reading
from .levels import Ladder
from .measures import Measure
from .model import CardFlag, CardLayout, CardResult, Ruleset
from .red_flags import ABSENT, NOT_RECORDED
from .results import Judge, Thresholds, current_results
from .summary import Reading, Summary

DASH = " — "


class CardWriter:
    """Writes the cards of one ruleset (compiled with `measures`): what every card reads of
    the ruleset (rule order, notes' sections, `not rechecked` measures, thresholds) is worked
    out once, not for each evaluation. Safe to share between threads."""

    def __init__(
        self,
        ruleset: Ruleset,
        levels: Ladder,
        measures: Mapping[str, Measure],
        thresholds: Thresholds | None = None,
    ) -> None:
        """`thresholds`: the ruleset's resolved thresholds to share (see `Judge`)."""
        self.ruleset = ruleset
        self.levels = levels
        self._order = {rule.id: n for n, rule in enumerate(ruleset.rules)}
        self._sections: dict[str, str] = {}
        for note in ruleset.notes:
            self._sections.setdefault(note.id, note.section)
        self._rechecks: dict[str, list[str]] = {}  # concept: its `not rechecked` measures' keys
        for key, measure in measures.items():
            if isinstance(measure.atom, NotRechecked):
                self._rechecks.setdefault(measure.atom.concept, []).append(key)
        self._thresholds: Thresholds = {} if thresholds is None else thresholds
        self._zone = zone_of(ruleset.time_zone)

    def card_text(
        self,
        escalation: str,
        suggestions: Sequence[Suggestion],
        do_now: str | None,
        red_flags: Sequence[RedFlagCheck],
        notes: Sequence[ShownNote],
        summaries: Mapping[str, Summary],
        fill: Callable[[str], str],
    ) -> CardText | None:
        """The card's text; None when the ruleset writes none or no rule suggested anything."""
        layout, levels, order = self.ruleset.card, self.levels, self._order
        if layout is None or not suggestions:
            return None

        def place(s: Suggestion) -> int:
            return order.get(s.rule, len(order))

        heads = [s for s in suggestions if s.level == escalation] or list(suggestions)
        head = min(heads, key=place)
        level = levels.level(escalation)
        title = f"{level.label or level.title}{DASH}{_one_line(head.summary)}"
        lines = [do_now or PREFIX + NO_ORDER]
        found = _flags_found(layout, red_flags, fill) + self._results_found(layout, summaries)
        if found:
            lines.append("Found: " + "; ".join(found))
        others = [
            _one_line(s.summary)
            for s in sorted(suggestions, key=place)
            if s.rule != head.rule and not levels.is_first(s.level)
        ]
        if others:
            lines.append("Also: " + "; ".join(others))
        sections = self._sections
        lines.extend(_one_line(n.text) for n in notes if sections.get(n.id, "also") != "advice")
        missing = _not_recorded(self.ruleset, layout, red_flags, summaries)
        if missing:
            lines.append(missing)
        if escalation in layout.advice_at:
            lines.extend(_one_line(n.text) for n in notes if sections.get(n.id) == "advice")
        return CardText(title, tuple(lines))

    def _results_found(self, layout: CardLayout, summaries: Mapping[str, Summary]) -> list[str]:
        """Each current result of the listed concepts beyond a limit, then each old value not
        rechecked that a rule's test found."""
        ruleset, zone = self.ruleset, self._zone
        # a limit's warnings are the rules' to give
        judge = Judge(ruleset, [], self._thresholds)
        current: list[str] = []
        old: list[str] = []
        seen: set[str] = set()
        for item in layout.results:
            summary = summaries.get(item.concept)
            if summary is None:
                continue
            for reading in current_results(summary):
                if not _of_form(reading, item, ruleset):
                    continue
                side = _side(judge, reading, item.concept, ruleset)
                if side is not None:
                    current.append(f"{item.words} {_value(summary, reading, zone)} {side}")
            for key in self._rechecks.get(item.concept, ()):
                readings = summary.measured.get(key, ("", []))[1]
                for reading in readings[:1]:
                    if not _of_form(reading, item, ruleset):
                        continue
                    side = _side(judge, reading, item.concept, ruleset)
                    if side is None or reading.record.source in seen:
                        continue
                    seen.add(reading.record.source)
                    words = f"{item.words} {_value(summary, reading, zone)} {side}, not repeated"
                    old.append(words)
        return current + old


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _card_flag(layout: CardLayout, check: RedFlagCheck) -> CardFlag | None:
    return next((f for f in layout.flags if f.id == check.id), None)


def _flags_found(
    layout: CardLayout, checks: Sequence[RedFlagCheck], fill: Callable[[str], str]
) -> list[str]:
    """Each flag in a present state in its words; a flag that can be recorded absent with
    the date of its latest present record (a derived flag's words say what it counted)."""
    found: list[str] = []
    for check in checks:
        if check.status in (ABSENT, NOT_RECORDED):
            continue
        flag = _card_flag(layout, check)
        words = dict(flag.words).get(check.status) if flag is not None else None
        text = _one_line(fill(words)) if words is not None else check.label
        if check.assessable and check.date is not None:
            text += f" ({check.date.isoformat()})"
        found.append(text)
    return found


def _of_form(reading: Reading, item: CardResult, ruleset: Ruleset) -> bool:
    """Whether the result is of the entry's codes (any result, when it names none)."""
    if not item.codes or reading.record.code is None:
        return not item.codes
    try:
        key = parse_code(reading.record.code, ruleset.code_systems).key
    except CodeError:
        return False
    return any(key == code.key for code in item.codes)


def _side(judge: Judge, reading: Reading, name: str, ruleset: Ruleset) -> str | None:
    if reading.value is None:
        return None
    concept = ruleset.concepts[name]
    if judge.meets(reading, concept, "low") is not None:
        return "low"
    if judge.meets(reading, concept, "high") is not None:
        return "high"
    return None


def _value(summary: Summary, reading: Reading, zone: tzinfo) -> str:
    words = describe_reading(summary, reading, reported=False)
    time = reading.record.time
    if time is None:
        return words
    return f"{words} ({calendar_date(time, zone, reading.record.date_only).isoformat()})"


def _not_recorded(
    ruleset: Ruleset,
    layout: CardLayout,
    checks: Sequence[RedFlagCheck],
    summaries: Mapping[str, Summary],
) -> str | None:
    """`Not recorded: ` the flags never assessed, then the listed concepts not measured."""
    flags: list[str] = []
    for check in checks:
        if check.status != NOT_RECORDED or not check.assessable:
            continue
        flag = _card_flag(layout, check)
        flags.append(flag.missing if flag is not None and flag.missing else check.label)
    groups: dict[str, tuple[bool, timedelta | None]] = {}  # word: (measured, lookback)
    for item in layout.results:
        if item.missing is None:
            continue
        summary = summaries.get(item.concept)
        measured = summary is not None and bool(current_results(summary))
        known, lookback = groups.get(item.missing, (False, None))
        own = ruleset.concepts[item.concept].lookback
        groups[item.missing] = (known or measured, lookback or own)
    by_window: dict[str, list[str]] = {}
    for word, (measured, lookback) in groups.items():
        if not measured:
            window = f" in the last {lookback.days} days" if lookback is not None else ""
            by_window.setdefault(f"not measured{window}", []).append(word)
    parts = [", ".join(flags)] if flags else []
    parts += [f"{words}: {', '.join(names)}" for words, names in by_window.items()]
    return "Not recorded: " + "; ".join(parts) if parts else None


__all__ = ["DASH", "CardWriter"]
