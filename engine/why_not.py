"""Why a rule did not fire, from the facts its session saw.

A rule's condition (the scope gate included) is put in disjunctive normal form, as the
compiler does, and each literal is evaluated against the same facts durable_rules was given:
the concept facts with their measures, the findings derived and the suggestions made. Each
alternative is read in order to its first literal that failed; the failure is put in words,
with by how much a comparison missed and, for windows and trends, the values they held.
Nothing is computed again: the numbers are the facts' own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import units
from .clock import Duration, calendar_date, zone_of
from .compiler import (
    SCOPE_FINDING,
    SCOPE_RULE,
    FactTest,
    effective_rules,
    fact_test,
)
from .conditions import (
    Atom,
    BelowReference,
    Compare,
    FindingRef,
    Limit,
    NoSuggestion,
    Presence,
    ResultTest,
    Streak,
    Trend,
    to_dnf,
)
from .evaluation import Evaluation, Finding
from .explanation import number
from .levels import ladder
from .measures import SCALE, Context
from .measures.readings import in_window, present_in, valued
from .measures.trends import comparators
from .model import Rule, Ruleset
from .records import Quantity
from .results import Thresholds, current_results
from .summary import Reading, Summary

_OP_WORDS = {
    "<": "below",
    "<=": "at or below",
    ">": "above",
    ">=": "at or above",
    "=": "equal to",
}
_LISTED = 8  # values listed for a window before "and N more"


@dataclass(frozen=True)
class SessionFacts:
    """What one evaluation's durable_rules session saw: the summaries, the concept facts it
    was given (by concept), the findings derived, the levels suggested and the rules fired.
    `concepts`: the concepts the ruleset's rules read."""

    ruleset: Ruleset
    as_of: datetime
    summaries: Mapping[str, Summary]
    facts: Mapping[str, dict[str, Any]]
    derived: Mapping[str, Finding]
    suggested: tuple[str, ...]
    fired: frozenset[str]
    concepts: frozenset[str]
    thresholds: Thresholds | None = None


@dataclass(frozen=True)
class Examined:
    """An evaluation and the facts its session saw."""

    evaluation: Evaluation
    session: SessionFacts


@dataclass(frozen=True, slots=True)
class Check:
    """One literal of a rule's condition evaluated: `condition` as written (with `not` when
    negated), whether it `holds`, `words` saying what the facts show, the resources behind
    them, and for a window or a trend the values it held (`values`, in words)."""

    condition: str
    holds: bool
    words: str
    sources: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    recorded: bool = False  # the concept it reads has records (its failure says more)


@dataclass(frozen=True, slots=True)
class Miss:
    """A rule that did not fire, by its alternative closest to firing: `checks` are that
    alternative's literals in order, `failing` how many of them failed (at least one)."""

    rule: str
    title: str
    checks: tuple[Check, ...]
    failing: int
    alternatives: int

    @property
    def failed(self) -> Check:
        """The first literal that failed."""
        return next(c for c in self.checks if not c.holds)

    @property
    def held(self) -> int:
        return sum(c.holds for c in self.checks)


def why_not(session: SessionFacts) -> list[Miss]:
    """Every rule of the ruleset that did not fire, in the ruleset's order, with its
    alternative closest to firing (fewest literals failed, then most held, then one whose
    first failure reads a concept the patient has records of, then the first)."""
    judge = _Judge(session)
    misses: list[Miss] = []
    for rule, branches in plan(session.ruleset):
        if rule.id in session.fired or rule.id == SCOPE_RULE:
            continue
        best: tuple[Check, ...] | None = None
        best_rank: tuple[int, int, int] = (0, 0, 0)
        for branch in branches:
            checks = tuple(judge.check(atom, negated, test) for atom, negated, test in branch)
            failing = sum(not c.holds for c in checks)
            if not failing:
                continue
            first = next(c for c in checks if not c.holds)
            rank = (failing, -(len(checks) - failing), 0 if first.recorded else 1)
            if best is None or rank < best_rank:
                best, best_rank = checks, rank
        best_failing = best_rank[0]
        if best is None:  # every alternative holds on the facts, yet it did not fire
            best = (Check(_written(rule.when), False, "held on the facts, but did not fire"),)
            best_failing = 1
        misses.append(Miss(rule.id, rule.title, best, best_failing, len(branches)))
    return misses


Planned = tuple[Atom, bool, FactTest | None]
_PLANS: dict[str, tuple[Ruleset, tuple[tuple[Rule, tuple[tuple[Planned, ...], ...]], ...]]] = {}


