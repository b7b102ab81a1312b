"""Mutated real FHIR through the library's reader and the engine (`evaluate_bundle`): results, or
a `FhirInputError` of one line; never another exception. The same input gives the same results
every time, and in any order of its entries."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
import fhir_adapters

from .mutations import RESOURCES, mutated, mutated_bundles

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
CALF = engine.load_ruleset("calf-fasciculation")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def evaluate(data: Any) -> list[dict[str, Any]] | str:
    """Every patient's result as JSON-ready dicts (written out, to be sure they can be), or the
    FhirInputError's message."""
    try:
        results = fhir_adapters.evaluate_bundle(data, CALF, as_of=AS_OF)
    except fhir_adapters.FhirInputError as error:
        message = str(error)
        assert message and "\n" not in message, repr(message)
        return message
    out = [r.to_dict() for r in results]
    json.dumps(out)
    for warning in results.warnings:
        assert "\n" not in str(warning)
    return out


@SETTINGS
@given(mutated_bundles())
def test_a_mutated_bundle_gives_results_or_one_line(bundle: dict[str, Any]) -> None:
    evaluate(bundle)


@SETTINGS
@given(st.lists(st.sampled_from(RESOURCES).flatmap(mutated), min_size=1, max_size=6), st.data())
def test_mutated_resources_as_ndjson_text_or_one_resource(
    resources: list[dict[str, Any]], data: st.DataObject
) -> None:
    ascii_only = data.draw(st.booleans())  # a lone surrogate escaped, or as the raw character
    lines = [json.dumps(r, ensure_ascii=ascii_only) for r in resources]
    evaluate("\n".join(lines) + "\n")
    evaluate(resources[0])
    evaluate(json.dumps(resources[0], ensure_ascii=ascii_only))


def _has_copies(bundle: dict[str, Any]) -> bool:
    """Whether two entries may be copies of one resource (same type and id, or same fullUrl):
    among differing copies without versions the first read is used, as the README documents,
    so their order may change the answer (issue 12, defect 1, is unifying copies)."""
    seen: set[object] = set()
    for entry in bundle.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        keys: list[object] = [json.dumps(entry.get("fullUrl"))] if entry.get("fullUrl") else []
        if isinstance(resource, dict):
            keys.append(json.dumps([resource.get("resourceType"), resource.get("id")]))
        if any(key in seen for key in keys):
            return True
        seen.update(keys)
    return False


def _answer(results: list[dict[str, Any]] | str) -> object:
    """What must not depend on order: each patient's escalation, suggestions and the resources
    warned about (a warning's text may name an entry's position)."""
    if isinstance(results, str):
        return _unplaced(results)
    return sorted(
        (
            # a Patient with neither id nor fullUrl is named by its place in the input
            _unplaced(r["patient"]),
            r["escalation"],
            json.dumps(r["suggestions"]),
            sorted(_unplaced(str(w.get("source"))) for w in r.get("warnings", [])),
        )
        for r in results
    )


def _unplaced(text: str) -> str:
    return re.sub(r" (item|entry|line) \d+", "", text)


@SETTINGS
@given(mutated_bundles(), st.randoms(use_true_random=False))
def test_the_same_bundle_gives_the_same_answer_twice_and_in_any_order(
    bundle: dict[str, Any], rnd: random.Random
) -> None:
    first = evaluate(bundle)
    assert evaluate(json.loads(json.dumps(bundle))) == first
    entries = bundle.get("entry")
    if not isinstance(entries, list) or _has_copies(bundle):
        return
    shuffled = {**bundle, "entry": rnd.sample(entries, len(entries))}
    assert _answer(evaluate(shuffled)) == _answer(first)
