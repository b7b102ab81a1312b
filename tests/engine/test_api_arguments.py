"""The library as an engineer embedding it calls it: arguments of the wrong type or spelling are
refused with a VigilError in words, never read as something else in silence."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import engine
import fhir_adapters
from engine import Quantity, Record
from tests.engine.frozen import CALF_1
from tests.engine.rulesets import chained

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
WRONG_TYPES: list[Any] = [None, {}, 1, 1.5, b"calf-fasciculation", [], object()]


@pytest.mark.parametrize("value", WRONG_TYPES, ids=lambda v: type(v).__name__)
def test_an_argument_of_the_wrong_type_is_a_vigil_error(value: Any) -> None:
    ruleset = engine.load_ruleset(CALF_1)
    calls = [
        lambda: engine.load_ruleset(value),
        lambda: engine.load_text(value),
        lambda: engine.load_text(chained(), value),
        lambda: engine.parse_code(value),
        lambda: engine.Evaluator(value),
        lambda: list(fhir_adapters.evaluate_bundle("[]", value)),
        lambda: engine.Evaluator(ruleset).evaluate([Record(value, "Observation/1")], as_of=NOW),
    ]
    for call in calls:
        with pytest.raises(engine.VigilError) as raised:
            call()
        assert isinstance(raised.value, TypeError | engine.FactError), raised.value


def test_parse_code_refuses_text_that_is_no_code_with_a_vigil_error() -> None:
    with pytest.raises(engine.CodeError, match="unknown code system 'SCT'"):
        engine.parse_code("SCT#21974007")
    with pytest.raises(ValueError, match="not a code"):  # a CodeError is a ValueError too
        engine.parse_code("http://snomed.info/sct|21974007")


def twitching_at(site: str) -> list[Record]:
    return [Record("fasciculation", "Observation/f", NOW - timedelta(days=3), site=site)]


def test_a_site_spelt_as_the_tongue_in_another_form_is_refused_not_read_as_no_site() -> None:
    evaluator = engine.Evaluator(engine.load_ruleset(CALF_1))
    assert evaluator.evaluate(twitching_at("sct#21974007"), as_of=NOW).escalation == "neurology"
    long_form = evaluator.evaluate(twitching_at("http://snomed.info/sct#21974007"), as_of=NOW)
    assert long_form.escalation == "neurology"
    for spelling in ("SCT#21974007", "http://snomed.info/sct|21974007", "tongue"):
        with pytest.raises(engine.FactError, match=r"Observation/f: site: .*"):
            evaluator.evaluate(twitching_at(spelling), as_of=NOW)


@pytest.mark.parametrize("flag", ["present", "ongoing", "preliminary", "date_only"])
def test_a_flag_that_is_not_true_or_false_is_refused(flag: str) -> None:
    evaluator = engine.Evaluator(engine.load_ruleset(CALF_1))
    record = Record("weakness", "Observation/w", NOW, **{flag: "no"})
    with pytest.raises(engine.FactError, match=f"Observation/w: {flag} must be True or False"):
        evaluator.evaluate([record], as_of=NOW)


def test_a_content_hash_reused_for_edited_text_is_refused() -> None:
    records = [
        Record("potassium", "Observation/k", NOW, value=Quantity(3.2, "mmol/L")),
        Record("weakness", "Observation/w", NOW),
    ]
    first = chained("3.5 mmol/L")
    digest = hashlib.sha256(first.encode()).hexdigest()
    before = engine.Evaluator(engine.load_text(first, content_hash=digest)).evaluate(
        records, as_of=NOW
    )
    with pytest.raises(engine.ArgumentError, match="is not the SHA-256 of the text"):
        engine.load_text(chained("3.0 mmol/L"), content_hash=digest)
    after = engine.Evaluator(engine.load_text(chained("3.0 mmol/L"))).evaluate(records, as_of=NOW)
    assert (before.escalation, after.escalation) == ("urgent", "none")


def test_a_ruleset_built_with_another_ones_hash_runs_its_own_rules() -> None:
    records = [
        Record("potassium", "Observation/k", NOW, value=Quantity(3.2, "mmol/L")),
        Record("weakness", "Observation/w", NOW),
    ]
    first = engine.load_text(chained("3.5 mmol/L"))
    edited = replace(engine.load_text(chained("3.0 mmol/L")), content_hash=first.content_hash)
    assert first.key == edited.key

    before = engine.Evaluator(first).evaluate(records, as_of=NOW)
    after = engine.Evaluator(edited).evaluate(records, as_of=NOW)

    assert (before.escalation, after.escalation) == ("urgent", "none")
