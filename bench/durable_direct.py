"""The calf-fasciculation logic written directly on durable_rules, without Vigil.

What a competent engineer would write after reading the guard rails in design.md, and no more:
the JSON ruleset form on a `Host` that starts no timer threads; one lock; a fresh session a
patient; facts asserted one at a time (integers in millionths); a sentinel fact firing a no-op
rule; `delete_state` in a `finally`; action errors raised again; summaries computed in Python;
forward chaining through derived findings, negations waiting for a stage fact. The rules are
those of `rulesets/calf_fasciculation/ruleset.yaml`; the answer is the escalation, the
suggesting rules and the derived findings, checked against `tests/calf_oracle.py`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from durable import engine as durable

from engine.records import Quantity, Record

NAME = "bench-durable-direct-calf"
SCALE = 1_000_000
LOOKBACK = timedelta(days=30)
LABS = frozenset({"potassium", "magnesium", "calcium", "gad7", "sleep", "caffeine"})
# recorded unit -> canonical unit factor (mmol/L, min, h, mg/d)
_FACTORS = {
    "potassium": {"mmol/L": 1.0, "meq/L": 1.0, "mg/dL": 10 / 39.098},
    "magnesium": {"mmol/L": 1.0, "meq/L": 0.5, "mg/dL": 10 / 24.305},
    "calcium": {"mmol/L": 1.0, "meq/L": 0.5, "mg/dL": 10 / 40.078},
    "cramp": {"min": 1.0, "s": 1 / 60, "h": 60.0},
    "sleep": {"h": 1.0, "min": 1 / 60},
    "caffeine": {"mg/d": 1.0, "g/d": 1000.0},
}
SITES = {"sct#53840002": "calf", "sct#21974007": "tongue"}
RANK = {"none": 0, "self-care": 1, "primary-care": 2, "neurology": 3, "urgent": 4}
LEVELS = list(RANK)


def _n(value: float) -> int:
    return round(value * SCALE)


def _c(concept: str, *tests: dict[str, Any]) -> dict[str, Any]:
    return {"$and": [{"c": concept}, *tests]}


def _f(finding: str) -> dict[str, Any]:
    return {"f": finding}


SCOPE = {"sc": _f("in-scope")}
PRESENT = {"present": 1}


def _lt(attribute: str, value: float) -> dict[str, Any]:
    return {"$lt": {attribute: _n(value)}}


def _gte(attribute: str, value: float) -> dict[str, Any]:
    return {"$gte": {attribute: _n(value)}}


# rule name -> (patterns, derives, suggests)
RULES: dict[str, tuple[list[dict[str, Any]] | dict[str, Any], str | None, str | None]] = {
    "scope": (
        {"any": [{"a": _c("fasciculation", PRESENT)}, {"a": _c("cramp", PRESENT)}]},
        "in-scope",
        None,
    ),
    "severe-hypokalemia": (
        [SCOPE, {"k": _c("potassium", _lt("latest", 2.5))}],
        "hypokalaemia",
        "urgent",
    ),
    "hypokalemia-with-weakness": (
        [SCOPE, {"k": _c("potassium", _lt("latest", 3.5))}, {"w": _c("weakness", PRESENT)}],
        None,
        "urgent",
    ),
    "severe-hypomagnesemia": (
        [SCOPE, {"mg": _c("magnesium", _lt("latest", 0.40))}],
        "hypomagnesaemia",
        "urgent",
    ),
    "severe-hypocalcemia": (
        [SCOPE, {"ca": _c("calcium", _lt("latest", 1.9))}],
        "hypocalcaemia",
        "urgent",
    ),
    "low-potassium": (
        {
            "any": [
                {
                    "sc": _f("in-scope"),
                    "k": _c("potassium", _lt("latest", 3.5), _gte("latest", 2.5)),
                },
                {"sc": _f("in-scope"), "k": _c("potassium", {"below_ref": 1}, _gte("latest", 2.5))},
            ]
        },
        "hypokalaemia",
        "primary-care",
    ),
    "low-magnesium": (
        {
            "any": [
                {
                    "sc": _f("in-scope"),
                    "mg": _c("magnesium", _lt("latest", 0.70), _gte("latest", 0.40)),
                },
                {
                    "sc": _f("in-scope"),
                    "mg": _c("magnesium", {"below_ref": 1}, _gte("latest", 0.40)),
                },
            ]
        },
        "hypomagnesaemia",
        "primary-care",
    ),
    "low-calcium": (
        [SCOPE, {"ca": _c("calcium", _lt("latest", 2.2), _gte("latest", 1.9))}],
        "hypocalcaemia",
        "primary-care",
    ),
    "electrolyte-deficit": (
        {
            "any": [
                {"x": _f("hypokalaemia")},
                {"x": _f("hypomagnesaemia")},
                {"x": _f("hypocalcaemia")},
            ]
        },
        "electrolyte-deficit",
        None,
    ),
    "persistent-weakness": (
        {
            "any": [
                {"sc": _f("in-scope"), "w": _c("weakness", PRESENT, _gte("span", 14))},
                {"sc": _f("in-scope"), "g": _c("mrc_grade", {"$lte": {"lowest": _n(4)}})},
            ]
        },
        "persistent-weakness",
        None,
    ),
    "twitching-with-persistent-weakness": (
        [
            {"g": {"stage": 1}},
            {"d$not": _f("electrolyte-deficit")},
            {"p": _f("persistent-weakness")},
            {"t": _c("fasciculation", PRESENT)},
        ],
        None,
        "neurology",
    ),
    "twitching-with-unconfirmed-weakness": (
        [
            {"g": {"stage": 1}},
            {"p$not": _f("persistent-weakness")},
            {"t": _c("fasciculation", PRESENT)},
            {"w": _c("weakness", PRESENT)},
        ],
        None,
        "primary-care",
    ),
    "twitching-with-atrophy": (
        [{"t": _c("fasciculation", PRESENT)}, {"a": _c("atrophy", PRESENT)}],
        None,
        "neurology",
    ),
    "twitching-with-bulbar-sign": (
        {
            "any": [
                {"t": _c("fasciculation", PRESENT), "b": _c("bulbar_sign", PRESENT)},
                {"t": _c("fasciculation", PRESENT, {"site_tongue": 1})},
            ]
        },
        "bulbar-involvement",
        "neurology",
    ),
    "widespread-twitching": (
        [{"t": _c("fasciculation", {"$gte": {"sites": 2}}, _gte("span", 14))}],
        "widespread-twitching",
        "primary-care",
    ),
    "chronic-twitching": (
        [{"t": _c("fasciculation", _gte("span", 14))}],
        "chronic-twitching",
        "primary-care",
    ),
    "prolonged-cramp": (
        [{"c": _c("cramp", {"$gt": {"highest": _n(10)}})}],
        "prolonged-cramp",
        "primary-care",
    ),
    "anxiety-screen-positive": (
        [{"t": _c("fasciculation", PRESENT)}, {"g": _c("gad7", _gte("latest", 10))}],
        None,
        "primary-care",
    ),
    "caffeine-trigger": (
        {
            "any": [
                {"sc": _f("in-scope"), "x": _c("caffeine", {"$gt": {"latest": _n(400)}})},
                {"g": {"stage": 1}, "x$not": {"c": "caffeine"}, "sc": _f("in-scope")},
            ]
        },
        "caffeine-trigger",
        None,
    ),
    "sleep-trigger": (
        {
            "any": [
                {"sc": _f("in-scope"), "x": _c("sleep", _lt("latest", 7))},
                {"g": {"stage": 1}, "x$not": {"c": "sleep"}, "sc": _f("in-scope")},
            ]
        },
        "sleep-trigger",
        None,
    ),
    "diet-trigger": (
        {
            "any": [
                {"sc": _f("in-scope"), "x": _c("potassium", _lt("latest", 4.0))},
                {"g": {"stage": 1}, "x$not": {"c": "potassium"}, "sc": _f("in-scope")},
                {"sc": _f("in-scope"), "x": _c("magnesium", _lt("latest", 0.80))},
                {"g": {"stage": 1}, "x$not": {"c": "magnesium"}, "sc": _f("in-scope")},
            ]
        },
        "diet-trigger",
        None,
    ),
    "stress-trigger": (
        {
            "any": [
                {"sc": _f("in-scope"), "x": _c("gad7", _gte("latest", 5))},
                {"g": {"stage": 1}, "x$not": {"c": "gad7"}, "sc": _f("in-scope")},
            ]
        },
        "stress-trigger",
        None,
    ),
    "benign-twitching": (
        [
            {"g": {"stage": 2}},
            {"s$not": {"$gte": {"rank": 2}}},
            {"t": _c("fasciculation", PRESENT)},
        ],
        None,
        "self-care",
    ),
}
END = "end"


def _alternative(index: int, patterns: dict[str, Any]) -> dict[str, Any]:
    """One `any` branch in durable_rules' JSON form: a pattern, or `a<i>$all` of patterns."""
    if len(patterns) == 1:
        return patterns
    return {f"a{index}$all": [{key: value} for key, value in patterns.items()]}


