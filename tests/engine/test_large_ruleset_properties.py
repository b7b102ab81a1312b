"""Large generated rulesets (many rules on one concept, many concepts, chains of derived findings,
rules that wait for no suggestion at or above a level) give the answers of a plain-Python reading
of the same rules.

The engine runs in a worker process (`engine_worker`), so a native crash or a hang in
durable_rules fails the example, and hypothesis shrinks it, instead of killing pytest.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).parents[2]
LEVELS = ("self-care", "primary-care", "neurology", "urgent")
RANK = {level: rank for rank, level in enumerate(("none", *LEVELS))}
OPS = ("<", "<=", ">", ">=")
AS_OF = "2026-03-01T00:00:00+00:00"
HANG = 120  # seconds without an answer: the worker is stuck


@dataclass(frozen=True)
class Compare:
    """`c<concept> <op> <hundredths / 100> mmol/L`, or its negation."""

    concept: int
    op: str
    hundredths: int
    negated: bool = False

    def text(self) -> str:
        line = f"c{self.concept} {self.op} {self.hundredths / 100:.2f} mmol/L"
        return f"not {line}" if self.negated else line

    def holds(self, values: dict[str, int], findings: set[str], made: list[str]) -> bool:
        value = values.get(f"c{self.concept}")
        met = value is not None and _compare(value, self.op, self.hundredths)
        return not met if self.negated else met


@dataclass(frozen=True)
class Finding:
    name: str
    negated: bool = False

    def text(self) -> str:
        return f"not {self.name}" if self.negated else self.name

    def holds(self, values: dict[str, int], findings: set[str], made: list[str]) -> bool:
        return (self.name in findings) != self.negated


@dataclass(frozen=True)
class NoSuggestion:
    """`no suggestion at or above <level>`, or its negation."""

    level: str
    negated: bool = False

    def text(self) -> str:
        line = f"no suggestion at or above {self.level}"
        return f"not {line}" if self.negated else line

    def holds(self, values: dict[str, int], findings: set[str], made: list[str]) -> bool:
        reached = any(RANK[level] >= RANK[self.level] for level in made)
        return reached == self.negated


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Compare | Finding | NoSuggestion, ...]

    def text(self) -> str:
        return "{any: [" + ", ".join(json.dumps(i.text()) for i in self.items) + "]}"

    def holds(self, values: dict[str, int], findings: set[str], made: list[str]) -> bool:
        return any(item.holds(values, findings, made) for item in self.items)


Clause = Compare | Finding | NoSuggestion | AnyOf


@dataclass(frozen=True)
class GeneratedRule:
    id: str
    when: tuple[Clause, ...]
    derive: str | None
    suggest: str | None

    def yaml(self) -> str:
        clauses = ", ".join(
            c.text() if isinstance(c, AnyOf) else json.dumps(c.text()) for c in self.when
        )
        then = [f"derive: {self.derive}"] if self.derive else []
        if self.suggest:
            then += [f"suggest: {self.suggest}", f'summary: "Rule {self.id}"']
        return f"  - id: {self.id}\n    when: [{clauses}]\n    then: {{{', '.join(then)}}}\n"


def _compare(value: int, op: str, threshold: int) -> bool:
    return {
        "<": value < threshold,
        "<=": value <= threshold,
        ">": value > threshold,
        ">=": value >= threshold,
    }[op]


def ruleset_text(concepts: int, rules: list[GeneratedRule]) -> str:
    lines = [
        "id: generated",
        "version: 1.0.0",
        "status: draft",
        "title: Generated for a property test",
        "levels: [{id: none, title: No action, indicator: info}, "
        "{id: self-care, title: Self-care, indicator: info}, "
        "{id: primary-care, title: Primary care, indicator: warning}, "
        "{id: neurology, title: Neurology, indicator: warning}, "
        "{id: urgent, title: Urgent, indicator: critical}]",
        "concepts:",
        *(
            f"  c{i}: {{codes: [vigil#c{i}], unit: mmol/L, lookback: 30 days}}"
            for i in range(concepts)
        ),
        "rules:",
    ]
    return "\n".join(lines) + "\n" + "".join(rule.yaml() for rule in rules)


def oracle(rules: list[GeneratedRule], values: dict[str, int]) -> dict[str, Any]:
    """The plain reading: a rule that reads the absence of a finding runs after every rule that
    derives it (a stratum above), one that reads whether a suggestion reached a level after every
    rule suggesting that level or above; within a stratum, rules fire until nothing changes."""
    deriver = {rule.derive: rule.id for rule in rules if rule.derive}
    waits: dict[str, list[tuple[str, int]]] = {}  # rule -> (rule it waits for, strata above it)
    for rule in rules:
        reads = [a for c in rule.when for a in (c.items if isinstance(c, AnyOf) else (c,))]
        waits[rule.id] = [
            (deriver[a.name], int(a.negated)) for a in reads if isinstance(a, Finding)
        ]
        waits[rule.id] += [
            (other.id, 1)
            for a in reads
            if isinstance(a, NoSuggestion)
            for other in rules
            if other.suggest and RANK[other.suggest] >= RANK[a.level]
        ]
    stratum = {rule.id: 0 for rule in rules}
    changed = True
    while changed:  # until every rule sits above what it waits for
        changed = False
        for rule in rules:
            level = max((stratum[other] + above for other, above in waits[rule.id]), default=0)
            if level != stratum[rule.id]:
                stratum[rule.id], changed = level, True
    findings: set[str] = set()
    fired: set[str] = set()
    made: list[str] = []
    for level in sorted(set(stratum.values())):
        changed = True
        while changed:
            changed = False
            for rule in rules:
                if stratum[rule.id] != level or rule.id in fired:
                    continue
                if all(c.holds(values, findings, made) for c in rule.when):
                    fired.add(rule.id)
                    changed = True
                    if rule.derive:
                        findings.add(rule.derive)
                    if rule.suggest:
                        made.append(rule.suggest)
    levels = [r.suggest for r in rules if r.id in fired and r.suggest]
    return {
        "fired": sorted(fired),
        "findings": sorted(findings),
        "escalation": max(levels, key=RANK.__getitem__, default="none"),
    }


@st.composite
def rulesets(draw: st.DrawFn) -> tuple[int, list[GeneratedRule]]:
    """Rulesets with a crowded concept (c0, up to 150 rules), up to 12 concepts, and chains:
    a rule may read the findings (or their absence) of rules before it, so chains run as deep as
    the ruleset; the first three findings are read most, by up to 80 rules."""
    concepts = draw(st.integers(1, 12))
    compare = st.builds(
        Compare,
        st.integers(0, concepts - 1),
        st.sampled_from(OPS),
        st.integers(1, 1000),
        st.booleans(),
    )
    crowded = draw(st.integers(0, 150))
    rules: list[GeneratedRule] = []
    for i in range(crowded):
        threshold = draw(st.integers(1, 1000))
        op = draw(st.sampled_from(OPS))
        rules.append(
            GeneratedRule(f"crowd-{i}", (Compare(0, op, threshold),), f"crowd-{i}", _level(draw))
        )
    for i in range(draw(st.integers(0 if crowded else 1, 80))):
        # findings of rules that read suggestions are read by none, so no rule waits for itself
        derived = [r.derive for r in rules if r.derive and not _reads_suggestions(r)]
        names = st.sampled_from(derived[:3]) | st.sampled_from(derived)
        atom = compare | st.builds(Finding, names, st.booleans()) if derived else compare
        clauses: list[Clause] = draw(st.lists(atom, min_size=1, max_size=4))
        if draw(st.booleans()):
            clauses.append(AnyOf(tuple(draw(st.lists(atom, min_size=2, max_size=3)))))
        level = _level(draw)
        if draw(st.integers(0, 3)) == 0:
            # it waits for every rule suggesting `floor` or above, so it suggests below it
            floor = draw(st.sampled_from(LEVELS[1:]))
            clauses.append(NoSuggestion(floor, draw(st.booleans())))
            below = [lv for lv in LEVELS if RANK[lv] < RANK[floor]]
            level = draw(st.none() | st.sampled_from(below))
        rules.append(GeneratedRule(f"rule-{i}", tuple(clauses), f"found-{i}", level))
    return concepts, rules


def _reads_suggestions(rule: GeneratedRule) -> bool:
    return any(isinstance(c, NoSuggestion) for c in rule.when)


def _level(draw: st.DrawFn) -> str | None:
    return draw(st.none() | st.sampled_from(LEVELS))


patients = st.lists(
    st.dictionaries(st.integers(0, 11).map(lambda i: f"c{i}"), st.integers(1, 1000)),
    min_size=1,
    max_size=4,
)


class Worker:
    """The engine's process; started again after it dies, so one crash fails one example."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.engine.engine_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                cwd=ROOT,
                env=dict(os.environ),
            )
        process = self.process
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
        except BrokenPipeError:
            pass
        ready, _, _ = select.select([process.stdout], [], [], HANG)
        line = process.stdout.readline() if ready else ""
        if not line:
            process.kill()
            code = process.wait()
            pytest.fail(f"the engine's process died (exit {code}) or hung on this ruleset")
        answer = json.loads(line)
        assert isinstance(answer, dict)
        return answer

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                if stream is not None:
                    stream.close()


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    started = Worker()
    yield started
    started.close()


