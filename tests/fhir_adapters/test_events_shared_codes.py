"""A code in two event concepts of different resources: each resource means only the concept
of its own type (a ServiceRequest for an ECG is "ECG requested", a Procedure "ECG done")."""

from __future__ import annotations

import dataclasses

from engine import Ruleset

from .conftest import concept
from .shapes import SCT, bundle, coded, read, shapes_ruleset
from .test_events import procedure, service_request

ECG = "268400002"  # 12 lead electrocardiogram, in `ecg_done` (a Procedure) of the shapes ruleset


def ecg_ruleset() -> Ruleset:
    base = shapes_ruleset()
    requested = concept("ecg_requested", f"sct#{ECG}", kind="event", resource="ServiceRequest")
    return dataclasses.replace(base, concepts={**base.concepts, "ecg_requested": requested})


def test_a_request_and_a_procedure_of_one_code_mean_their_own_concepts() -> None:
    resources = (procedure("ecg", ECG), service_request(id="ecg-order", code=coded(SCT, ECG)))
    records, warnings = read(bundle(*resources), ecg_ruleset())
    assert warnings == []
    assert sorted((r.concept, r.source) for r in records) == [
        ("ecg_done", "Procedure/ecg"),
        ("ecg_requested", "ServiceRequest/ecg-order"),
    ]


def test_a_status_that_counts_for_one_resource_is_judged_by_its_own_concept() -> None:
    # `completed` counts for both; `active` is a ServiceRequest's status, not a Procedure's
    request = service_request(id="ecg-order", code=coded(SCT, ECG), status="active")
    records, warnings = read(
        bundle(request, procedure("ecg", ECG, status="in-progress")), ecg_ruleset()
    )
    assert [(r.concept, r.source) for r in records] == [
        ("ecg_requested", "ServiceRequest/ecg-order")
    ]
    assert warnings == ["Procedure/ecg: status 'in-progress' does not count for ecg done: left out"]
