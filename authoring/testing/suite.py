"""Run a ruleset's scenario files and report what a clinician needs: each failure with what was
expected against what the ruleset gave and the rules that fired with their values, which rules
the scenarios check both ways, and which parameter boundaries no scenario sits on.

`run_suite` is the one path: `vigil test`, and pytest for every packaged ruleset, call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine import Ruleset, load_ruleset
from engine.errors import Problem
from engine.explanation import reason
from fhir_adapters.scenarios import (
    Outcome,
    Scenario,
    ScenarioError,
    check_mentions,
    coverage,
    load_scenario,
    run_scenario,
    scenario_files,
)

from ..source import ruleset_folder
from .boundaries import Boundary, boundaries
from .differences import Difference, differences
from .folder import scenario_path
from .nearest_miss import nearest_misses


@dataclass(frozen=True, slots=True)
class RuleFired:
    """A suggesting rule that fired in a scenario, its level, and what it matched: one line per
    fact, values with units and their source resources (`potassium: latest 2.4 mmol/L
    (Observation/k)`)."""

    rule: str
    level: str
    title: str
    matched: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "level": self.level,
            "title": self.title,
            "matched": list(self.matched),
        }


@dataclass(frozen=True)
class ScenarioReport:
    """One scenario's result. `failures` are the scenario checker's own lines; `differences`
    the same, as expected against got per `expect:` key; `nearest_misses` (see
    `nearest_miss`) why expected rules did not fire."""

    file: Path
    name: str
    line: int  # the line of `expect:` (1 when it cannot be located)
    failures: tuple[str, ...]
    differences: tuple[Difference, ...] = ()
    fired: tuple[RuleFired, ...] = ()
    nearest_misses: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # what the engine could not use of the scenario's data
    outcome: Outcome | None = field(default=None, compare=False, repr=False)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, object]:
        return {
            "file": str(self.file),
            "line": self.line,
            "scenario": self.name,
            "passed": self.passed,
            "failures": list(self.failures),
            "differences": [d.to_dict() for d in self.differences],
            "fired": [f.to_dict() for f in self.fired],
            "nearest_misses": list(self.nearest_misses),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class RuleCoverage:
    """How a rule fared over the scenarios: how many it fired in and not, and (a suggesting
    rule) whether some scenario's `expect:` checks it firing and not firing."""

    rule: str
    line: int
    suggesting: bool
    fired_in: int
    not_fired_in: int
    checked_firing: bool
    checked_not_firing: bool

    @property
    def complete(self) -> bool:
        if self.suggesting:
            return self.checked_firing and self.checked_not_firing
        return self.fired_in > 0 and self.not_fired_in > 0

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "suggesting": self.suggesting,
            "fired_in": self.fired_in,
            "not_fired_in": self.not_fired_in,
            "checked_firing": self.checked_firing,
            "checked_not_firing": self.checked_not_firing,
        }


@dataclass(frozen=True)
class SuiteReport:
    """A ruleset's scenarios run. `whole_folder`: the run was every file of `scenarios/`, so
    `rules` and `boundaries` (empty otherwise) say what the scenarios leave untested."""

    ruleset: str
    version: str
    source: Path | None
    scenarios: tuple[ScenarioReport, ...]
    whole_folder: bool
    rules: tuple[RuleCoverage, ...] = ()
    boundaries: tuple[Boundary, ...] = ()

    @property
    def failed(self) -> tuple[ScenarioReport, ...]:
        return tuple(s for s in self.scenarios if not s.passed)

    @property
    def unchecked(self) -> tuple[str, ...]:
        """Lines naming each suggesting rule no scenario expects to fire, or not to fire."""
        return (
            *(
                f"no scenario expects {r.rule} to fire"
                for r in self.rules
                if r.suggesting and not r.checked_firing
            ),
            *(
                f"no scenario expects {r.rule} not to fire"
                for r in self.rules
                if r.suggesting and not r.checked_not_firing
            ),
        )

    @property
    def exit_code(self) -> int:
        """0 when every scenario passed and every suggesting rule is checked both ways; 1
        otherwise (boundaries are advice and never fail a run)."""
        return 1 if self.failed or self.unchecked or not self.scenarios else 0

    def to_dict(self) -> dict[str, object]:
        return {
            "ruleset": self.ruleset,
            "version": self.version,
            "source": str(self.source) if self.source is not None else None,
            "passed": len(self.scenarios) - len(self.failed),
            "failed": len(self.failed),
            "scenarios": [s.to_dict() for s in self.scenarios],
            "whole_folder": self.whole_folder,
            "unchecked": list(self.unchecked),
            "rules": [r.to_dict() for r in self.rules],
            "boundaries": [b.to_dict() for b in self.boundaries],
        }


