"""Evaluate a patient's records against a ruleset: summaries in, an explained Evaluation out."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

from . import runtime, units
from .card_text import CardWriter
from .clock import calendar_date, zone_of
from .compiler import SCOPE_FINDING, Compiled, CompileError, Pattern, compile_ruleset
from .conditions import SUPPRESSED, NotRechecked, suppressed_rule
from .do_now import do_now
from .errors import Problem, RulesetError
from .evaluation import (
    DataWarning,
    Evaluation,
    Finding,
    Firing,
    Matched,
    RedFlagCheck,
    RulesetIdentity,
    ShownNote,
    Suggestion,
)
from .evidence import supersede, with_scores
from .explanation import describe, describe_reading, reason
from .facts import concept_fact
from .inputs import as_of_or_now, check_records
from .levels import Ladder, check_levels, ladder
from .measures import Context
from .model import Rule, Ruleset
from .note_text import lines
from .notes import hidden_rules as note_rules
from .notes import shown as shown_notes
from .proposals import hidden_finding, hidden_rules, is_hidden, propose, rule_proposals
from .records import Record
from .red_flags import flag_checks, flag_rules
from .regions import latest_sides, region_count, share_a_region, side_words
from .results import NOT_RECHECKED_SINCE, Thresholds, reads_one_result
from .summary import Reading, Summary, latest_present_date, summarise
from .why_not import Examined, SessionFacts

# `{potassium}`, `{severe_potassium}`, `{weakness date}`, `{leg_swelling side}`
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)( date| side| regions| span| old)?\}")


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A ruleset compiled, with what every evaluation of it reads, worked out once: an
    Evaluator is made for every Bundle and every CDS Hooks call."""

    compiled: Compiled
    actions: dict[str, _Action]
    cards: CardWriter
    thresholds: Thresholds  # filled in as evaluations resolve them
    rule_order: dict[str, int]
    history: frozenset[str]  # concepts whose full history summaries keep


# by key, with the ruleset prepared: a Ruleset built by hand may reuse another's key
_COMPILED: dict[str, tuple[Ruleset, _Prepared]] = {}
_COMPILING = threading.Lock()
# a child forked while another thread compiles would inherit the lock held, for ever
os.register_at_fork(
    before=_COMPILING.acquire,
    after_in_parent=_COMPILING.release,
    after_in_child=_COMPILING.release,
)


def _prepared(ruleset: Ruleset, levels: Ladder) -> _Prepared:
    """The ruleset checked, compiled and prepared, once for each ruleset (and any equal to
    it): an Evaluator is made for every Bundle and every CDS Hooks call."""
    with _COMPILING:
        cached = _COMPILED.get(ruleset.key)
        if cached is not None and (cached[0] is ruleset or cached[0] == ruleset):
            return cached[1]
        check_levels(ruleset, levels)  # first: the compiler ranks the levels rules name
        # proposals' `if:`/`already:` conditions run as derive-only rules in durable_rules
        hidden = hidden_rules(ruleset) + note_rules(ruleset) + flag_rules(ruleset)
        try:
            compiled = compile_ruleset(
                replace(ruleset, rules=ruleset.rules + hidden) if hidden else ruleset
            )
        except CompileError as error:
            # a Ruleset built by hand skips the loader, which reports this at the rule's line
            where = str(ruleset.source or ruleset.key)
            raise RulesetError([Problem(where, 0, 0, f"rule {error.rule}: {error}")]) from None
        # medicines whose latest start a proposal's due date counts from: their full history
        proposals = [p for r in ruleset.rules for p in r.then.proposals]
        proposals += [p for level in levels.levels for p in level.proposals]
        starts = frozenset(p.due_after for p in proposals if p.due_after)
        thresholds: Thresholds = {}
        prepared = _Prepared(
            compiled,
            _actions(compiled),
            CardWriter(ruleset, levels, compiled.measures, thresholds),
            thresholds,
            {rule.id: n for n, rule in enumerate(ruleset.rules)},
            compiled.history | starts,
        )
        _COMPILED[ruleset.key] = (ruleset, prepared)
        return prepared


