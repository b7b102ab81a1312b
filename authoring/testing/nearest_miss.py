"""NEAREST MISS: the place where `authoring.explain` plugs into a failing scenario's report.

For each rule a failing scenario expected to fire and that did not, `nearest_misses` is to say
the first condition of that rule that failed, and by how much ("potassium 2.6 mmol/L is not
below 2.5 mmol/L"). Until `authoring.explain` is wired in here it says nothing, and the failure
block prints no nearest-miss lines; the report's shape (`ScenarioReport.nearest_misses`, one
text per line) and the JSON field stay as they are when it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine import Ruleset
from fhir_adapters.scenarios import Outcome


def nearest_misses(ruleset: Ruleset, outcome: Outcome, rules: Sequence[str]) -> tuple[str, ...]:
    """One line per rule of `rules` (expected to fire, did not) naming its first failing
    condition with the scenario's value; `outcome.records` and `outcome.scenario.now` are what
    the engine read. Empty until `authoring.explain` is wired in (TODO: wire explain here)."""
    del ruleset, outcome, rules
    return ()
