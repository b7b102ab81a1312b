"""Evaluate a patient's records against a ruleset: summaries in, an explained Evaluation out."""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import runtime
from .compiler import SCALE, SCOPE_FINDING, Compiled, Pattern, compile_ruleset, scaled
from .errors import FactError
from .evaluation import (
    DataWarning,
    Evaluation,
    Finding,
    Firing,
    Matched,
    RedFlagCheck,
    RulesetIdentity,
    Suggestion,
)
from .levels import highest, rank
from .model import Rule, Ruleset
from .records import Quantity, Record
from .summary import Reading, Summary, summarise

_LIMIT = 2**53 // SCALE  # largest magnitude durable_rules compares exactly once scaled
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")

_COMPILED: dict[str, Compiled] = {}
_COMPILING = threading.Lock()


def _compiled(ruleset: Ruleset) -> Compiled:
    with _COMPILING:
        compiled = _COMPILED.get(ruleset.key)
        if compiled is None:
            compiled = compile_ruleset(ruleset)
            _COMPILED[ruleset.key] = compiled
        return compiled


class Evaluator:
    """Evaluates patients against one ruleset. Reusable and safe to share between threads:
    durable_rules runs behind a process-wide lock, so threads take turns; use processes for
    throughput."""

    def __init__(self, ruleset: Ruleset | str | Path) -> None:
        if not isinstance(ruleset, Ruleset):
            from .registry import load_ruleset

            ruleset = load_ruleset(ruleset)
        self.ruleset = ruleset
        self._compiled = _compiled(ruleset)
        self._identity = RulesetIdentity(
            ruleset.id, ruleset.version, ruleset.content_hash, ruleset.title
        )

    def evaluate(self, facts: Iterable[Record], as_of: datetime | None = None) -> Evaluation:
        """Evaluate one patient's records as they stood at `as_of` (default: now, UTC)."""
        when = _as_of(as_of)
        records = self._check(facts)
        summaries, warnings = summarise(records, self.ruleset, when)
        run = _Run(self.ruleset, self._compiled, summaries)
        runtime.run_session(self._compiled, run.facts(warnings), run.fire)
        suggestions = run.suggestions()
        return Evaluation(
            ruleset=self._identity,
            as_of=when,
            escalation=highest([s.level for s in suggestions]),
            suggestions=suggestions,
            findings=tuple(f for f in run.derived.values() if f.name != SCOPE_FINDING),
            trace=tuple(run.trace),
            warnings=tuple(warnings),
            red_flags=run.red_flags(),
        )

    def _check(self, facts: Iterable[Record]) -> list[Record]:
        if isinstance(facts, Record | str | bytes) or not isinstance(facts, Iterable):
            raise FactError(f"facts must be an iterable of Record, not {type(facts).__name__}")
        records = list(facts)
        concepts = self.ruleset.concepts
        for record in records:
            if not isinstance(record, Record):
                raise FactError(f"facts must be Records, found {type(record).__name__}")
            if record.concept not in concepts:
                close = difflib.get_close_matches(record.concept, list(concepts), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise FactError(
                    f"{record.source}: concept {record.concept!r} is not in ruleset "
                    f"{self.ruleset.id}{hint}"
                )
            _check_fields(record)
        return records


def _check_fields(record: Record) -> None:
    where = f"{record.source}: " if isinstance(record.source, str) else ""
    if not isinstance(record.source, str):
        raise FactError(f"record of {record.concept}: source must be a reference string")
    for moment in (record.time, record.end):
        if moment is None:
            continue
        if not isinstance(moment, datetime):
            raise FactError(f"{where}time must be a datetime, not {type(moment).__name__}")
        if moment.tzinfo is None:
            raise FactError(f"{where}time {moment} has no timezone")
    for quantity in (record.value, record.reference_low):
        if isinstance(quantity, Quantity):
            if not _is_number(quantity.value) or not isinstance(quantity.unit, str):
                raise FactError(f"{where}a quantity needs a number and a unit, not {quantity!r}")
        elif quantity is not None and not _is_number(quantity):
            raise FactError(f"{where}value must be a Quantity, a number or None, not {quantity!r}")
    if record.site is not None and not isinstance(record.site, str):
        raise FactError(f"{where}site must be a code such as 'sct#53840002'")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_of(as_of: datetime | None) -> datetime:
    if as_of is None:
        return datetime.now(UTC)
    if not isinstance(as_of, datetime):
        raise FactError(f"as_of must be a datetime, not {type(as_of).__name__}")
    if as_of.tzinfo is None:
        raise FactError(f"as_of {as_of.isoformat()} has no timezone")
    return as_of


@dataclass(frozen=True, slots=True)
class _Pending:
    order: int
    rule: Rule
    matched: tuple[Matched, ...]
    evidence: tuple[str, ...]


class _Run:
    """The state of one evaluation while durable_rules fires its rules."""

    def __init__(self, ruleset: Ruleset, compiled: Compiled, summaries: dict[str, Summary]) -> None:
        self.ruleset = ruleset
        self.compiled = compiled
        self.summaries = summaries
        self.fired: set[str] = set()
        self.trace: list[Firing] = []
        self.derived: dict[str, Finding] = {}
        self.pending: list[_Pending] = []
        self._matches: dict[Pattern, Matched] = {}

    # -- facts in ---------------------------------------------------------------------------

    def facts(self, warnings: list[DataWarning]) -> list[dict[str, Any]]:
        tested = self.compiled.attributes
        return [
            self._concept_fact(self.summaries[name], tested[name], warnings)
            for name in sorted(self.compiled.concepts & self.summaries.keys())
        ]

    def _concept_fact(
        self, summary: Summary, tested: frozenset[str], warnings: list[DataWarning]
    ) -> dict[str, Any]:
        """The summary as one durable_rules fact, with only the attributes rules test."""
        fact: dict[str, Any] = {"t": "c", "c": summary.concept.name, "recorded": 1}
        if summary.is_present:
            fact["present"] = 1
        if summary.is_absent:
            fact["absent"] = 1
        for attribute in ("latest", "lowest", "highest"):
            if attribute not in tested:
                continue
            reading: Reading | None = getattr(summary, attribute)
            if reading is not None and reading.value is not None:
                if abs(reading.value) >= _LIMIT:
                    warnings.append(
                        DataWarning(
                            f"{summary.concept.name} value {reading.value:g} is out of range",
                            reading.record.source,
                        )
                    )
                    continue
                fact[attribute] = scaled(reading.value)
        if "count" in tested:
            fact["count"] = len(summary.present)
        if "sites" in tested:
            fact["sites"] = len(summary.sites)
        if "span" in tested:
            fact["span"] = scaled(summary.span_days)
        if "below_ref" in tested and summary.below_reference:
            fact["below_ref"] = 1
        for site in summary.sites:
            if f"site_{site}" in tested:
                fact[f"site_{site}"] = 1
        return fact

    # -- firing ------------------------------------------------------------------------------

    def fire(
        self, action: str, matched: dict[str, Any], emit: Callable[[dict[str, Any]], None]
    ) -> None:
        branch = self.compiled.branches[action]
        rule = branch.rule
        if rule.id in self.fired:
            return  # another branch of the same rule fired first
        self.fired.add(rule.id)
        facts = tuple(
            self._matched(pattern)
            for name, pattern in branch.patterns.items()
            if name in matched and pattern.name != SCOPE_FINDING
        )
        evidence = tuple(dict.fromkeys(s for m in facts for s in m.sources))
        then = rule.then
        order = len(self.trace) + 1
        self.trace.append(Firing(order, rule.id, rule.title, facts, then.derive, then.suggest))
        if then.suggest:
            self.pending.append(_Pending(order, rule, facts, evidence))
            if self.compiled.reads_suggestions:
                emit({"t": "s", "rank": rank(then.suggest)})
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
            value, readings = _describe(summary, attribute)
            values.append((attribute, value))
            sources += [r.record.source for r in readings]
        return Matched("concept", pattern.name, tuple(values), tuple(dict.fromkeys(sources)))

    # -- results out -------------------------------------------------------------------------

    def suggestions(self) -> tuple[Suggestion, ...]:
        made = [self._suggestion(p) for p in self.pending]
        ordered = sorted(
            zip(made, self.pending, strict=True),
            key=lambda pair: (-rank(pair[0].level), pair[1].order),
        )
        return tuple(s for s, _ in ordered)

    def _suggestion(self, pending: _Pending) -> Suggestion:
        then = pending.rule.then
        assert then.suggest is not None and then.summary is not None
        detail = self._fill(then.detail or "").strip()
        reasons = "\n".join(_reason(m) for m in pending.matched)
        body = f"{detail}\n\n**Why:**\n\n{reasons}" if detail else f"**Why:**\n\n{reasons}"
        advice = tuple(
            self._fill(a.text).strip()
            for a in then.advice
            if a.finding is None or a.finding in self.derived
        )
        return Suggestion(
            rule=pending.rule.id,
            level=then.suggest,
            summary=self._fill(then.summary, reported=False),
            detail=body,
            evidence=pending.evidence,
            citations=tuple(self.ruleset.citations[c] for c in then.cite),
            referral=then.referral,
            advice=advice,
        )

    def _fill(self, text: str, *, reported: bool = True) -> str:
        """`text` with {concept} and {parameter} placeholders filled in."""

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            parameter = self.ruleset.parameters.get(name)
            if parameter is not None:
                return parameter.text
            summary = self.summaries.get(name)
            if summary is None or summary.latest is None:
                return "not recorded"
            return _describe(summary, "latest", reported=reported)[0]

        return _PLACEHOLDER.sub(value, text)

    def red_flags(self) -> tuple[RedFlagCheck, ...]:
        checks = []
        for flag in self.ruleset.red_flags:
            if flag.finding is not None:
                found = self.derived.get(flag.finding)
                checks.append(
                    RedFlagCheck(flag.label, "present", found.evidence)
                    if found
                    else RedFlagCheck(flag.label, "not met")
                )
                continue
            summary = self.summaries.get(flag.concept or "")
            if summary is not None and summary.is_present:
                checks.append(RedFlagCheck(flag.label, "present", _sources(summary.present)))
            elif summary is not None and summary.is_absent:
                checks.append(RedFlagCheck(flag.label, "absent", _sources(summary.absent)))
            else:
                checks.append(RedFlagCheck(flag.label, "not recorded"))
        return tuple(checks)


def _sources(readings: Iterable[Reading]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.record.source for r in readings))


