"""The one seam between the service and the engine: a patient's resources in, an Evaluation out.

The default calls `fhir_adapters.evaluate_bundle`, which runs the rules under the engine's
Evaluator (it serialises durable_rules calls; concurrency comes from worker processes). Tests pass
their own function with the same signature.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from engine.evaluation import Evaluation
from engine.model import Ruleset

from ..cache import ResourceCache

# (ruleset, "Patient/<id>", the patient's resources) -> its Evaluation, or None when the
# resources say nothing about that patient.
Evaluate = Callable[[Ruleset, str, Sequence[dict[str, Any]]], Evaluation | None]


# One per worker process: a distinct resource an EHR sends again is not validated again.
RESOURCES = ResourceCache()


def evaluate_with_library(
    ruleset: Ruleset, patient: str, resources: Sequence[dict[str, Any]]
) -> Evaluation | None:
    from fhir_adapters import evaluate_bundle  # type: ignore[attr-defined,unused-ignore]

    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }
    for result in evaluate_bundle(bundle, ruleset, cache=RESOURCES):
        if result.patient == patient:
            evaluation: Evaluation = result.evaluation
            return evaluation
    return None


__all__ = ["Evaluate", "evaluate_with_library"]
