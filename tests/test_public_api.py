"""The public surface integrators rely on, pinned: changing it must be a decision."""

from __future__ import annotations

import authoring
import engine
import fhir_adapters


def test_engine_public_names() -> None:
    assert sorted(engine.__all__) == [
        "ArgumentError",
        "Code",
        "CodeError",
        "Concept",
        "DataWarning",
        "EngineError",
        "Evaluation",
        "EvaluationError",
        "Evaluator",
        "FactError",
        "Finding",
        "Firing",
        "Matched",
        "Problem",
        "Quantity",
        "Record",
        "RedFlagCheck",
        "Ruleset",
        "RulesetError",
        "RulesetIdentity",
        "RulesetNotFound",
        "Suggestion",
        "VigilError",
        "load_ruleset",
        "load_text",
        "packaged_rulesets",
        "parse_code",
    ]
    assert all(hasattr(engine, name) for name in engine.__all__)


def test_fhir_adapters_public_names() -> None:
    assert sorted(fhir_adapters.__all__) == [
        "FhirInputError",
        "Loaded",
        "PatientBatch",
        "PatientData",
        "PatientResult",
        "Results",
        "build_cards",
        "cards_json",
        "evaluate_bundle",
        "load_resources",
        "patient_records",
        "service_request",
    ]
    assert all(hasattr(fhir_adapters, name) for name in fhir_adapters.__all__)


def test_authoring_public_names() -> None:
    assert sorted(authoring.__all__) == [
        "Boundary",
        "CheckReport",
        "Difference",
        "Explanation",
        "Finding",
        "RuleCoverage",
        "RuleFired",
        "RulesetDiff",
        "ScenarioReport",
        "SuiteReport",
        "check",
        "diff_rulesets",
        "explain",
        "lint",
        "load_with_source",
        "nearest_miss",
        "new_ruleset",
        "population_impact",
        "previous_release",
        "release_findings",
        "ruleset_file",
        "ruleset_folder",
        "run_suite",
        "write_docs",
    ]
    assert all(hasattr(authoring, name) for name in authoring.__all__)


def test_every_project_error_is_a_vigil_error() -> None:
    assert issubclass(fhir_adapters.FhirInputError, engine.VigilError)
    names = ("RulesetError", "RulesetNotFound", "FactError", "EvaluationError", "EngineError")
    for name in (*names, "ArgumentError", "CodeError"):
        assert issubclass(getattr(engine, name), engine.VigilError)


def test_evaluation_fields_are_the_documented_contract() -> None:
    fields = engine.Evaluation.__dataclass_fields__
    assert {"escalation", "suggestions", "findings", "trace", "warnings"} <= fields.keys()
    assert {"rule", "level", "summary", "detail", "evidence", "citations"} <= (
        engine.Suggestion.__dataclass_fields__.keys()
    )
