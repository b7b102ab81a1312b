"""Every packaged ruleset's scenarios pass, and together they exercise every suggestion both
firing and not firing."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from fhir_adapters.scenarios import coverage, load_scenario, run_scenario, scenario_files

RULESETS = engine.packaged_rulesets(every=True)  # drafts too: their scenarios must pass
SCENARIOS = [
    (ruleset_id, path)
    for ruleset_id, ruleset_file in RULESETS.items()
    for path in scenario_files(ruleset_file.parent)
]


@pytest.mark.parametrize(
    ("ruleset_id", "path"), SCENARIOS, ids=[f"{r}/{p.stem}" for r, p in SCENARIOS]
)
def test_scenario(ruleset_id: str, path: Path) -> None:
    outcome = run_scenario(load_scenario(path), engine.load_ruleset(ruleset_id))
    assert outcome.passed, f"{path.name}: " + "; ".join(outcome.failures)


@pytest.mark.parametrize("ruleset_id", sorted(RULESETS))
def test_every_suggestion_is_seen_firing_and_not_firing(ruleset_id: str) -> None:
    scenarios = [load_scenario(p) for p in scenario_files(RULESETS[ruleset_id].parent)]
    found = coverage(engine.load_ruleset(ruleset_id), scenarios)
    assert found.lines() == []
