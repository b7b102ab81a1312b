"""bench/hyperkalaemia_population.py: the one-patient Bundles of the FHIR benchmark."""

from __future__ import annotations

import pytest

import engine
import fhir_adapters
from bench.hyperkalaemia_population import AS_OF, bundle, patient_of_size


@pytest.mark.parametrize("size", [1, 10, 100, 1000])
def test_a_patient_of_n_resources_is_its_patient_and_n_others(size: int) -> None:
    resources = patient_of_size(size)
    assert resources[0]["resourceType"] == "Patient"
    assert len(resources) == size + 1
    assert len({(r["resourceType"], r["id"]) for r in resources}) == size + 1
    # a Specimen is only ever drawn with the result that names it
    named = {r["specimen"]["reference"] for r in resources if "specimen" in r}
    assert {f"Specimen/{r['id']}" for r in resources if r["resourceType"] == "Specimen"} <= named


def test_the_patient_is_read_as_one_patient_by_the_hyperkalaemia_ruleset() -> None:
    results = fhir_adapters.evaluate_bundle(
        bundle(patient_of_size(100)), engine.load_ruleset("hyperkalaemia"), AS_OF
    )
    assert [r.patient for r in results] == ["Patient/hk0"]
