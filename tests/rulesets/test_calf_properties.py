"""The calf-fasciculation 2.1.0 ruleset against the spec's plain-Python reading.

Random patients (FHIR resources from `tests.rulesets.calf_patients`) and the example patients
(`examples/calf-patients.json`) are evaluated through `fhir_adapters.evaluate_bundle` with the
packaged ruleset; the escalation and the fired rules of the spec's §7 must equal the oracle's
(`tests.calf_oracle`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from engine.loader import load_file
from engine.model import Ruleset
from fhir_adapters import evaluate_bundle
from tests.calf_oracle import RULES, evaluate
from tests.rulesets.calf_patients import AS_OF, patient

ROOT = Path(__file__).parents[2]
RULESET_PATH = ROOT / "rulesets" / "calf_fasciculation" / "ruleset.yaml"
EXAMPLES = ROOT / "examples" / "calf-patients.json"
EXAMPLES_AS_OF = datetime(2026, 3, 1, 12, tzinfo=UTC)
Resource = dict[str, Any]

_LOADED: list[Ruleset] = []


def ruleset() -> Ruleset:
    """The packaged 2.1.0 ruleset, loaded once."""
    if not _LOADED:
        _LOADED.append(load_file(RULESET_PATH))
    return _LOADED[0]


def engine_answer(resources: list[Resource], as_of: datetime) -> dict[str, tuple[str, set[str]]]:
    """Per patient id: the escalation and the §7 rules that fired."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }
    found = {}
    for result in evaluate_bundle(bundle, ruleset(), as_of):
        fired = {s.rule for s in result.evaluation.suggestions if s.rule in RULES}
        found[result.patient.removeprefix("Patient/")] = (result.escalation, fired)
    return found


def oracle_answer(resources: list[Resource], as_of: datetime) -> tuple[str, set[str]]:
    answer = evaluate(resources, as_of)
    return answer.escalation, set(answer.rules)


def test_the_ruleset_has_the_specs_rules_in_its_order() -> None:
    suggesting = [r.id for r in ruleset().rules if r.id in RULES]
    assert suggesting == list(RULES)


def example_patients() -> dict[str, list[Resource]]:
    bundle = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    resources = [entry["resource"] for entry in bundle["entry"]]
    patients: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        if resource["resourceType"] == "Patient":
            patients[resource["id"]].append(resource)
    for resource in resources:
        subject = resource.get("subject", {}).get("reference", "")
        if subject.startswith("Patient/"):
            patients[subject.removeprefix("Patient/")].append(resource)
    medications = [r for r in resources if r["resourceType"] == "Medication"]
    return {p: [*rs, *medications] for p, rs in patients.items()}


@pytest.mark.parametrize("name", sorted(example_patients()))
def test_each_example_patient_matches_the_oracle(name: str) -> None:
    resources = example_patients()[name]
    found = engine_answer(resources, EXAMPLES_AS_OF)
    assert found[name] == oracle_answer(resources, EXAMPLES_AS_OF)


# 150 derandomized patients reach every escalation and 25 of the §7 rules, against 28 for the
# 400 this test ran before (the examples drawn depend on the number asked for); the long run,
# 2000 by default or a sample of its own with --seed, is bench/calf_properties_soak.py.
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(patient())
def test_random_patients_get_the_oracles_escalation_and_rules(resources: list[Resource]) -> None:
    found = engine_answer(resources, AS_OF)
    assert found.get("p") == oracle_answer(resources, AS_OF)
