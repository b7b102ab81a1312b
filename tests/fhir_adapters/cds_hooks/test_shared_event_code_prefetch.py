"""A code in two event concepts of different resources is asked for in both searches: the
hyperkalaemia ruleset's ECG (SNOMED 268400002) as a ServiceRequest and as a Procedure."""

from __future__ import annotations

from engine import load_ruleset
from fhir_adapters.cds_hooks.prefetch import prefetch_templates

ECG = "http://snomed.info/sct|268400002"


def test_the_ecg_code_is_searched_as_a_request_and_as_a_procedure() -> None:
    templates = prefetch_templates(load_ruleset("hyperkalaemia"))
    assert templates["procedures"].startswith("Procedure?patient=")
    assert ECG in templates["procedures"]
    assert templates["service-requests"].startswith("ServiceRequest?patient=")
    assert ECG in templates["service-requests"]
