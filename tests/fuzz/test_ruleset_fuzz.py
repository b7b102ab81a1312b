"""The packaged ruleset with values mutated where they sit (thresholds, units, lookbacks, codes,
conditions, texts): loading gives a ruleset or a `RulesetError` of located one-line problems,
and a ruleset that loads evaluates the example patients to results or a `VigilError`; never
another exception. (tests/engine/test_loader_fuzz.py mutates the text line by line.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings

import engine
import fhir_adapters
from tests.engine.frozen import CALF_1

from .mutations import EXAMPLE_BUNDLE, mutated

PACKAGED: dict[str, Any] = yaml.safe_load(CALF_1.read_text())
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(PACKAGED, most=3))
def test_a_mutated_ruleset_loads_and_evaluates_or_says_why(data: Any) -> None:
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:  # PyYAML cannot write it (a lone surrogate): no input to try
        assume(False)
        raise
    try:
        ruleset = engine.load_text(text, "fuzz.yaml")
    except engine.RulesetError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.file == "fuzz.yaml" and problem.line >= 0 and problem.column >= 0
            assert problem.message and "\n" not in problem.message, repr(problem.message)
        return
    try:
        results = fhir_adapters.evaluate_bundle(EXAMPLE_BUNDLE, ruleset, as_of=AS_OF)
    except engine.VigilError as error:
        assert str(error) and "\n" not in str(error), repr(str(error))
        return
    for result in results:
        result.to_dict()
        result.cards()