def _number(value: float) -> str:
    return f"{round(value, 3):g}"


def _describe(
    summary: Summary, attribute: str, *, reported: bool = True
) -> tuple[str, list[Reading]]:
    """A matched attribute in words, with the readings that support it."""
    unit = summary.concept.unit
    suffix = f" {unit}" if unit else ""
    if attribute in ("latest", "lowest", "highest"):
        reading = getattr(summary, attribute)
        if reading is None or reading.value is None:
            return "not recorded", []
        flag = " (preliminary)" if reading.record.preliminary else ""
        raw = reading.record.value
        if reported and isinstance(raw, Quantity) and _number(raw.value) != _number(reading.value):
            flag = f" (reported as {_number(raw.value)} {raw.unit}){flag}"
        return f"{_number(reading.value)}{suffix}{flag}", [reading]
    if attribute == "count":
        return str(len(summary.present)), summary.present
    if attribute == "sites":
        return ", ".join(sorted(summary.sites)), [r for r in summary.present if r.site]
    if attribute == "span":
        return f"{_number(summary.span_days)} days", summary.present
    if attribute == "absent":
        return "recorded absent", summary.absent
    if attribute == "recorded":
        return "recorded", summary.present + summary.absent
    if attribute == "below_ref":
        latest = summary.latest
        return "below its reference range", [latest] if latest else []
    if attribute.startswith("site:"):
        site = attribute.removeprefix("site:")
        return f"present at {site}", [r for r in summary.present if r.site == site]
    flag = " (preliminary)" if any(r.record.preliminary for r in summary.present) else ""
    return f"present{flag}", summary.present


def _reason(matched: Matched) -> str:
    if matched.kind == "finding":
        return (
            f"- finding *{matched.name}* (derived by rule `{dict(matched.values)['derived by']}`)"
        )
    values = "; ".join(
        value
        if attribute in ("present", "absent", "recorded", "below_ref")
        or attribute.startswith("site:")
        else f"{attribute} {value}"
        for attribute, value in matched.values
    )
    sources = f" ({', '.join(matched.sources)})" if matched.sources else ""
    return f"- {matched.name.replace('_', ' ')}: {values}{sources}"