def definition() -> dict[str, Any]:
    rules: dict[str, Any] = {}
    for name, (patterns, _, _) in RULES.items():
        if isinstance(patterns, dict):
            rule = {"any": [_alternative(i, alt) for i, alt in enumerate(patterns["any"])]}
        else:
            rule = {"all": patterns}
        rules[name] = {**rule, "run": name}
    rules[END] = {"all": [{"m": {"end": 1}}], "run": END}
    return rules


# -- per-concept summaries, in Python -------------------------------------------------------


def _canonical(record: Record, quantity: Quantity | float | int | None) -> float | None:
    if quantity is None or isinstance(quantity, bool):
        return None
    if isinstance(quantity, Quantity):
        factors = _FACTORS.get(record.concept)
        if factors is None:
            return float(quantity.value)
        factor = factors.get(quantity.unit)
        return None if factor is None else quantity.value * factor
    return float(quantity)


def facts(records: Iterable[Record], as_of: datetime) -> list[dict[str, Any]]:
    """One fact per concept with at least one record that counts at `as_of`."""
    by_concept: dict[str, list[Record]] = {}
    for record in records:
        time = record.time
        if time is not None and time > as_of:
            continue
        if record.concept in LABS:
            if time is None:
                continue
            end = as_of if record.ongoing else (record.end or time)
            if end < as_of - LOOKBACK:
                continue
        by_concept.setdefault(record.concept, []).append(record)
    out = []
    for concept, group in sorted(by_concept.items()):
        fact: dict[str, Any] = {"c": concept}
        present = [r for r in group if r.present]
        if present:
            fact["present"] = 1
            valued = [(v, r) for r in present if (v := _canonical(r, r.value)) is not None]
            if valued:
                value, latest = max(valued, key=lambda pair: (pair[1].time, pair[1].source))
                fact["latest"] = _n(value)
                fact["lowest"] = _n(min(v for v, _ in valued))
                fact["highest"] = _n(max(v for v, _ in valued))
                if latest.reference_low is not None:
                    low = _canonical(latest, latest.reference_low)
                    if low is not None and value < low:
                        fact["below_ref"] = 1
            sites = {r.site.replace("http://snomed.info/sct", "sct") for r in present if r.site}
            fact["sites"] = len(sites)
            for site in sites:
                if site in SITES:
                    fact[f"site_{SITES[site]}"] = 1
            times = [(r.time, as_of if r.ongoing else (r.end or r.time)) for r in present if r.time]
            if times:
                first = min(start for start, _ in times)
                last = max(end for _, end in times)
                fact["span"] = _n((last - first).total_seconds() / 86400)
        out.append(fact)
    return out


