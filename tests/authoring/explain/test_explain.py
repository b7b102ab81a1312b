"""`authoring.explain.explain`: what the records say, what fired on what, and why each other
rule did not fire, by how much, with a window's and a trend's values."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from authoring.explain import (
    NotFired,
    PatientExplanation,
    PatientNotFound,
    explain,
    explain_result,
    nearest_miss,
)
from engine import Evaluator
from fhir_adapters.evaluate import evaluate_patients
from fhir_adapters.patients import patient_records
from tests.authoring.explain.small import NOW, bundle, creatinine, potassium, small

AS_OF = datetime.fromisoformat(NOW)


def patient(tmp_path: Path, data: str) -> PatientExplanation:
    [one] = explain(small(), bundle(tmp_path, data), AS_OF).patients
    return one


def missed(explained: PatientExplanation, rule: str) -> NotFired:
    return next(n for n in explained.not_fired if n.rule == rule)


def test_a_comparison_that_failed_says_by_how_much(tmp_path: Path) -> None:
    explained = patient(tmp_path, potassium("2.6 mmol/L"))

    failed = missed(explained, "low-k").failed
    assert failed.condition == "potassium < severe_potassium"
    assert failed.words == (
        "potassium 2.6 mmol/L on 2026-03-02 (Observation/o1) is not below 2.5 mmol/L "
        "(0.1 mmol/L above)"
    )


def test_a_finding_not_derived_is_named_after_what_held(tmp_path: Path) -> None:
    explained = patient(tmp_path, potassium("3.0 mmol/L"))

    miss = missed(explained, "low-k-aki")
    assert [c.condition for c in miss.held] == ["potassium < 3.5 mmol/L"]
    assert miss.failed.words == "finding `aki` was not derived"
    assert nearest_miss(explained, ["low-k", "low-k-aki"]) == (
        "nearest miss: low-k-aki: `aki`: finding `aki` was not derived"
    )


def test_a_windowed_trend_gives_its_value_and_the_window_s_results(tmp_path: Path) -> None:
    data = creatinine("100 umol/L", "-41 hours") + creatinine("125 umol/L", "-2 hours")
    explained = patient(tmp_path, potassium("4.0 mmol/L") + data)

    failed = missed(explained, "aki").failed
    assert failed.words == (
        "creatinine rise 25 umol/L over 48 hours (Observation/o2 → Observation/o3) "
        "is not at or above 26 umol/L (1 umol/L below)"
    )
    assert failed.values == (
        "within aki_window (7 days): 100 umol/L on 2026-02-28 (Observation/o2); "
        "125 umol/L on 2026-03-02 (Observation/o3)",
    )


def test_a_rise_with_nothing_to_compare_names_the_range_it_searched(tmp_path: Path) -> None:
    explained = patient(
        tmp_path, potassium("5.8 mmol/L", "-1 hour") + potassium("5.0 mmol/L", "-20 hours")
    )

    failed = missed(explained, "k-rise").failed
    assert failed.words == (
        "no potassium value for `potassium rise over 1 to 12 hours > 0.5 mmol/L`"
    )
    assert failed.values == (
        "latest 5.8 mmol/L on 2026-03-02 (Observation/o1)",
        "no earlier potassium 1 to 12 hours before it",
    )


def test_the_summary_gives_the_unit_reported_and_the_rules_unit(tmp_path: Path) -> None:
    explained = patient(tmp_path, potassium("4.1 mEq/L"))

    [k] = [c for c in explained.concepts if c.name == "potassium"]
    assert str(k.latest) == "4.1 meq/L (4.1 mmol/L) on 2026-03-02 (Observation/o1)"
    assert k.count == 1 and k.present == ("Observation/o1",)
    [cr] = [c for c in explained.concepts if c.name == "creatinine"]
    assert not cr.recorded


def test_a_fired_rule_says_what_it_matched_and_suggested(tmp_path: Path) -> None:
    explained = patient(tmp_path, potassium("2.3 mmol/L"))

    [fired] = [f for f in explained.fired if f.rule == "low-k"]
    assert fired.suggested == "urgent"
    assert [str(m) for m in fired.matched] == ["potassium: latest 2.3 mmol/L"]
    assert fired.matched[0].sources == ("Observation/o1",)
    assert explained.escalation == "urgent"
    assert nearest_miss(explained, ["low-k"]) is None


def test_the_explained_evaluation_is_the_evaluation(tmp_path: Path) -> None:
    data = bundle(tmp_path, potassium("2.3 mmol/L") + creatinine("90 umol/L", "-3 hours"))
    [records] = patient_records(data, small()).patients
    evaluator = Evaluator(small())

    examined = evaluator.examine(records.records, AS_OF)
    assert examined.evaluation == evaluator.evaluate(records.records, AS_OF)
    assert examined.session.facts["potassium"]["latest"] == 2_300_000


def test_one_patient_is_chosen_by_id_and_an_unknown_one_is_an_error(tmp_path: Path) -> None:
    data = bundle(tmp_path, potassium("2.3 mmol/L"))

    assert [
        p.patient for p in explain(small(), data, AS_OF, patient="scenario-patient").patients
    ] == ["Patient/scenario-patient"]
    with pytest.raises(PatientNotFound, match="no Patient/nobody in the input"):
        explain(small(), data, AS_OF, patient="nobody")


def test_a_result_evaluated_with_examine_is_explained_without_evaluating_again(
    tmp_path: Path,
) -> None:
    data = bundle(tmp_path, potassium("2.6 mmol/L"))
    [result] = evaluate_patients(data, small(), AS_OF, examine=True)
    [plain] = evaluate_patients(data, small(), AS_OF)

    explained = explain_result(result)
    assert explained is not None and explain_result(plain) is None
    assert nearest_miss(explained, ["low-k", "k-rise"]) == (
        "nearest miss: low-k: `potassium < severe_potassium`: potassium 2.6 mmol/L on "
        "2026-03-02 (Observation/o1) is not below 2.5 mmol/L (0.1 mmol/L above)"
    )
