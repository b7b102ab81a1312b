"""bench/scenario_population.py: a seeded FHIR population grown from a ruleset's scenarios."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import engine
import fhir_adapters
from bench.scenario_population import AS_OF, main, population

HYPERKALAEMIA = Path(engine.packaged_rulesets()["hyperkalaemia"]).parent


def test_the_same_seed_gives_the_same_patients_and_another_seed_others() -> None:
    first = population(HYPERKALAEMIA, 40)
    assert first == population(HYPERKALAEMIA, 40)
    assert first != population(HYPERKALAEMIA, 40, seed=1)


def test_every_patient_is_read_as_its_own_with_unique_resource_ids() -> None:
    resources = population(HYPERKALAEMIA, 60)
    ids = Counter((r["resourceType"], r["id"]) for r in resources)
    assert max(ids.values()) == 1
    results = fhir_adapters.evaluate_bundle(resources, engine.load_ruleset("hyperkalaemia"), AS_OF)
    assert len(results) == 60
    assert {r.patient for r in results} == {f"Patient/pop{i}" for i in range(60)}
    # the population reaches more than one level
    assert len({r.escalation for r in results}) >= 3


def test_the_script_writes_a_population_file(tmp_path: Path) -> None:
    out = tmp_path / "population.json"
    assert main(["hyperkalaemia", "5", "-o", str(out)]) == 0
    resources = json.loads(out.read_text())
    assert resources == population(HYPERKALAEMIA, 5)
