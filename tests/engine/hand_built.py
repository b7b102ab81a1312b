"""Rulesets built by hand for the engine's measure tests: each rule derives a finding named
after itself, so what fired is read without any levels."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

import engine
from engine.codes import Code
from engine.conditions import Condition
from engine.evaluation import Evaluation
from engine.model import Action, Concept, Parameter, Rule, Ruleset
from engine.records import Quantity, Record

AS_OF = datetime(2026, 12, 7, 12, tzinfo=UTC)
POTASSIUM = Concept(
    "potassium", (Code("http://loinc.org", "2823-3"),), unit="mmol/L", kind="quantity"
)


def ruleset(
    concepts: Iterable[Concept],
    rules: Mapping[str, Condition],
    *,
    parameters: Iterable[Parameter] = (),
    time_zone: str = "UTC",
    sites: Mapping[str, tuple[Code, ...]] | None = None,
) -> Ruleset:
    """A ruleset whose rule `id` derives the finding `id` when its condition holds."""
    built = tuple(Rule(name, name, when, Action(derive=name)) for name, when in rules.items())
    named = {c.name: c for c in concepts}
    text = repr((named, built, tuple(parameters), time_zone))
    return Ruleset(
        id="measures",
        version="1.0.0",
        status="draft",
        title="Measures",
        description="",
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        concepts=named,
        sites=dict(sites or {}),
        parameters={p.name: p for p in parameters},
        rules=built,
        time_zone=time_zone,
    )


def evaluate(rules: Ruleset, records: Iterable[Record], as_of: datetime = AS_OF) -> Evaluation:
    return engine.Evaluator(rules).evaluate(list(records), as_of)


def fired(rules: Ruleset, records: Iterable[Record], as_of: datetime = AS_OF) -> set[str]:
    return {f.name for f in evaluate(rules, records, as_of).findings}


def result(
    value: float,
    hours_ago: float,
    source: str,
    *,
    concept: str = "potassium",
    unit: str = "mmol/L",
    code: str = "loinc#2823-3",
    as_of: datetime = AS_OF,
    **more: object,
) -> Record:
    """A quantity result taken `hours_ago` before `as_of`."""
    return Record(
        concept,
        source,
        time=as_of - timedelta(hours=hours_ago),
        value=Quantity(value, unit),
        code=code,
        **more,  # type: ignore[arg-type]
    )


def words(evaluation: Evaluation, rule: str) -> list[str]:
    """What the firing of `rule` matched, in words, and its sources."""
    (firing,) = [f for f in evaluation.trace if f.rule == rule]
    return [f"{value} {list(m.sources)}" for m in firing.matched for _, value in m.values]