def plan(ruleset: Ruleset) -> tuple[tuple[Rule, tuple[tuple[Planned, ...], ...]], ...]:
    """Each rule (gated by the scope) with its alternatives' literals and the fact test each
    concept literal compiles to: worked out once per ruleset, read for every patient."""
    cached = _PLANS.get(ruleset.key)
    if cached is not None and (cached[0] is ruleset or cached[0] == ruleset):
        return cached[1]
    planned = tuple(
        (
            rule,
            tuple(
                tuple(
                    (
                        atom,
                        negated,
                        None
                        if isinstance(atom, FindingRef | NoSuggestion)
                        else fact_test(atom, ruleset),
                    )
                    for atom, negated in branch
                )
                for branch in to_dnf(rule.when)
            ),
        )
        for rule in effective_rules(ruleset)
    )
    _PLANS[ruleset.key] = (ruleset, planned)
    return planned


def _written(condition: object) -> str:
    return str(getattr(condition, "text", "its condition"))


def value_words(summary: Summary, reading: Reading) -> str:
    """A reading's value in its concept's unit, after the value as reported when its unit or
    number differs: `4.1 mEq/L (4.1 mmol/L)`."""
    unit = summary.concept.unit
    if reading.value is None:
        return "present" if reading.record.present else "absent"
    canonical = f"{number(reading.value)}{_unit(unit)}"
    raw = reading.record.value
    if isinstance(raw, Quantity) and (
        raw.unit != unit or number(raw.value) != number(reading.value)
    ):
        return f"{number(raw.value)}{_unit(raw.unit)} ({canonical})"
    return canonical


def reading_words(summary: Summary, reading: Reading, zone: str) -> str:
    """A reading with its value, date and source: `2.6 mmol/L on 2026-02-27 (Observation/a)`."""
    time = reading.record.time
    when = ""
    if time is not None:
        when = f" on {calendar_date(time, zone_of(zone), reading.record.date_only).isoformat()}"
    return f"{value_words(summary, reading)}{when} ({reading.record.source})"


def _unit(unit: str | None) -> str:
    return f" {units.display(unit)}" if unit else ""


