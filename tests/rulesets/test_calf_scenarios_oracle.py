"""Every calf-fasciculation 2.1.0 scenario (`scenarios/`) agrees with the plain-Python oracle.

Each scenario is built into its FHIR Bundle the way `vigil test` builds it; the scenario
patient's resources (and any Medication) go to `tests.calf_oracle.evaluate` at the
scenario's `now`, and its `escalation`, `fired`, `fired exactly` and `not fired` must hold
for the oracle's answer. Scenarios where the oracle departs from the specification are listed
in `ORACLE_FAULTS` with the spec section it gets wrong; they are expected to fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fhir_adapters.scenarios import Scenario, load_scenario
from tests.calf_oracle import evaluate

FOLDER = Path(__file__).resolve().parents[2] / "rulesets" / "calf_fasciculation" / "scenarios"
SCENARIOS = sorted(FOLDER.glob("*.yaml"))

# scenario file name -> how the oracle departs from the specification (it is expected to fail)
ORACLE_FAULTS: dict[str, str] = {}


def patient_resources(scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario patient's resources, its Patient and every Medication (which has no subject)."""
    own = f"Patient/{scenario.patient}"
    chosen = []
    for entry in scenario.bundle["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        subject = resource.get("subject") or resource.get("patient") or {}
        mine = subject.get("reference") == own
        itself = kind == "Patient" and resource.get("id") == scenario.patient
        if mine or itself or kind == "Medication":
            chosen.append(resource)
    return chosen


def disagreements(scenario: Scenario) -> list[str]:
    answer = evaluate(patient_resources(scenario), scenario.now)
    expect = scenario.expect
    fired = set(answer.rules)
    problems = []
    if expect.escalation is not None and expect.escalation != answer.escalation:
        problems.append(f"escalation: expected {expect.escalation}, oracle {answer.escalation}")
    if missing := set(expect.fired) - fired:
        problems.append(f"expected to fire, oracle did not: {sorted(missing)}")
    if wrong := set(expect.not_fired) & fired:
        problems.append(f"expected not to fire, oracle fired: {sorted(wrong)}")
    if expect.fired_exactly is not None and set(expect.fired_exactly) != fired:
        problems.append(
            f"fired exactly: expected {sorted(expect.fired_exactly)}, oracle {sorted(fired)}"
        )
    return problems


def params() -> list[Any]:
    marked = []
    for path in SCENARIOS:
        marks = []
        if path.name in ORACLE_FAULTS:
            marks.append(pytest.mark.xfail(reason=ORACLE_FAULTS[path.name], strict=True))
        marked.append(pytest.param(path, id=path.stem, marks=marks))
    return marked


def test_the_oracle_faults_name_existing_scenarios() -> None:
    names = {path.name for path in SCENARIOS}
    assert set(ORACLE_FAULTS) <= names


@pytest.mark.parametrize("path", params())
def test_the_scenario_agrees_with_the_oracle(path: Path) -> None:
    scenario = load_scenario(path)
    assert disagreements(scenario) == [], f"{path.name}: {scenario.name}"
