"""The resource cache spares validating a resource seen before, and only that."""

from __future__ import annotations

import copy
import shutil
from collections import UserDict
from datetime import UTC, datetime
from typing import Any

import pytest

import engine
from fhir_adapters import evaluate_bundle, patients
from fhir_adapters.cache import ResourceCache

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def calf() -> engine.Ruleset:
    """The packaged ruleset loaded once: a test evaluating many bundles passes it rather than
    its id, which `evaluate_bundle` would load again for every bundle."""
    return engine.load_ruleset("calf-fasciculation")


def bundle(potassium: float, patient: str = "p") -> dict[str, Any]:
    def observation(rid: str, code: dict[str, str], **value: Any) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "code": {"coding": [code]},
            "subject": {"reference": f"Patient/{patient}"},
            "effectiveDateTime": "2026-02-27T09:00:00Z",
            **value,
        }

    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": observation(
                    "t", {"system": "http://snomed.info/sct", "code": "82470000"}
                )
            },
            {
                "resource": observation(
                    "k",
                    {"system": "http://loinc.org", "code": "2823-3"},
                    valueQuantity={
                        "value": potassium,
                        "unit": "mmol/L",
                        "system": "http://unitsofmeasure.org",
                        "code": "mmol/L",
                    },
                )
            },
        ],
    }


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = patients.validate

    def counting(raw: Any, *args: Any) -> Any:
        seen.append(raw.reference)
        return real(raw, *args)

    monkeypatch.setattr(patients, "validate", counting)
    return seen


def test_resources_met_twice_are_kept_and_not_validated_again(
    validations: list[str], calf: engine.Ruleset
) -> None:
    cache = ResourceCache()
    first = evaluate_bundle(bundle(2.3), calf, AS_OF, cache=cache)
    assert len(cache) == 0  # met once: not kept
    evaluate_bundle(bundle(2.3), calf, AS_OF, cache=cache)
    assert len(cache) == 2
    again = evaluate_bundle(bundle(2.3), calf, AS_OF, cache=cache)

    assert validations == ["Observation/t", "Observation/k"] * 2
    assert (cache.hits, cache.misses) == (2, 4)
    assert [r.evaluation.to_dict() for r in again] == [r.evaluation.to_dict() for r in first]


def test_resources_met_once_leave_only_their_keys(calf: engine.Ruleset) -> None:
    cache = ResourceCache(size=10)
    for n in range(100):
        evaluate_bundle(bundle(2.0 + n / 100, f"p{n}"), calf, AS_OF, cache=cache)
    assert len(cache) == 0
    assert len(cache.elements) > 0  # the codes every resource shares are kept


def test_a_resource_met_again_after_its_key_was_forgotten_is_read_correctly(
    calf: engine.Ruleset,
) -> None:
    cache = ResourceCache(size=1)  # remembers 4 keys met once
    (mine,) = evaluate_bundle(bundle(2.3, "p"), calf, AS_OF, cache=cache)
    for n in range(4):
        evaluate_bundle(bundle(4.0, f"q{n}"), calf, AS_OF, cache=cache)
    (again,) = evaluate_bundle(bundle(2.3, "p"), calf, AS_OF, cache=cache)
    assert again.evaluation.to_dict() == mine.evaluation.to_dict()


def test_a_changed_resource_is_validated_again(
    validations: list[str], calf: engine.Ruleset
) -> None:
    cache = ResourceCache()
    for _ in range(2):
        evaluate_bundle(bundle(2.3), calf, AS_OF, cache=cache)
    validations.clear()
    (changed,) = evaluate_bundle(bundle(3.2), calf, AS_OF, cache=cache)

    assert validations == ["Observation/k"]
    assert changed.escalation == "primary-care"


def test_another_patients_resource_is_its_own_entry(calf: engine.Ruleset) -> None:
    cache = ResourceCache()
    for _ in range(2):
        (mine,) = evaluate_bundle(bundle(2.3, "p"), calf, AS_OF, cache=cache)
        (theirs,) = evaluate_bundle(bundle(4.2, "q"), calf, AS_OF, cache=cache)

    assert (mine.patient, mine.escalation) == ("Patient/p", "urgent")
    assert (theirs.patient, theirs.escalation) == ("Patient/q", "self-care")


def test_an_edited_ruleset_reads_resources_afresh(validations: list[str], tmp_path: Any) -> None:
    cache = ResourceCache()
    packaged = engine.packaged_rulesets()["calf-fasciculation"]
    edited = tmp_path / "ruleset.yaml"
    shutil.copytree(packaged.parent / "valuesets", tmp_path / "valuesets")
    edited.write_text(packaged.read_text().replace("low_potassium: 3.5", "low_potassium: 3.0"))

    for _ in range(2):
        evaluate_bundle(bundle(3.2), "calf-fasciculation", AS_OF, cache=cache)
    validations.clear()
    (result,) = evaluate_bundle(bundle(3.2), edited, AS_OF, cache=cache)

    assert len(validations) == 2
    assert result.escalation == "self-care"


def test_the_cache_is_bounded(calf: engine.Ruleset) -> None:
    cache = ResourceCache(size=3)
    for n in range(5):
        for _ in range(2):
            data = bundle(2.0 + n / 10, f"p{n}")
            evaluate_bundle(data, calf, AS_OF, cache=cache)
    assert len(cache) == 3


def test_input_is_not_changed_by_reading_it(calf: engine.Ruleset) -> None:
    data = bundle(2.3)
    before = copy.deepcopy(data)
    evaluate_bundle(data, calf, AS_OF, cache=ResourceCache())
    assert data == before


def test_resources_of_a_callers_own_mapping_type_are_kept_too(
    validations: list[str], calf: engine.Ruleset
) -> None:
    cache = ResourceCache()
    data = bundle(2.3)
    data["entry"] = [{"resource": UserDict(e["resource"])} for e in data["entry"]]
    first = evaluate_bundle(data, calf, AS_OF, cache=cache)
    evaluate_bundle(data, calf, AS_OF, cache=cache)
    validations.clear()
    again = evaluate_bundle(data, calf, AS_OF, cache=cache)

    assert validations == []
    assert [r.escalation for r in again] == [r.escalation for r in first] == ["urgent"]


def test_a_lone_surrogate_in_an_id_is_a_warning_with_a_cache_as_without() -> None:
    data = bundle(2.2)
    data["entry"][1]["resource"]["id"] = "k\udcff"
    ruleset = engine.load_ruleset("calf-fasciculation")

    [cached] = evaluate_bundle(copy.deepcopy(data), ruleset, AS_OF, cache=ResourceCache())
    [plain] = evaluate_bundle(data, ruleset, AS_OF)

    assert cached.to_dict() == plain.to_dict()
    assert cached.escalation == "self-care"
    assert [w.source for w in cached.evaluation.warnings] == ["Observation/k\udcff"]