def load_scenarios(
    ref: str | Path, names: Sequence[str | Path] | None = None, ruleset: Ruleset | None = None
) -> list[Scenario]:
    """The scenarios of a ruleset reference: those named (paths, or names in its `scenarios/`),
    else every file of its `scenarios/` folder. Raises `ScenarioError` with the problems of
    every file that cannot be read, or (given the `ruleset`) names a rule or note it lacks."""
    folder = ruleset_folder(ref)
    problems: list[Problem] = []
    paths: list[Path] = []
    for name in names or ():
        try:
            paths.append(scenario_path(folder, name))
        except ScenarioError as error:
            problems.extend(error.problems)
    if not names:
        paths = scenario_files(folder)
    scenarios: list[Scenario] = []
    for path in paths:
        try:
            scenario = load_scenario(path)
            if ruleset is not None:
                check_mentions(scenario, ruleset)
        except ScenarioError as error:
            problems.extend(error.problems)
        else:
            scenarios.append(scenario)
    if problems:
        raise ScenarioError(problems)
    return scenarios


def run_suite(
    ref: str | Path | Ruleset, scenarios: Sequence[str | Path] | None = None
) -> SuiteReport:
    """Run the scenarios of a ruleset (a packaged id, a folder, its ruleset.yaml, or a loaded
    Ruleset with a source): those named, else every file of its `scenarios/` folder.

    Raises `RulesetError` for a ruleset that cannot be loaded and `ScenarioError` (every
    problem of every file) for scenario files that cannot be read or name unknown rules."""
    ruleset = ref if isinstance(ref, Ruleset) else load_ruleset(ref)
    where: str | Path = ref if not isinstance(ref, Ruleset) else (ruleset.source or Path("."))
    outcomes = [run_scenario(s, ruleset) for s in load_scenarios(where, scenarios, ruleset)]
    reports = tuple(scenario_report(ruleset, o) for o in outcomes)
    whole = not scenarios
    return SuiteReport(
        ruleset.id,
        ruleset.version,
        ruleset.source,
        reports,
        whole,
        rule_coverage(ruleset, outcomes) if whole else (),
        tuple(boundaries(ruleset, ((str(o.scenario.file), o.records) for o in outcomes)))
        if whole
        else (),
    )


def scenario_report(ruleset: Ruleset, outcome: Outcome) -> ScenarioReport:
    """The report of one scenario run: for a failure, the differences, the rules that fired
    with their matched values, and the nearest misses of the rules expected to fire."""
    scenario = outcome.scenario
    line = _expect_line(scenario)
    if outcome.passed or outcome.result is None:
        return ScenarioReport(scenario.file, scenario.name, line, outcome.failures, outcome=outcome)
    evaluation = outcome.result.evaluation
    firings = {f.rule: f for f in evaluation.trace}
    fired = tuple(
        RuleFired(
            s.rule,
            s.level,
            firings[s.rule].title if s.rule in firings else "",
            tuple(reason(m).removeprefix("- ") for m in firings[s.rule].matched)
            if s.rule in firings
            else (),
        )
        for s in evaluation.suggestions
    )
    expected = [*scenario.expect.fired, *(scenario.expect.fired_exactly or ())]
    missed = list(dict.fromkeys(r for r in expected if r not in outcome.fired))
    return ScenarioReport(
        scenario.file,
        scenario.name,
        line,
        outcome.failures,
        tuple(differences(scenario.expect, evaluation)),
        fired,
        nearest_misses(ruleset, outcome, missed),
        tuple(str(w) for w in evaluation.warnings),
        outcome,
    )


def rule_coverage(ruleset: Ruleset, outcomes: Sequence[Outcome]) -> tuple[RuleCoverage, ...]:
    """Every rule's count of scenarios it fired in and not, and (suggesting rules) whether the
    scenarios' expectations check it both ways."""
    gaps = coverage(ruleset, [o.scenario for o in outcomes])
    fired_in: dict[str, int] = {}
    for outcome in outcomes:
        if outcome.result is None:
            continue
        for rule in {f.rule for f in outcome.result.evaluation.trace}:
            fired_in[rule] = fired_in.get(rule, 0) + 1
    evaluated = sum(o.result is not None for o in outcomes)
    return tuple(
        RuleCoverage(
            rule.id,
            rule.line,
            bool(rule.then.suggest),
            fired_in.get(rule.id, 0),
            evaluated - fired_in.get(rule.id, 0),
            rule.id not in gaps.never_fired,
            rule.id not in gaps.never_not_fired,
        )
        for rule in ruleset.rules
    )


def _expect_line(scenario: Scenario) -> int:
    """The line of the scenario's `expect:` key, found in its text (1 if absent)."""
    try:
        lines = scenario.file.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((i for i, text in enumerate(lines, 1) if text.startswith("expect:")), 1)
