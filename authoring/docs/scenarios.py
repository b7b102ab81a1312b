"""The scenario table of the review page: each scenario file run against the ruleset.

A row says what the scenario is, the level it expects and the level it got, and whether it
passed; a file that cannot be read or names an unknown rule is a failed row saying why,
so one bad file never hides the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engine import Ruleset, VigilError
from fhir_adapters.scenarios import ScenarioError, load_scenario, run_scenario, scenario_files


@dataclass(frozen=True, slots=True)
class ScenarioRow:
    file: str
    name: str
    expected: str | None  # the escalation level it expects, None: not stated
    got: str | None  # None: not evaluated
    passed: bool
    failures: tuple[str, ...] = ()


def run_scenarios(ruleset: Ruleset, paths: Iterable[Path]) -> list[ScenarioRow]:
    """Run each scenario file against `ruleset`, in the order given."""
    return [scenario_row(ruleset, path) for path in paths]


def folder_scenarios(ruleset: Ruleset, folder: Path) -> list[ScenarioRow]:
    """Run every scenario file of a ruleset folder's `scenarios/`."""
    return run_scenarios(ruleset, scenario_files(folder))


def scenario_row(ruleset: Ruleset, path: Path) -> ScenarioRow:
    try:
        scenario = load_scenario(path)
        outcome = run_scenario(scenario, ruleset)
    except ScenarioError as error:
        problems = tuple(str(problem) for problem in error.problems)
        return ScenarioRow(path.name, path.stem, None, None, False, problems)
    except VigilError as error:  # the engine failing on this scenario's data
        why = f"{path}: {' '.join(str(error).split())}"
        return ScenarioRow(path.name, path.stem, None, None, False, (why,))
    got = outcome.result.escalation if outcome.result is not None else None
    return ScenarioRow(
        path.name,
        scenario.name,
        scenario.expect.escalation,
        got,
        outcome.passed,
        outcome.failures,
    )
