"""Compile a ruleset into durable_rules' JSON ruleset form.

Each rule's condition is put in disjunctive normal form; every conjunction becomes one
durable_rules rule whose patterns match facts:

- one *concept fact* per concept with the patient's summary (`t: c`), tested on its attributes;
- one *finding fact* per derived finding (`t: f`), asserted by the action of the rule deriving it:
  rules that read a finding fire from inside that action, which is the forward chaining;
- one *suggestion fact* per suggestion (`t: s`), for rules that ask whether any was made;
- one *stage fact* per stratum (`t: g`): a rule runs only once its stratum's stage fact arrives,
  after every rule it depends on negatively has run (see `dependencies`).

Codes never appear in rules (adapters map them to concepts first) and numbers are integers in
millionths of the concept's unit, so durable_rules compares exactly what the ruleset says.
Every ruleset is laid out inside durable_rules' fixed-size structures by construction (see
`sharding`); only what no layout fits is refused, naming the rule.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .conditions import (
    All,
    Atom,
    BelowReference,
    Compare,
    Condition,
    FindingRef,
    NoSuggestion,
    Presence,
    alternatives,
    to_dnf,
)
from .dependencies import Cycle, strata
from .levels import Ladder, ladder
from .measures import SCALE, Measure, concepts_read, is_measured, measure_of
from .model import Action, Rule, Ruleset
from .sharding import SHARD, FactKey, LayoutError, fact_key, shard
from .stages import Needs, stage_needs
from .thresholds import resolve_threshold

SCOPE_RULE = "scope"
SCOPE_FINDING = "in-scope"
# durable_rules' own limits, with room: 16 patterns a rule (error 304), 4,096 rules a ruleset
# (106). The limits of its alpha network are kept by `sharding`.
MAX_PATTERNS = 15
MAX_BRANCHES = 64
MAX_RULES = 4000
SCALED_ATTRIBUTES = frozenset({"latest", "lowest", "highest", "span"})
END_RULE = "vigil$end"

_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


@dataclass(frozen=True, slots=True)
class Pattern:
    """What a pattern in a compiled rule matched: a concept or a finding, and which attributes."""

    kind: str  # "concept" | "finding"
    name: str
    attributes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Branch:
    rule: Rule
    patterns: dict[str, Pattern]


@dataclass
class Compiled:
    name: str
    definition: dict[str, Any]
    branches: dict[str, Branch]
    stages: tuple[int, ...]
    concepts: frozenset[str]
    attributes: dict[str, frozenset[str]]  # per concept, the fact attributes some rule tests
    findings: frozenset[str]  # findings some rule reads
    reads_suggestions: bool
    shards: dict[FactKey, int]  # per fact read by rules on more than one shard, its copies
    measures: dict[str, Measure] = field(default_factory=dict)  # by fact attribute key
    # concepts whose records older than the lookback some measure reads
    history: frozenset[str] = frozenset()
    # per stage, the facts each of its rules reads: a stage none can fire is not posted
    needs: Needs = field(default_factory=dict)

    def copies(self, fact: dict[str, Any]) -> list[dict[str, Any]]:
        """The copies of `fact` to assert: itself, or one per shard, each with its number."""
        count = self.shards.get(fact_key(fact), 1)
        if count == 1:
            return [fact]
        return [{**fact, SHARD: shard} for shard in range(count)]


def scaled(value: float) -> int:
    return round(value * SCALE)


class CompileError(ValueError):
    """A rule that durable_rules could not run safely; `rule` names it."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def effective_rules(ruleset: Ruleset) -> tuple[Rule, ...]:
    """The ruleset's rules, after the rule that decides the scope, each gated by it unless its
    condition already implies it (the gate would only cost durable_rules a join)."""
    if ruleset.scope is None:
        return ruleset.rules
    scope = Rule(
        SCOPE_RULE, "Patient is in the ruleset's scope", ruleset.scope, Action(derive=SCOPE_FINDING)
    )
    gate = FindingRef(SCOPE_FINDING, SCOPE_FINDING, ())
    scope_branches = [{_key(atom) for atom, _ in branch} for branch in to_dnf(ruleset.scope)]
    if any(negated for branch in to_dnf(ruleset.scope) for _, negated in branch):
        scope_branches = []  # a negated scope is never implied syntactically: gate every rule
    gated = tuple(
        r
        if _implies_scope(r.when, scope_branches)
        else Rule(r.id, r.title, All((gate, r.when), ()), r.then, r.line)
        for r in ruleset.rules
    )
    return (scope, *gated)


def _key(atom: Atom) -> tuple[object, ...]:
    if isinstance(atom, Presence):
        return (
            "presence",
            atom.concept,
            atom.state,
            atom.site,
            atom.window,
            atom.evidence,
            atom.until,
        )
    return (type(atom).__name__, getattr(atom, "text", None))