class _Judge:
    """Evaluates literals against one session's facts."""

    def __init__(self, session: SessionFacts) -> None:
        self.session = session
        self.ruleset = session.ruleset
        self.levels = ladder(session.ruleset)
        self.zone = session.ruleset.time_zone
        self.context = Context(
            session.ruleset, session.summaries, session.as_of, thresholds=session.thresholds
        )

    def check(self, atom: Atom, negated: bool, test: FactTest | None = None) -> Check:
        written = f"not {atom.text}" if negated else atom.text
        if isinstance(atom, FindingRef):
            return self._finding(atom, negated, written)
        if isinstance(atom, NoSuggestion):
            return self._no_suggestion(atom, negated, written)
        if test is None:
            test = fact_test(atom, self.ruleset)
        fact = self.session.facts.get(atom.concept)
        holds = test.holds(fact) != negated
        summary = self.session.summaries.get(atom.concept)
        words, sources = self._words(atom, test, fact, summary, holds, negated)
        values = self._values(atom, test, summary) if not holds else ()
        return Check(written, holds, words, sources, values, summary is not None)

    # -- findings and suggestions ---------------------------------------------------------------

    def _finding(self, atom: FindingRef, negated: bool, written: str) -> Check:
        found = self.session.derived.get(atom.name)
        holds = (found is not None) != negated
        if atom.name == SCOPE_FINDING:
            words = "in the ruleset's scope" if found else "not in the ruleset's scope"
            return Check("in scope", holds, words, found.evidence if found else ())
        if found is None:
            return Check(written, holds, f"finding `{atom.name}` was not derived")
        words = f"finding `{atom.name}` was derived by rule `{found.rule}`"
        return Check(written, holds, words, found.evidence)

    def _no_suggestion(self, atom: NoSuggestion, negated: bool, written: str) -> Check:
        floor = self.levels.rank(atom.level) if atom.level else 1
        made = [s for s in self.session.suggested if self.levels.rank(s) >= floor]
        holds = (not made) != negated
        if made:
            words = f"a rule suggested {', '.join(dict.fromkeys(made))}"
        else:
            above = f" at or above {atom.level}" if atom.level else ""
            words = f"no rule made a suggestion{above}"
        return Check(written, holds, words)

    # -- concepts ---------------------------------------------------------------------------------

    def _words(
        self,
        atom: Atom,
        test: FactTest,
        fact: dict[str, Any] | None,
        summary: Summary | None,
        holds: bool,
        negated: bool,
    ) -> tuple[str, tuple[str, ...]]:
        assert not isinstance(atom, FindingRef | NoSuggestion)
        name = atom.concept.replace("_", " ")
        if test.measure is not None:
            measured = summary.measured.get(test.key) if summary is not None else None
            sources = tuple(dict.fromkeys(r.record.source for r in measured[1])) if measured else ()
            if measured is None:
                if summary is None:
                    return f"no {name} recorded", ()
                if isinstance(atom, ResultTest) and not negated:
                    return self._result_test(atom, summary)
                if test.measure.rounding is None:
                    return f"`{atom.text}` does not hold", ()
                return f"no {name} value for `{atom.text}`", ()
            if test.measure.rounding is None:
                return f"{name}: {measured[0]}", sources
            value = _number_of(fact, test)
            if value is None or holds != negated:
                return f"{name} {measured[0]}", sources
            return (
                f"{name} {measured[0]} is not {_OP_WORDS[test.op]} "
                f"{_threshold(test, self._unit_of(atom))}{_by(value, test, self._unit_of(atom))}",
                sources,
            )
        if summary is None or not summary.is_current:
            lookback = summary.concept.lookback if summary is not None else None
            concept = self.ruleset.concepts.get(atom.concept)
            lookback = concept.lookback if concept is not None else lookback
            within = f" within its lookback of {lookback.days} days" if lookback else ""
            return f"no {name} recorded{within}", ()
        if isinstance(atom, Presence):
            return self._presence(atom, summary, name)
        if isinstance(atom, BelowReference):
            latest = summary.latest
            if latest is None:
                return f"no {name} value", ()
            below = "below" if summary.below_reference else "not below"
            said = reading_words(summary, latest, self.zone)
            return (
                f"{name} {said} is {below} its reference range",
                (latest.record.source,),
            )
        assert isinstance(atom, Compare)
        return self._compare(atom, test, fact, summary, name, holds, negated)

    def _result_test(self, atom: ResultTest, summary: Summary) -> tuple[str, tuple[str, ...]]:
        """Why no current result met a result test: the latest against the first clause it
        does not meet, by how much for a threshold."""
        readings = current_results(summary)
        name = atom.concept.replace("_", " ")
        if not readings:
            return f"no current {name} result", ()
        reading = readings[-1]
        concept = summary.concept
        said = f"{name} {reading_words(summary, reading, self.zone)}"
        for clause in atom.clauses:
            if self.context.judge.meets(reading, concept, clause) is not None:
                continue
            limit = clause if isinstance(clause, Limit) else getattr(concept, clause)
            label = f"`{clause}` " if isinstance(clause, str) else ""
            if limit is None:
                return f"{said}: {concept.name} defines no `{clause}`", (reading.record.source,)
            missed: list[str] = []
            if limit.op is not None and limit.threshold is not None and reading.value is not None:
                threshold = self.context.judge.threshold(concept.name, limit.op, limit.threshold)
                value = Decimal(repr(reading.value))
                gap = value - threshold
                side = "exactly at it" if gap == 0 else ("above" if gap > 0 else "below")
                amount = "" if gap == 0 else f"{number(float(abs(gap)))}{_unit(concept.unit)} "
                missed.append(
                    f"not {_OP_WORDS[limit.op]} {number(float(threshold))}{_unit(concept.unit)}"
                    f" ({amount}{side})"
                )
            if limit.reference is not None:
                missed.append(f"not {limit.reference} its reference range")
            return f"{said} is {label}{' or '.join(missed)}", (reading.record.source,)
        return f"{said} meets `{atom.text}`", (reading.record.source,)

    def _presence(self, atom: Presence, summary: Summary, name: str) -> tuple[str, tuple[str, ...]]:
        present = tuple(dict.fromkeys(r.record.source for r in summary.present))
        absent = tuple(dict.fromkeys(r.record.source for r in summary.absent))
        if atom.site:
            at = [r.record.source for r in summary.present if r.site == atom.site]
            if at:
                return f"{name} present at {atom.site}", tuple(dict.fromkeys(at))
            sites = ", ".join(sorted(summary.sites)) or "no site recorded"
            return f"{name} not recorded at {atom.site} (sites: {sites})", present
        if summary.is_present:
            return f"{name} present", present
        if summary.is_absent:
            return f"{name} recorded absent", absent
        return f"{name} not recorded", ()

    def _compare(
        self,
        atom: Compare,
        test: FactTest,
        fact: dict[str, Any] | None,
        summary: Summary,
        name: str,
        holds: bool,
        negated: bool,
    ) -> tuple[str, tuple[str, ...]]:
        unit = self._unit_of(atom)
        value = _number_of(fact, test)
        if atom.attribute in ("latest", "lowest", "highest"):
            reading: Reading | None = getattr(summary, atom.attribute)
            if reading is None or value is None:
                return f"no {name} value recorded", ()
            label = "" if atom.attribute == "latest" else f" {atom.attribute}"
            said = f"{name}{label} {reading_words(summary, reading, self.zone)}"
            sources: tuple[str, ...] = (reading.record.source,)
        else:
            if value is None:
                return f"no {name} {atom.attribute}", ()
            said = f"{name} {atom.attribute} {number(float(value))}{unit}"
            sources = tuple(dict.fromkeys(r.record.source for r in summary.present))
        if holds != negated:
            return said, sources
        return (
            f"{said} is not {_OP_WORDS[test.op]} {_threshold(test, unit)}{_by(value, test, unit)}",
            sources,
        )

    def _unit_of(self, atom: Atom) -> str:
        """The unit a comparison's numbers are in, after a space ("" for a plain number)."""
        if isinstance(atom, Trend):
            if atom.measure.startswith("ratio"):
                return ""
            if atom.measure == "percent-change":
                return "%"
        concept = self.ruleset.concepts.get(getattr(atom, "concept", ""))
        if isinstance(atom, Compare):
            if atom.attribute in ("count", "sites", "regions"):
                return ""
            if atom.attribute == "span":
                return " days"
            if concept is not None and concept.field == "age":
                return " years"
        if concept is None:
            return ""
        return _unit(concept.unit)

    # -- the values a window or a trend held -------------------------------------------------------

    def _values(self, atom: Atom, test: FactTest, summary: Summary | None) -> tuple[str, ...]:
        """For a windowed or trend atom that failed, the values it read, in words."""
        measure = test.measure
        if measure is None or summary is None:
            return ()
        resolved = measure.atom
        window = getattr(resolved, "window", None)
        name = summary.concept.name.replace("_", " ")
        if window is not None:
            where = window.text
            if window.length is not None and str(window.length) not in where:
                where = f"{where} ({window.length})"
            interval = self.context.interval(window)
            if interval is None:
                anchor = (window.anchor or "").replace("_", " ")
                return (f"{where}: no {anchor} to count the window from",)
            readings = in_window(valued(summary, interval), interval, self.context.zone)
            if summary.concept.unit is None:
                readings = in_window(present_in(summary, interval), interval, self.context.zone)
            if not readings:
                return (f"{where}: no {name}",)
            return (f"{where}: {self._listed(summary, readings)}",)
        if isinstance(resolved, Streak):
            count = resolved.count if resolved.lasting is None else len(summary.ordered)
            last = summary.ordered[-count:]
            if not last:
                return (f"no current {name}",)
            return (f"current results: {self._listed(summary, last)}",)
        if isinstance(resolved, Trend) and resolved.measure != "percent-change":
            latest = summary.latest
            if latest is None or latest.record.time is None:
                return (f"no current {name}",)
            found = comparators(
                resolved.over, resolved.gap, latest, summary, self.context, resolved.across_codes
            )
            said = [f"latest {reading_words(summary, latest, self.zone)}"]
            span = _span_words(resolved)
            if found:
                said.append(f"earlier {span}: {self._listed(summary, found)}")
            else:
                said.append(f"no earlier {name} {span}")
            return tuple(said)
        current = summary.ordered or [*summary.present, *summary.absent]
        if current and not isinstance(resolved, Trend | ResultTest):
            return (f"current results: {self._listed(summary, current)}",)
        return ()

    def _listed(self, summary: Summary, readings: list[Reading]) -> str:
        shown = [reading_words(summary, r, self.zone) for r in readings[-_LISTED:]]
        more = len(readings) - len(shown)
        return "; ".join(shown) + (f"; and {more} earlier" if more else "")


