"""`evaluate_bundle`: a batch of patients read and evaluated as one."""

from __future__ import annotations

from pathlib import Path

from fhir_adapters import evaluate_bundle

EXAMPLES = Path(__file__).parents[2] / "examples" / "calf-patients.json"


def test_every_patient_of_a_batch_is_evaluated_at_one_time() -> None:
    # with no as_of, "now" is read once: a lookback edge cannot fall between two patients
    results = evaluate_bundle(EXAMPLES, "calf-fasciculation")
    times = {r.evaluation.as_of for r in results}
    assert len(results) > 1 and len(times) == 1
