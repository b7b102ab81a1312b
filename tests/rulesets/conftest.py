"""The packaged rulesets' scenario suites, each run once per test session through
`authoring.run_suite`, the path `vigil test` takes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from authoring import SuiteReport, run_suite

Suites = Callable[[str], SuiteReport]


@pytest.fixture(scope="session")
def packaged_suite() -> Suites:
    """The report of a packaged ruleset's whole scenario folder, by id; run on first use."""
    reports: dict[str, SuiteReport] = {}

    def suite(ruleset_id: str) -> SuiteReport:
        if ruleset_id not in reports:
            reports[ruleset_id] = run_suite(ruleset_id)
        return reports[ruleset_id]

    return suite
