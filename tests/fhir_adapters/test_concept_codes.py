"""What a coding means depends on the resource it is on, however often it has been looked up."""

from __future__ import annotations

import engine
from fhir_adapters.concept_codes import concepts_for

POTASSIUM = ("http://loinc.org", "2823-3")


def names(resource_type: str, codings: list[tuple[object, object]]) -> list[str]:
    ruleset = engine.load_ruleset("hyperkalaemia")
    return [m.concept.name for m in concepts_for(ruleset, resource_type, codings)]


def test_a_coding_looked_up_again_means_the_same_on_each_resource_type() -> None:
    for _ in range(3):
        assert names("Observation", [POTASSIUM]) == ["potassium", "potassium_result"]
        assert names("Procedure", [POTASSIUM]) == []


def test_concepts_stay_distinct_in_coding_order_across_codings() -> None:
    codings: list[tuple[object, object]] = [
        ("http://loinc.org", "2160-0"),
        POTASSIUM,
        ("http://loinc.org", "2823-3"),
        (None, "2823-3"),
    ]
    for _ in range(2):
        assert names("Observation", codings) == ["creatinine", "potassium", "potassium_result"]