def _span_words(atom: Trend) -> str:
    """` 1 to 12 hours before it`, as `trends` writes a range."""
    over, gap = atom.over, atom.gap
    if over is None:
        return "before it"
    if not isinstance(over, Duration) or not isinstance(gap, Duration) or not gap.amount:
        return f"within {over} before it"
    start = str(gap.amount) if gap.unit == over.unit else str(gap)
    return f"{start} to {over} before it"


def _number_of(fact: dict[str, Any] | None, test: FactTest) -> Decimal | None:
    value = None if fact is None else fact.get(test.key)
    if not isinstance(value, int):
        return None
    return Decimal(value) / SCALE if _scaled(test) else Decimal(value)


def _scaled(test: FactTest) -> bool:
    return test.measure is not None or test.key in ("latest", "lowest", "highest", "span")


def _threshold(test: FactTest, unit: str) -> str:
    amount = Decimal(test.number) / SCALE if _scaled(test) else Decimal(test.number)
    return f"{number(float(amount))}{unit}"


def _by(value: Decimal, test: FactTest, unit: str) -> str:
    """` (0.1 mmol/L above)`: how far a value that failed its comparison is from the line."""
    threshold = Decimal(test.number) / SCALE if _scaled(test) else Decimal(test.number)
    difference = value - threshold
    if difference == 0:
        return " (exactly at it)"
    side = "above" if difference > 0 else "below"
    return f" ({number(float(abs(difference)))}{unit} {side})"