class Evaluator:
    """Evaluates patients against one ruleset. Reusable and safe to share between threads:
    durable_rules runs behind a process-wide lock, so threads take turns; use processes for
    throughput."""

    def __init__(self, ruleset: Ruleset | str | Path) -> None:
        if not isinstance(ruleset, Ruleset):
            from .registry import load_ruleset

            ruleset = load_ruleset(ruleset)
        self.ruleset = ruleset
        self._levels = ladder(ruleset)
        prepared = _prepared(ruleset, self._levels)
        self._compiled = prepared.compiled
        self._rule_order = prepared.rule_order
        self._history = prepared.history
        self._identity = RulesetIdentity(
            ruleset.id, ruleset.version, ruleset.content_hash, ruleset.title
        )
        self._thresholds = prepared.thresholds
        self._cards = prepared.cards
        self._actions = prepared.actions

    def evaluate(
        self, facts: Iterable[Record], as_of: datetime | None = None, *, now: datetime | None = None
    ) -> Evaluation:
        """Evaluate one patient's records as they stood at `as_of` (default: now, UTC; a record
        dated after now is then left out with a warning). `now` is the caller's reading of the
        clock for that default, so that every patient of a batch is evaluated at one time."""
        with runtime.EVALUATIONS:  # no fork while this runs: see `forking`
            return self._evaluate(facts, as_of, now)[0]

    def examine(
        self, facts: Iterable[Record], as_of: datetime | None = None, *, now: datetime | None = None
    ) -> Examined:
        """`evaluate`, with what its session saw kept for explaining it (`why_not`): the one
        evaluation that fired the rules, not a second computation."""
        with runtime.EVALUATIONS:
            evaluation, run = self._evaluate(facts, as_of, now)
        seen = SessionFacts(
            ruleset=self.ruleset,
            as_of=evaluation.as_of,
            summaries=run.summaries,
            facts={fact["c"]: fact for fact in run.posted},
            derived={name: f for name, f in run.derived.items() if not is_hidden(name)},
            suggested=tuple(s.level for s in evaluation.suggestions),
            fired=frozenset(run.fired),
            concepts=self._compiled.concepts | self._history,
            thresholds=self._thresholds,
        )
        return Examined(evaluation, seen)

    def _evaluate(
        self, facts: Iterable[Record], as_of: datetime | None, now: datetime | None
    ) -> tuple[Evaluation, _Run]:
        when = as_of_or_now(as_of, now)
        records = check_records(facts, self.ruleset)
        summaries, warnings = summarise(
            with_scores(records, self.ruleset),
            self.ruleset,
            when,
            as_of_is_now=as_of is None,
            history=self._history,
        )
        summaries = supersede(summaries, self.ruleset, share_a_region)
        run = _Run(
            self.ruleset,
            self._compiled,
            summaries,
            when,
            self._levels,
            self._actions,
            self._thresholds,
        )
        runtime.run_session(self._compiled, run.facts(warnings), run.fire)
        fired = run.suggestions()
        # information rules are at the first level, the default: they never raise the escalation
        escalation = self._levels.highest(s.level for s in fired)
        starts = Context(self.ruleset, summaries, when, thresholds=self._thresholds)
        suggestions, proposals = propose(
            fired,
            escalation,
            self.ruleset.hit_policy,
            when,
            zone=self.ruleset.time_zone,
            records=records,
            derived={name: f.evidence for name, f in run.derived.items()},
            start_of=starts.anchor,
            fill=run.fill_note,
            rule_order=self._rule_order,
        )
        line = do_now(
            self.ruleset,
            suggestions,
            proposals,
            escalation,
            run.fill_text,
            run.derived.keys(),
            self._rule_order,
        )
        notes = shown_notes(
            self.ruleset,
            escalation,
            {rule for rule in run.fired if not is_hidden(rule)},
            run.derived.keys(),
            # "no suggestion [at or above L]", read here rather than staged in durable_rules
            lambda level: (
                bool(fired)
                and (level is None or self._levels.rank(escalation) >= self._levels.rank(level))
            ),
            lambda text: lines(text, starts, lambda line: run.fill_note(line, None)),
        )
        flags = run.red_flags()
        shown = tuple(ShownNote(id, text) for id, text in notes)
        card = self._cards.card_text(
            escalation, suggestions, line, flags, shown, summaries, run.fill_text
        )
        evaluation = Evaluation(
            ruleset=self._identity,
            as_of=when,
            escalation=escalation,
            suggestions=suggestions,
            findings=tuple(
                f for f in run.derived.values() if f.name != SCOPE_FINDING and not is_hidden(f.name)
            ),
            trace=tuple(run.trace),
            warnings=tuple(warnings),
            red_flags=flags,
            levels=self._levels.levels,
            proposals=proposals,
            do_now=line,
            notes=shown,
            card=card,
        )
        return evaluation, run


