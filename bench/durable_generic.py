"""Any Vigil ruleset run on durable_rules used directly: the floor for a ruleset's benchmark
(see bench/README.md).

The ruleset's compiled definition runs on a bare durable_rules `Host`: no timers, one lock, a
fresh session a patient, the sentinel first, `delete_state` in a `finally`, action errors
raised again. Its facts are the ones Vigil's own `with_scores`, `summarise`, `supersede` and
`concept_fact` compute (a direct implementation must compute them too, so that work is
timed); its actions only note which rule fired and assert what other rules read. The answer
is the escalation, the suggesting rules and the derived findings.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from durable import engine as durable

from engine.compiler import END_RULE, SCOPE_FINDING, compile_ruleset
from engine.evidence import supersede, with_scores
from engine.facts import concept_fact
from engine.levels import ladder
from engine.measures import Context
from engine.model import Ruleset
from engine.records import Record
from engine.regions import share_a_region
from engine.summary import summarise


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


class DurableGeneric:
    """`evaluate(records, as_of)` for one ruleset on a bare durable_rules Host of its own."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self.compiled = compile_ruleset(ruleset)
        self.levels = ladder(ruleset)
        # a name of its own: Vigil's runtime creates the same definition under the compiled name
        self.name = f"bench-durable-generic:{ruleset.id}:{self.compiled.name.rsplit(':', 1)[-1]}"
        self._lock = threading.Lock()
        self._host = BareHost()
        self._host.register_rulesets({self.name: self.compiled.definition})
        self._sessions = itertools.count(1)

    def facts(self, records: Iterable[Record], as_of: datetime) -> list[dict[str, Any]]:
        """One fact per concept some rule reads, with the attributes and measures rules test."""
        compiled, ruleset = self.compiled, self.ruleset
        # as Vigil reads them: scores standing as findings, superseded reports left out
        summaries, warnings = summarise(
            with_scores(records, ruleset), ruleset, as_of, history=compiled.history
        )
        summaries = supersede(summaries, ruleset, share_a_region)
        context = Context(ruleset, summaries, as_of, warnings) if compiled.measures else None
        return [
            concept_fact(
                summaries[name], compiled.attributes[name], warnings, context, compiled.measures
            )
            for name in sorted(compiled.concepts & summaries.keys())
        ]

    def evaluate(self, records: Iterable[Record], as_of: datetime) -> Answer:
        compiled, levels = self.compiled, self.levels
        concept_facts = self.facts(records, as_of)
        with self._lock:
            sid = f"p{next(self._sessions)}"
            ids = itertools.count(1)
            fired: set[str] = set()
            suggested: dict[str, str] = {}
            derived: set[str] = set()
            errors: list[BaseException] = []

            def new(fact: dict[str, Any]) -> dict[str, Any]:
                return {"sid": sid, "id": f"x{next(ids)}", **fact}

            def on_action(name: str, closure: Any) -> None:
                if name == END_RULE or errors:
                    return
                rule = compiled.branches[name].rule
                if rule.id in fired:
                    return  # another branch of the same rule fired first
                try:
                    fired.add(rule.id)
                    then = rule.then
                    chained: list[dict[str, Any]] = []
                    if then.suggest:
                        suggested[rule.id] = then.suggest
                        if compiled.reads_suggestions:
                            chained.append({"t": "s", "rank": levels.rank(then.suggest)})
                    if then.derive and then.derive not in derived:
                        derived.add(then.derive)
                        if then.derive in compiled.findings:
                            chained.append({"t": "f", "f": then.derive})
                    for fact in chained:
                        for copy in compiled.copies(fact):
                            closure.assert_fact(new(copy))
                except durable.MessageNotHandledException:
                    pass  # a fact no rule reads
                except BaseException as error:
                    errors.append(error)

            self._host.on_action = on_action
            try:
                self._assert(new({"t": "end"}), optional=False)
                stages = [{"t": "g", "n": stage} for stage in compiled.stages]
                for fact in [*concept_facts, *stages]:
                    for copy in compiled.copies(fact):
                        self._assert(new(copy), optional=True)
                        if errors:
                            raise errors[0]
            finally:
                self._host.on_action = None
                self._host.delete_state(self.name, sid)
        escalation = levels.highest(suggested.values())
        return Answer(escalation, frozenset(suggested), frozenset(derived - {SCOPE_FINDING}))

    def _assert(self, fact: dict[str, Any], *, optional: bool) -> None:
        try:
            self._host.assert_fact(self.name, fact)
        except durable.MessageNotHandledException:
            if not optional:
                raise RuntimeError(f"durable_rules did not handle {fact}") from None
        except durable.MessageObservedException:
            raise RuntimeError(f"durable_rules took {fact} for a fact it had seen") from None