def _implies_scope(condition: Condition, scope_branches: list[set[tuple[object, ...]]]) -> bool:
    """Whether every alternative of `condition` holds only in scope: it reads a derived finding
    (every rule's finding is derived in scope) or contains all of one alternative of the scope."""
    for branch in to_dnf(condition):
        positive = [atom for atom, negated in branch if not negated]
        if any(isinstance(atom, FindingRef) for atom in positive):
            continue
        keys = {_key(atom) for atom in positive}
        # a finding present at a site is present
        keys |= {
            ("presence", a.concept, a.state, None, a.window)
            for a in positive
            if isinstance(a, Presence)
        }
        if not any(alternative <= keys for alternative in scope_branches):
            return False
    return True


def compile_ruleset(ruleset: Ruleset) -> Compiled:
    """Compile every rule (gated by the scope); raise `CompileError`, naming the rule, for what
    no layout keeps inside durable_rules' limits."""
    # before anything expands a condition: its alternatives can outgrow memory
    seen: set[str] = set()
    for rule in ruleset.rules:
        check_alternatives(rule.id, rule.when)
        if rule.id in seen:  # a Ruleset built by hand: rules are told apart by id
            raise CompileError(rule.id, "two rules have this id")
        seen.add(rule.id)
    if ruleset.scope is not None:
        check_alternatives(SCOPE_RULE, ruleset.scope)
    rules = effective_rules(ruleset)
    levels = ladder(ruleset)
    try:
        stratum = strata(rules, levels)
    except Cycle as cycle:
        raise CompileError(cycle.rules[0], f"rules derive each other's findings: {cycle}") from None
    definition: dict[str, Any] = {}
    branches: dict[str, Branch] = {}
    concepts: set[str] = set()
    attributes: dict[str, set[str]] = {}
    findings: set[str] = set()
    measures: dict[str, Measure] = {}
    reads_suggestions = False
    for index, rule in enumerate(rules):
        dnf = to_dnf(rule.when)
        for b, conjunction in enumerate(dnf):
            compiled = _Conjunction(ruleset, levels)
            for atom, negated in conjunction:
                compiled.add(atom, negated)
            compiled.stage(stratum[rule.id])
            if len(compiled.patterns) > MAX_PATTERNS:
                raise CompileError(
                    rule.id,
                    f"one alternative of its condition needs {len(compiled.patterns)} facts at "
                    f"once (at most {MAX_PATTERNS}); split the rule",
                )
            name = f"r{index}b{b}"
            if len(definition) >= MAX_RULES:
                raise CompileError(
                    rule.id,
                    f"the ruleset compiles to more than {MAX_RULES} durable_rules rules from "
                    "here on (each alternative of a condition is one): split the ruleset",
                )
            definition[name] = {"all": compiled.patterns, "pri": index, "run": name}
            branches[name] = Branch(rule, compiled.info)
            concepts |= compiled.concepts
            for concept, tested in compiled.attributes.items():
                attributes.setdefault(concept, set()).update(tested)
            findings |= compiled.findings
            measures.update(compiled.measures)
            reads_suggestions |= compiled.reads_suggestions
    try:
        shards = shard(definition)
    except LayoutError as error:
        raise CompileError(branches[error.rule].rule.id, str(error)) from error
    definition[END_RULE] = {"all": [{"m": {"t": "end"}}], "run": END_RULE}
    return Compiled(
        # durable_rules keeps a ruleset by name for ever: the name changes with the definition
        name=f"vigil:{ruleset.key}:{_digest(definition)}",
        definition=definition,
        branches=branches,
        stages=tuple(sorted(set(stratum.values()))),
        concepts=frozenset(concepts),
        attributes={c: frozenset(a) for c, a in attributes.items()},
        findings=frozenset(findings),
        reads_suggestions=reads_suggestions,
        shards=shards,
        measures=measures,
        history=frozenset(name for m in measures.values() for name in concepts_read(m)),
        needs=stage_needs(definition),
    )


def check_alternatives(rule: str, condition: Condition) -> None:
    """Raise `CompileError` when `condition` has more alternatives than `MAX_BRANCHES`."""
    count = alternatives(condition)
    if count > MAX_BRANCHES:
        raise CompileError(rule, f"its condition expands to {count} alternatives; split the rule")


