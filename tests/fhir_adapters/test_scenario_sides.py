"""A scenario gives a finding a body site and its side: `site:` and `side:` (left, right, both),
written as a FHIR bodySite with the mCODE laterality qualifier."""

from __future__ import annotations

from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class

from engine.loader import load_text
from fhir_adapters.body_sites import LATERALITY_URL
from fhir_adapters.scenarios import ScenarioError, load_scenario, run_scenario
from tests.engine.regioned import REGIONS

CASE = """\
scenario: Swelling of the left calf, twitching in both calves
now: 2026-07-01T12:00:00Z
data:
  - observation: sct#449754000
    site: sct#53840002
    side: left
    at: -1 day
  - condition: sct#82470000
    site: sct#53840002
    side: both
    onset: -3 days
expect:
  escalation: urgent
  fired: [one-sided]
"""


def test_a_side_becomes_the_laterality_qualifier_and_is_read(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(CASE)
    case = load_scenario(path)
    observation, condition = (e["resource"] for e in case.bundle["entry"][1:])
    [extension] = observation["bodySite"]["extension"]
    assert extension["url"] == LATERALITY_URL
    assert extension["valueCodeableConcept"]["coding"][0]["code"] == "7771000"
    [site] = condition["bodySite"]
    assert site["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "51440002"
    for resource in (observation, condition):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    outcome = run_scenario(case, load_text(REGIONS))
    assert outcome.passed, outcome.failures
    assert outcome.result is not None
    found = {f.name for f in outcome.result.evaluation.findings}
    assert {"one-sided-swelling", "widespread"} <= found


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("    site: sct#53840002\n    side: up\n", "6:11: side is left, right or both, not 'up'"),
        ("    side: left\n", "5:11: a side needs its site: give site: too"),
    ],
)
def test_a_side_that_cannot_be_written_is_reported_at_its_line(
    tmp_path: Path, entry: str, message: str
) -> None:
    text = (
        "scenario: Bad side\nnow: 2026-07-01T12:00:00Z\ndata:\n"
        f"  - observation: sct#449754000\n{entry}expect:\n  escalation: none\n"
    )
    path = tmp_path / "case.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems] == [message]
