"""The one seam between the service and the engine: a patient's resources in, an Evaluation out.

The default calls `fhir_adapters.evaluate_bundle`, which runs the rules under the engine's
Evaluator (it serialises durable_rules calls; concurrency comes from worker processes). Tests pass
their own function with the same signature.

The resources are read as the CLI reads one file, so copies of a resource are chosen among, and
warned of, as there. The warnings the CLI prints beside the results (a copy left out, a resource
without a patient) are the card's too: everything the service reads is the one patient's chart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from engine.evaluation import Evaluation
from engine.model import Ruleset

from ..cache import ResourceCache
from ..reading import load_resources

# (ruleset, "Patient/<id>", the patient's resources) -> its Evaluation, or None when the
# resources say nothing about that patient.
Evaluate = Callable[[Ruleset, str, Sequence[dict[str, Any]]], Evaluation | None]

# How warnings name where a copy was read: "the copy at the EHR's data entry 3 is used".
ORIGIN = "the EHR's data"

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
    results = evaluate_bundle(load_resources(bundle, origin=ORIGIN), ruleset, cache=RESOURCES)
    for result in results:
        if result.patient == patient:
            evaluation: Evaluation = result.evaluation
            if results.warnings:
                evaluation = replace(evaluation, warnings=(*evaluation.warnings, *results.warnings))
            return evaluation
    return None


__all__ = ["ORIGIN", "Evaluate", "evaluate_with_library"]
