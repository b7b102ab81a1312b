"""Tools for clinicians who write rulesets: check, lint, test, explain, document, compare.

A layer above `engine` and `fhir_adapters` and below the `vigil` command line: every command of
the authoring guide is a thin shell over a function here, which a test calls directly.
"""

from .findings import Finding
from .testing import (
    Boundary,
    Difference,
    RuleCoverage,
    RuleFired,
    ScenarioReport,
    SuiteReport,
    run_suite,
)

__all__ = [
    "Boundary",
    "Difference",
    "Finding",
    "RuleCoverage",
    "RuleFired",
    "ScenarioReport",
    "SuiteReport",
    "run_suite",
]
