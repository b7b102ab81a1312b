"""A worker's preparation before its first call: warm every path a call takes, then move what
will live as long as the process out of the garbage collector's way.

The first call in a new process paid about 80 ms for what Python, pydantic, fhir.resources and
durable_rules set up on first use; an EHR waiting on a chart should not. And a full collection
walks every object alive (modules, models, the rulesets: about 90,000 of them once loaded), a
pause of 15 ms or more that lands on whichever calls are in flight; frozen, they are skipped.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.model import Ruleset

from ..cache import ResourceCache
from ..cards import build_cards
from ..evaluate import evaluate_bundle

UCUM = "http://unitsofmeasure.org"
PATIENT = "Patient/vigil-warm-up"
# Collect the youngest objects less often (a call makes thousands that die young) and the
# oldest rarely: caches are long-lived and hold no cycles, so walking them finds nothing.
THRESHOLDS = (7_000, 20, 100)


def prepare_worker(rulesets: Iterable[Ruleset]) -> None:
    """Evaluate a made-up patient with each ruleset and build its cards, then freeze the heap."""
    for ruleset in rulesets:
        for result in evaluate_bundle(warm_up_bundle(ruleset), ruleset, cache=ResourceCache()):
            build_cards(result.evaluation, result.patient)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


def warm_up_bundle(ruleset: Ruleset) -> dict[str, Any]:
    """One Observation for every concept of the ruleset: a finding present, or a quantity of 1
    in the concept's unit, all recorded yesterday."""
    when = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    entries = []
    for n, concept in enumerate(ruleset.concepts.values()):
        code = concept.codes[0]
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "id": f"warm-up-{n}",
            "status": "final",
            "code": {"coding": [{"system": code.system, "code": code.code}]},
            "subject": {"reference": PATIENT},
            "effectiveDateTime": when,
        }
        if concept.unit is None:
            observation["valueBoolean"] = True
        else:
            unit = concept.unit
            observation["valueQuantity"] = {"value": 1, "unit": unit, "system": UCUM, "code": unit}
        entries.append({"resource": observation})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


__all__ = ["THRESHOLDS", "prepare_worker", "warm_up_bundle"]
