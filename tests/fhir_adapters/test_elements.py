"""Nested elements validated once: the same answers as validating every resource whole."""

from __future__ import annotations

from collections import UserDict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fhir_adapters.elements import ValidatedElements
from fhir_adapters.reading import RawResource
from fhir_adapters.validation import validate

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"


def observation(rid: str, **fields: Any) -> RawResource:
    data: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2823-3", "display": "Potassium"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-01T09:00:00Z",
        "valueQuantity": {"value": 3.1, "unit": "mmol/L"},
    }
    data.update(fields)
    return RawResource({k: v for k, v in data.items() if v is not None}, "test")


def outcome(raw: RawResource, elements: ValidatedElements | None) -> tuple[Any, list[str]]:
    validated, warnings = validate(raw, elements)
    dumped = validated.model.model_dump(mode="json") if validated is not None else None
    return dumped, [str(w) for w in warnings]


def test_an_element_met_twice_is_kept_and_not_validated_again() -> None:
    elements = ValidatedElements()
    validate(observation("o1"), elements)
    assert len(elements) == 0  # met once: not kept
    validate(observation("o2", valueQuantity={"value": 2.9, "unit": "mmol/L"}), elements)
    assert len(elements) == 2  # code and subject, met twice; not the valueQuantity, met once
    validate(observation("o3"), elements)

    # validated: code, subject, valueQuantity; then those again and a new valueQuantity; then
    # code and subject are shared, and the first valueQuantity is validated a second time
    assert (elements.misses, elements.hits) == (7, 2)


def test_models_read_with_shared_elements_equal_models_read_whole() -> None:
    elements = ValidatedElements()
    for rid in ("o1", "o2", "o1", "o2", "o1"):
        assert outcome(observation(rid), elements) == outcome(observation(rid), None)


def test_an_invalid_nested_element_is_reported_as_without_sharing() -> None:
    bad = observation("o1", code={"coding": [{"system": LOINC, "code": 2823}]})
    elements = ValidatedElements()
    shared = outcome(bad, elements)

    assert shared == outcome(bad, None)
    assert shared[0] is None and "code.coding[0].code" in shared[1][0]
    assert len(elements) == 0  # nothing invalid is kept


def test_a_repairable_nested_fault_is_repaired_as_without_sharing() -> None:
    period = {"start": "2024-03-01T09:00:00"}  # no timezone: read as UTC, with a warning
    raw = observation("o1", effectiveDateTime=None, effectivePeriod=period)
    assert outcome(raw, ValidatedElements()) == outcome(raw, None)
    assert "has no timezone" in outcome(raw, None)[1][0]


def test_elements_marshal_cannot_key_are_validated_and_not_kept() -> None:
    # JSON parsed with parse_float=Decimal: fhir.resources reads it, marshal cannot encode it
    raw = observation("o1", valueQuantity={"value": Decimal("3.1"), "unit": "mmol/L"})
    elements = ValidatedElements()
    shared = outcome(raw, elements)
    assert shared == outcome(raw, None) and shared[0] is not None
    assert outcome(raw, elements) == shared
    assert len(elements) == 2  # code and subject; not the valueQuantity


def test_elements_of_a_callers_own_mapping_type_are_left_to_fhir_resources() -> None:
    raw = observation("o1", subject=UserDict({"reference": "Patient/p1"}))
    elements = ValidatedElements()
    assert outcome(raw, elements) == outcome(raw, None)


def test_the_elements_kept_are_bounded() -> None:
    elements = ValidatedElements(size=4)
    for n in range(10):
        for _ in range(2):
            validate(observation(f"o{n}", valueQuantity={"value": n, "unit": "mmol/L"}), elements)
    assert len(elements) == 4


codings = st.fixed_dictionaries(
    {"system": st.sampled_from([LOINC, SNOMED]), "code": st.sampled_from(["2823-3", "82470000"])},
    optional={"display": st.sampled_from(["Potassium", "Twitching"])},
)
junk = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "x", "2024-03-01"]),
    lambda c: st.lists(c, max_size=2) | st.dictionaries(st.sampled_from(["value", "x"]), c),
    max_leaves=6,
)
elements_or_junk = {
    "code": st.fixed_dictionaries({"coding": st.lists(codings, min_size=1, max_size=2)}) | junk,
    "subject": st.sampled_from([{"reference": "Patient/p1"}, {"reference": "Patient/p2"}]) | junk,
    "valueQuantity": st.fixed_dictionaries(
        {"value": st.sampled_from([2.4, 3.1, 5]), "unit": st.sampled_from(["mmol/L", "mEq/L"])}
    )
    | junk,
    "category": st.lists(st.fixed_dictionaries({"coding": st.lists(codings, max_size=1)}) | junk),
    "bodySite": st.fixed_dictionaries({"coding": st.lists(codings, max_size=1)}) | junk,
    "interpretation": junk,
    "effectivePeriod": st.sampled_from([{"start": "2024-03-01T09:00:00"}, {"end": 3}]) | junk,
}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries({}, optional=elements_or_junk), min_size=1, max_size=4))
def test_sharing_elements_never_changes_what_validation_gives(fields: list[dict[str, Any]]) -> None:
    elements = ValidatedElements()
    for n, these in enumerate(fields * 3):  # the third round reads shared elements
        raw = observation(f"o{n}", **these)
        assert outcome(raw, elements) == outcome(raw, None)


def test_threads_sharing_the_elements_read_what_each_would_alone() -> None:
    resources = [
        observation(f"o{n}", valueQuantity={"value": n % 7, "unit": "mmol/L"}) for n in range(60)
    ]
    expected = [outcome(raw, None) for raw in resources]
    elements = ValidatedElements(size=16)  # small: threads evict while others read

    def read_all(_: int) -> list[tuple[Any, list[str]]]:
        return [outcome(raw, elements) for raw in resources]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(read_all, range(12)))
    assert all(result == expected for result in results)


def test_elements_of_one_bundle_alone_are_kept_the_first_time() -> None:
    elements = ValidatedElements(keep_first_met=True)
    validate(observation("o1"), elements)
    assert len(elements) == elements.misses > 0  # every element, met once
    validate(observation("o2"), elements)
    assert elements.hits == elements.misses
