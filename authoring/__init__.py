"""Tools for clinicians who write rulesets: check, lint, test, explain, document, compare.

A layer above `engine` and `fhir_adapters` and below the `vigil` command line: every command of
the authoring guide is a thin shell over a function here, which a test calls directly.

    import authoring
    authoring.check("my-ruleset/").findings          # what loading rejects, located
    authoring.lint(*authoring.load_with_source("my-ruleset/"))
    authoring.run_suite("my-ruleset/").failed        # its scenarios
    authoring.explain("my-ruleset/", "patient.json", as_of=when)
"""

from .check import CheckReport, check
from .diff import RulesetDiff, diff_rulesets, population_impact
from .docs import write_docs
from .explain import Explanation, explain, nearest_miss
from .findings import Finding
from .lint import lint
from .new import new_ruleset
from .release import previous_release, release_findings
from .source import load_with_source, ruleset_file, ruleset_folder
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
    "CheckReport",
    "Difference",
    "Explanation",
    "Finding",
    "RuleCoverage",
    "RuleFired",
    "RulesetDiff",
    "ScenarioReport",
    "SuiteReport",
    "check",
    "diff_rulesets",
    "explain",
    "lint",
    "load_with_source",
    "nearest_miss",
    "new_ruleset",
    "population_impact",
    "previous_release",
    "release_findings",
    "ruleset_file",
    "ruleset_folder",
    "run_suite",
    "write_docs",
]