class _Conjunction:
    def __init__(self, ruleset: Ruleset, levels: Ladder) -> None:
        self.ruleset = ruleset
        self.levels = levels
        self.patterns: list[dict[str, Any]] = []
        self.info: dict[str, Pattern] = {}
        self.concepts: set[str] = set()
        self.attributes: dict[str, set[str]] = {}
        self.findings: set[str] = set()
        self.measures: dict[str, Measure] = {}
        self.reads_suggestions = False
        self._positive: dict[str, tuple[list[dict[str, Any]], list[str]]] = {}
        self._seen: set[tuple[object, ...]] = set()
        self._suggested = 0  # the level some suggestion must reach, if above 0

    # durable_rules binds each pattern of a rule to a different fact, so an atom written twice
    # (`[low-k, any: [low-k, ...]]` in one alternative) must become one pattern, not two
    # patterns waiting for two copies of one fact.
    def add(self, atom: Atom, negated: bool) -> None:
        if isinstance(atom, FindingRef):
            self.findings.add(atom.name)
            if self._new("finding", atom.name, negated):
                info = Pattern("finding", atom.name)
                self._emit([{"t": "f"}, {"f": atom.name}], negated, info)
            return
        if isinstance(atom, NoSuggestion):
            self.reads_suggestions = True
            floor = self.levels.rank(atom.level) if atom.level else 1
            if negated:
                # "a suggestion at or above L": one suggestion at the highest L meets them all
                self._suggested = max(self._suggested, floor)
            elif self._new("suggestion", floor):
                self._emit([{"t": "s"}, {"$gte": {"rank": floor}}], True, None)
            return
        self.concepts.add(atom.concept)
        test, attribute = self._test(atom)
        # the fact key the test reads: "site:calf" is read from "site_calf"
        self.attributes.setdefault(atom.concept, set()).add(attribute.replace(":", "_"))
        if not self._new(atom.concept, repr(test), negated):
            return
        if negated:
            self._emit([{"t": "c"}, {"c": atom.concept}, test], True, None)
            return
        tests, attributes = self._positive.setdefault(atom.concept, ([], []))
        tests.append(test)
        attributes.append(attribute)

    def _new(self, *key: object) -> bool:
        """Whether this literal is new to the alternative (and note it)."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def stage(self, stratum: int) -> None:
        if self._suggested:
            self._emit([{"t": "s"}, {"$gte": {"rank": self._suggested}}], False, None)
        for concept, (tests, attributes) in self._positive.items():
            pattern = Pattern("concept", concept, tuple(dict.fromkeys(attributes)))
            self._emit([{"t": "c"}, {"c": concept}, *tests], False, pattern)
        # durable_rules tests a negated pattern once, when a partial match reaches it, and never
        # retracts that match later. The stage fact arrives after everything this rule negates
        # is settled, so it goes first and the negations right after it.
        stage = {"m": {"$and": [{"t": "g"}, {"n": stratum}]}}
        negated = [p for p in self.patterns if next(iter(p)).endswith("$not")]
        positive = [p for p in self.patterns if not next(iter(p)).endswith("$not")]
        self.patterns = [stage, *negated, *positive]

    def _emit(self, tests: list[dict[str, Any]], negated: bool, info: Pattern | None) -> None:
        name = f"m{len(self.patterns)}"
        self.patterns.append({f"{name}$not" if negated else name: {"$and": tests}})
        if info is not None and not negated:
            self.info[name] = info

    def _test(self, atom: Atom) -> tuple[dict[str, Any], str]:
        test = fact_test(atom, self.ruleset)
        if test.measure is not None:
            self.measures[test.measure.key] = test.measure
        return test.pattern(), test.name


@dataclass(frozen=True, slots=True)
class FactTest:
    """What durable_rules tests on a concept fact for one atom: the fact attribute `key`
    (`latest`, `site_calf`, a measure's `m_...`), compared with `op` against `number` (an
    integer, in millionths for scaled attributes and numeric measures). `name` is the
    attribute as a Pattern names it (`site:calf`); `measure` the measure the atom reads."""

    name: str
    op: str  # "=", "<", "<=", ">", ">="
    number: int
    measure: Measure | None = None

    @property
    def key(self) -> str:
        return self.name.replace(":", "_")

    def pattern(self) -> dict[str, Any]:
        """The test in durable_rules' JSON form."""
        if self.op == "=":
            return {self.key: self.number}
        return {_OPS[self.op]: {self.key: self.number}}

    def holds(self, fact: dict[str, Any] | None) -> bool:
        """Whether durable_rules' test holds on `fact` (a missing attribute fails it)."""
        value = None if fact is None else fact.get(self.key)
        if not isinstance(value, int):
            return False
        return {
            "=": value == self.number,
            "<": value < self.number,
            "<=": value <= self.number,
            ">": value > self.number,
            ">=": value >= self.number,
        }[self.op]


def fact_test(atom: Atom, ruleset: Ruleset) -> FactTest:
    """The test a concept atom compiles to (not a finding or suggestion atom)."""
    if is_measured(atom, ruleset):
        assert not isinstance(atom, BelowReference | FindingRef | NoSuggestion)
        measure, number = measure_of(atom, ruleset)
        if number is None:
            return FactTest(measure.key, "=", 1, measure)
        return FactTest(measure.key, getattr(atom, "op", "="), number, measure)
    if isinstance(atom, Presence):
        if atom.site:
            return FactTest(f"site:{atom.site}", "=", 1)
        return FactTest(atom.state, "=", 1)
    if isinstance(atom, BelowReference):
        return FactTest("below_ref", "=", 1)
    assert isinstance(atom, Compare)
    value = resolve_threshold(atom, ruleset)
    number = scaled(value) if atom.attribute in SCALED_ATTRIBUTES else int(value)
    return FactTest(atom.attribute, atom.op, number)


def _digest(definition: dict[str, Any]) -> str:
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
