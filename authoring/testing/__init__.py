"""`vigil test` as a library: run a ruleset's scenarios (`run_suite`), read the report, render
it, and rewrite failing expectations (`update`)."""

from ..source import ruleset_folder
from .boundaries import Boundary
from .differences import Difference
from .folder import scenario_path
from .render import render_rich, render_text
from .suite import (
    RuleCoverage,
    RuleFired,
    ScenarioReport,
    SuiteReport,
    load_scenarios,
    run_suite,
)
from .update import Updated, UpdateError, update

__all__ = [
    "Boundary",
    "Difference",
    "RuleCoverage",
    "RuleFired",
    "ScenarioReport",
    "SuiteReport",
    "UpdateError",
    "Updated",
    "load_scenarios",
    "render_rich",
    "render_text",
    "ruleset_folder",
    "run_suite",
    "scenario_path",
    "update",
]
