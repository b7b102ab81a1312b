"""For a failing scenario, how near each rule it expected came to firing (`authoring.explain`)."""

from __future__ import annotations

from collections.abc import Sequence

from engine import Evaluator, Ruleset
from fhir_adapters.scenarios import Outcome

from ..explain import explain_examined, nearest_miss


def nearest_misses(ruleset: Ruleset, outcome: Outcome, rules: Sequence[str]) -> tuple[str, ...]:
    """One line per rule of `rules` (expected to fire, did not) naming its first failing
    condition with the scenario's value ("potassium 2.6 mmol/L ... is not below 2.5 mmol/L").
    The scenario's records are evaluated again, examined, at the scenario's `now`: only failing
    scenarios pay for it."""
    if not rules or outcome.result is None:
        return ()
    examined = Evaluator(ruleset).examine(outcome.records, None, now=outcome.scenario.now)
    explained = explain_examined(outcome.result.patient, examined)
    lines = (nearest_miss(explained, [rule]) for rule in rules)
    return tuple(line.removeprefix("nearest miss: ") for line in lines if line is not None)