@dataclass(frozen=True, slots=True)
class _Action:
    """What firing one compiled action reads: its rule, whether the rule is hidden, and the
    patterns whose matched facts explain it (the scope finding never does)."""

    rule: Rule
    hidden: bool
    patterns: tuple[tuple[str, Pattern], ...]


def _actions(compiled: Compiled) -> dict[str, _Action]:
    return {
        action: _Action(
            branch.rule,
            is_hidden(branch.rule.id),
            tuple((n, p) for n, p in branch.patterns.items() if p.name != SCOPE_FINDING),
        )
        for action, branch in compiled.branches.items()
    }


@dataclass(frozen=True, slots=True)
class _Pending:
    order: int
    rule: Rule
    matched: tuple[Matched, ...]
    evidence: tuple[str, ...]


class _Run:
    """The state of one evaluation while durable_rules fires its rules."""

    def __init__(
        self,
        ruleset: Ruleset,
        compiled: Compiled,
        summaries: dict[str, Summary],
        as_of: datetime,
        levels: Ladder,
        actions: dict[str, _Action],
        thresholds: Thresholds,
    ) -> None:
        self.ruleset = ruleset
        self.actions = actions
        self.thresholds = thresholds
        self.as_of = as_of
        self.levels = levels
        self.compiled = compiled
        self.summaries = summaries
        self.fired: set[str] = set()
        self.trace: list[Firing] = []
        self.derived: dict[str, Finding] = {}
        self.pending: list[_Pending] = []
        self._shown_by_rule: dict[str, dict[str, Reading]] = {}
        self._matches: dict[Pattern, Matched] = {}
        self._context: Context | None = None
        self.posted: list[dict[str, Any]] = []  # the concept facts the session was given

    # -- facts in ---------------------------------------------------------------------------

    def facts(self, warnings: list[DataWarning]) -> list[dict[str, Any]]:
        tested = self.compiled.attributes
        measures = self.compiled.measures
        context = (
            Context(self.ruleset, self.summaries, self.as_of, warnings, self.thresholds)
            if measures
            else None
        )
        self.posted = [
            concept_fact(self.summaries[name], tested[name], warnings, context, measures)
            for name in sorted(self.compiled.concepts & self.summaries.keys())
        ]
        return self.posted

    # -- firing ------------------------------------------------------------------------------

    def fire(
        self, action: str, matched: dict[str, Any], emit: Callable[[dict[str, Any]], None]
    ) -> None:
        known = self.actions[action]
        rule = known.rule
        if rule.id in self.fired:
            return  # another branch of the same rule fired first
        self.fired.add(rule.id)
        if known.hidden:  # a proposal's condition: read by the hit policy, not traced
            assert rule.then.derive is not None
            sources = (
                self._matched(pattern).sources
                for name, pattern in known.patterns
                if name in matched
            )
            evidence = tuple(dict.fromkeys(s for group in sources for s in group))
            self.derived[rule.then.derive] = Finding(rule.then.derive, rule.id, evidence)
            return
        facts = tuple(self._matched(pattern) for name, pattern in known.patterns if name in matched)
        evidence = tuple(dict.fromkeys(s for m in facts for s in m.sources))
        then = rule.then
        order = len(self.trace) + 1
        self.trace.append(Firing(order, rule.id, rule.title, facts, then.derive, then.suggest))
        if then.suggest:
            self.pending.append(_Pending(order, rule, facts, evidence))
            if self.compiled.reads_suggestions:
                emit({"t": "s", "rank": self.levels.rank(then.suggest)})
        if then.derive and then.derive not in self.derived:
            self.derived[then.derive] = Finding(then.derive, rule.id, evidence)
            if then.derive in self.compiled.findings:
                emit({"t": "f", "f": then.derive})

    def _matched(self, pattern: Pattern) -> Matched:
        known = self._matches.get(pattern)
        if known is None:
            known = self._matches[pattern] = self._describe_match(pattern)
        return known

    def _describe_match(self, pattern: Pattern) -> Matched:
        if pattern.kind == "finding":
            finding = self.derived[pattern.name]
            return Matched(
                "finding", pattern.name, (("derived by", finding.rule),), finding.evidence
            )
        summary = self.summaries[pattern.name]
        values: list[tuple[str, str]] = []
        sources: list[str] = []
        for attribute in pattern.attributes:
            value, readings = describe(summary, attribute)
            values.append((attribute, value))
            sources += [r.record.source for r in readings]
        return Matched("concept", pattern.name, tuple(values), tuple(dict.fromkeys(sources)))

    # -- results out -------------------------------------------------------------------------

    def suggestions(self) -> tuple[Suggestion, ...]:
        """Every fired suggesting rule, highest level first, then in firing order."""
        made = [self._suggestion(p) for p in self.pending]
        ordered = sorted(
            zip(made, self.pending, strict=True),
            key=lambda pair: (-self.levels.rank(pair[0].level), pair[1].order),
        )
        return tuple(s for s, _ in ordered)

    def _suggestion(self, pending: _Pending) -> Suggestion:
        then = pending.rule.then
        assert then.suggest is not None and then.summary is not None
        shown = self._shown(pending)
        self._shown_by_rule[pending.rule.id] = shown
        among = pending.evidence
        detail = self._fill(then.detail or "", shown=shown, among=among).strip()
        reasons = "\n".join(reason(m) for m in pending.matched)
        body = f"{detail}\n\n**Why:**\n\n{reasons}" if detail else f"**Why:**\n\n{reasons}"
        advice = tuple(
            self._fill(a.text, shown=shown, among=among).strip()
            for a in then.advice
            if a.finding is None or a.finding in self.derived
        )
        return Suggestion(
            rule=pending.rule.id,
            level=then.suggest,
            summary=self._fill(
                self._summary(pending.rule), reported=False, shown=shown, among=among
            ),
            detail=body,
            evidence=pending.evidence,
            citations=tuple(self.ruleset.citations[c] for c in then.cite),
            referral=then.referral,
            advice=advice,
            proposals=rule_proposals(
                then,
                self.levels.level(then.suggest),
                first=self.levels.is_first(then.suggest),
            ),
        )

    def _summary(self, rule: Rule) -> str:
        """The rule's summary: its first variant whose condition held, else its last."""
        assert rule.then.summary is not None
        for n, variant in enumerate(rule.then.summaries):
            if variant.when is None or hidden_finding("summary", rule.id, n) in self.derived:
                return variant.text
        return rule.then.summary

    def fill_text(self, text: str) -> str:
        """A rule's text (its instruction) with its placeholders filled in."""
        return self._fill(text)

    def _shown(self, pending: _Pending) -> dict[str, Reading]:
        """Per concept, the one result a rule's test of single results matched (of tied
        results, the one most in its favour; an old result not rechecked): its `{concept}`
        placeholder shows that result rather than the latest."""
        shown: dict[str, Reading] = {}
        for matched in pending.matched:
            if matched.kind != "concept":
                continue
            summary = self.summaries[matched.name]
            for attribute, _ in matched.values:
                if attribute == "below_ref" and summary.below_reading is not None:
                    shown.setdefault(matched.name, summary.below_reading)
                    continue
                measure = self.compiled.measures.get(attribute)
                found = summary.measured.get(attribute)
                if measure is None or found is None or not reads_one_result(measure.atom):
                    continue
                if len(found[1]) == 1 and found[1][0].value is not None:
                    shown.setdefault(matched.name, found[1][0])
        return shown

    def fill_note(self, text: str, group: str | None, rule: str | None = None) -> str:
        """A proposal's note filled in; a medication placeholder names `group` when the order
        is that drug group's review, else every active group; a concept the proposing `rule`
        tested one result of shows that result (an old one with its date)."""
        shown = self._shown_by_rule.get(rule or "")
        return self._fill(text, group=group, shown=shown)

    def _fill(
        self,
        text: str,
        *,
        reported: bool = True,
        group: str | None = None,
        shown: dict[str, Reading] | None = None,
        among: tuple[str, ...] = (),
    ) -> str:
        """`text` with {concept} and {parameter} placeholders filled in; a medication concept
        names its active drug groups; a concept in `shown` that result (with its date when it
        is no longer current); `{concept date}` the date of its latest record saying present,
        among the rule's evidence (`among`) when any is; `{concept side}` its latest side."""
        if "{" not in text:
            return text

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if match.group(2) == " side":  # `{leg_swelling side}`: the latest known side
                found = self.summaries.get(name)
                present = [r.record for r in found.present] if found is not None else []
                return side_words(latest_sides(present, self.ruleset))
            if match.group(2) == " old":  # `{potassium old}`: its old value not rechecked
                return self._old(name)
            if match.group(2) in (" regions", " span"):
                return self._counted(name, match.group(2).strip())
            if match.group(2) == " date":
                found = self.summaries.get(name)
                zone = self.ruleset.time_zone
                when = latest_present_date(found, zone, among) if found is not None else None
                return when.isoformat() if when is not None else "date not recorded"
            parameter = self.ruleset.parameters.get(name)
            if parameter is not None:
                return units.display(parameter.text)
            if name in self.ruleset.dates:
                context = self._anchors()
                dated = context.dated_by(name)
                time = dated.record.time if dated is not None else None
                if dated is None or time is None:
                    return "not recorded"
                return calendar_date(time, context.zone, dated.record.date_only).isoformat()
            summary = self.summaries.get(name)
            if summary is not None and summary.concept.kind == "medication":
                return self._drugs(summary, group)
            if name in self.ruleset.concepts and self.ruleset.concepts[name].kind == "medication":
                return "none active"
            if summary is not None and shown and name in shown:
                return self._result(summary, shown[name], reported)
            if name in self.ruleset.word_lists:
                return self._listed(name)
            if name == SUPPRESSED and summary is None:
                return self._suppressed()
            if summary is None or summary.latest is None:
                return "not recorded"
            return describe(summary, "latest", reported=reported)[0]

        return _PLACEHOLDER.sub(value, text)

    def _old(self, name: str) -> str:
        """`{concept old}`: "last potassium 3.10 mmol/L on 2025-03-01 was low", the old value a
        `not rechecked` condition on the concept found ("not recorded" when none did)."""
        summary = self.summaries.get(name)
        if summary is not None:
            for key, measure in self.compiled.measures.items():
                if isinstance(measure.atom, NotRechecked) and measure.atom.concept == name:
                    found = summary.measured.get(key)
                    if found is not None:
                        return found[0].removesuffix(NOT_RECHECKED_SINCE)
        return "not recorded"

    def _counted(self, name: str, part: str) -> str:
        """`{concept regions}`: the body regions its present records span; `{concept span}`:
        the whole days (floor) from its first to its latest present record."""
        found = self.summaries.get(name)
        present = [r.record for r in found.present] if found is not None else []
        if part == "regions":
            return str(region_count(present, self.ruleset))
        if found is None or not present:
            return "0"
        days = Decimal(repr(found.span_days)).quantize(Decimal(1), rounding=ROUND_FLOOR)
        return f"{days:f}"

    def _listed(self, name: str) -> str:
        """A word list: the words of those of its concepts and derived findings present."""
        listed = self.ruleset.word_lists[name]
        said = [
            words
            for item, words in listed.words
            if item in self.derived
            or ((found := self.summaries.get(item)) is not None and found.is_present)
        ]
        return listed.join.join(said) or "none"

    def _result(self, summary: Summary, reading: Reading, reported: bool) -> str:
        words = describe_reading(summary, reading, reported=reported)
        time = reading.record.time
        if reading in summary.valued or reading in summary.preliminary or time is None:
            return words
        zone = zone_of(self.ruleset.time_zone)
        return f"{words} on {calendar_date(time, zone, reading.record.date_only).isoformat()}"

    def _anchors(self) -> Context:
        if self._context is None:
            self._context = Context(
                self.ruleset, self.summaries, self.as_of, thresholds=self.thresholds
            )
        return self._context

    def _suppressed(self) -> str:
        """The rules suppressed in this evaluation, by id (`{suppressed}` in a text)."""
        rules = [r for name in self.derived if (r := suppressed_rule(name)) is not None]
        return ", ".join(sorted(rules)) or "none"

    def _drugs(self, summary: Summary, group: str | None) -> str:
        """The active drug groups of a medication concept (only `group` when it is one), each
        named by its records' coding display, else its code: never matched on, only shown."""
        if self._context is None:
            self._context = Context(
                self.ruleset, self.summaries, self.as_of, thresholds=self.thresholds
            )
        names: dict[str, str] = {}
        for records, _ in self._context.groups(summary):
            key = records[0].code or records[0].source
            shown = next((r.display for r in records if r.display), key)
            names[key] = shown
        if group in names:
            return names[group]
        ordered = sorted(dict.fromkeys(names.values()))
        if not ordered:
            return "none active"
        return ordered[0] if len(ordered) == 1 else f"{', '.join(ordered[:-1])} and {ordered[-1]}"

    def red_flags(self) -> tuple[RedFlagCheck, ...]:
        """Each red flag's state; none out of the ruleset's scope (no card to show them on)."""
        if not self.ruleset.red_flags:
            return ()
        if self.ruleset.scope is not None and SCOPE_FINDING not in self.derived:
            return ()
        return flag_checks(self.ruleset, self.derived, self.summaries)