ALL_MATCHING = (
    1,
    [
        GeneratedRule(f"crowd-{i}", (Compare(0, ">", i),), f"crowd-{i}", "primary-care")
        for i in range(120)
    ],
)


def agrees_with_the_plain_reading(
    worker: Worker, generated: tuple[int, list[GeneratedRule]], people: list[dict[str, int]]
) -> None:
    """The engine's answer for each patient is the oracle's (bench/ runs this too)."""
    concepts, rules = generated
    people = [{c: v for c, v in values.items() if int(c[1:]) < concepts} for values in people]
    answer = worker.ask(
        {
            "ruleset": ruleset_text(concepts, rules),
            "as_of": AS_OF,
            "patients": [{c: v / 100 for c, v in values.items()} for values in people],
        }
    )
    assert "error" not in answer, answer["error"]
    for values, result in zip(people, answer["results"], strict=True):
        got = {**result, "fired": sorted(result["fired"])}
        assert got == oracle(rules, values)


# 30 rulesets a run, each compiled in the worker: drawn anew on every local run (CI's profile
# fixes them); the long run is bench/large_ruleset_properties_soak.py.
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@example(ALL_MATCHING, [{"c0": 500}])
@given(rulesets(), patients)
def test_engine_agrees_with_a_plain_reading(
    worker: Worker, generated: tuple[int, list[GeneratedRule]], people: list[dict[str, int]]
) -> None:
    agrees_with_the_plain_reading(worker, generated, people)
