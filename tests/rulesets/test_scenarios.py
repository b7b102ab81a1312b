"""Every packaged ruleset's scenarios pass, and together they check every suggesting rule both
firing and not firing: the same code as `vigil test` (`authoring.run_suite`), once a session."""

from __future__ import annotations

import pytest

import engine
from authoring.testing import render_text
from authoring.testing.render import failure_block
from tests.rulesets.conftest import Suites

RULESETS = sorted(engine.packaged_rulesets(every=True))  # drafts too: their scenarios must pass


@pytest.mark.parametrize("ruleset_id", RULESETS)
def test_every_scenario_passes(ruleset_id: str, packaged_suite: Suites) -> None:
    report = packaged_suite(ruleset_id)
    assert report.scenarios, f"{ruleset_id} has no scenarios"
    blocks = "\n\n".join("\n".join(failure_block(s)) for s in report.failed)
    assert not report.failed, blocks


@pytest.mark.parametrize("ruleset_id", RULESETS)
def test_every_suggestion_is_seen_firing_and_not_firing(
    ruleset_id: str, packaged_suite: Suites
) -> None:
    report = packaged_suite(ruleset_id)
    assert report.unchecked == (), "\n".join(report.unchecked)
    assert report.exit_code == 0, render_text(report)