# -- the session ------------------------------------------------------------------------------


class BareHost(durable.Host):  # type: ignore[misc]
    """A durable_rules Host that starts no timer threads and hands every action to
    `on_action`."""

    def __init__(self) -> None:
        self.on_action: Callable[[str, Any], None] | None = None
        super().__init__()

    def _run(self) -> None:
        """No timer threads."""

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        def action(closure: Any) -> None:
            if self.on_action is not None:
                self.on_action(action_name, closure)

        return action


class Answer:
    __slots__ = ("escalation", "findings", "rules")

    def __init__(self, escalation: str, rules: frozenset[str], findings: frozenset[str]) -> None:
        self.escalation, self.rules, self.findings = escalation, rules, findings


class DurableDirect:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._host = BareHost()
        self._host.register_rulesets({NAME: definition()})
        self._sessions = itertools.count(1)

    def evaluate(self, records: Iterable[Record], as_of: datetime) -> Answer:
        concept_facts = facts(records, as_of)
        with self._lock:
            host = self._host
            sid = f"p{next(self._sessions)}"
            ids = itertools.count(1)
            fired: set[str] = set()
            suggested: list[str] = []
            derived: set[str] = set()
            errors: list[BaseException] = []

            def on_action(name: str, closure: Any) -> None:
                if name == END or errors or name in fired:
                    return
                try:
                    fired.add(name)
                    _, derives, suggests = RULES[name]
                    if suggests:
                        suggested.append(name)
                        closure.assert_fact(
                            {"sid": sid, "id": f"x{next(ids)}", "rank": RANK[suggests]}
                        )
                    if derives and derives not in derived:
                        derived.add(derives)
                        closure.assert_fact({"sid": sid, "id": f"x{next(ids)}", "f": derives})
                except durable.MessageNotHandledException:
                    pass  # a fact no rule reads
                except BaseException as error:
                    errors.append(error)

            host.on_action = on_action
            try:
                for fact in concept_facts:
                    self._assert(sid, {"sid": sid, "id": f"x{next(ids)}", **fact}, optional=True)
                    if errors:
                        raise errors[0]
                for stage in (1, 2):
                    self._assert(
                        sid, {"sid": sid, "id": f"x{next(ids)}", "stage": stage}, optional=True
                    )
                    if errors:
                        raise errors[0]
                self._assert(sid, {"sid": sid, "id": f"x{next(ids)}", "end": 1}, optional=False)
            finally:
                host.on_action = None
                host.delete_state(NAME, sid)
        levels = [level for r in suggested if (level := RULES[r][2]) is not None]
        escalation = max(levels, key=RANK.__getitem__, default="none")
        return Answer(escalation, frozenset(suggested), frozenset(derived - {"in-scope"}))

    def _assert(self, sid: str, fact: dict[str, Any], *, optional: bool) -> None:
        try:
            self._host.assert_fact(NAME, fact)
        except durable.MessageNotHandledException:
            if not optional:
                raise RuntimeError(f"durable_rules did not handle {fact}") from None
        except durable.MessageObservedException:
            raise RuntimeError(f"durable_rules took {fact} for a fact it had seen") from None
