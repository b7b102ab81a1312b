"""The third-party samples in ../shared/fhir-samples, through the real calf-fasciculation
ruleset: every file evaluates; the messy ones are read with warnings, never guessed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import engine
import fhir_adapters

SAMPLES = Path(__file__).parents[2].parent / "shared" / "fhir-samples"
pytestmark = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason="../shared/fhir-samples is absent (a user's clone)"
)
RULESET = engine.load_ruleset("calf-fasciculation")
AROUND_2018 = datetime(2018, 9, 1, tzinfo=UTC)


def test_synthea_patients_have_nothing_for_this_ruleset() -> None:
    files = sorted((SAMPLES / "synthea-r4").glob("*.json"))
    assert len(files) == 10
    for path in files:
        results = fhir_adapters.evaluate_bundle(path, RULESET)
        assert [r.escalation for r in results] == ["none"], path.name


def test_pddi_magnesium_in_mmol_under_a_mass_code_is_read_as_is_with_a_warning() -> None:
    (result,) = fhir_adapters.evaluate_bundle(
        SAMPLES / "pddi-cds" / "Observation-o303.json", RULESET, as_of=AROUND_2018
    )
    messages = [str(w) for w in result.evaluation.warnings]
    assert any("'context' is not defined in FHIR R4" in m for m in messages)
    assert any("19123-9" in m and "mmol/L" in m and "unit is trusted" in m for m in messages)
    assert all(m.startswith("Observation/o303: ") for m in messages)


def test_magnesium_0_8_is_not_low() -> None:
    twitching = _fasciculation("f301", "2018-08-28")
    data = [_read(SAMPLES / "pddi-cds" / "Observation-o303.json"), twitching]

    (result,) = fhir_adapters.evaluate_bundle(data, RULESET, as_of=AROUND_2018)

    assert result.escalation == "self-care"
    assert "low-magnesium" not in {s.rule for s in result.evaluation.suggestions}


def test_us_core_calcium_without_a_ucum_code_is_read_through_its_unit() -> None:
    calcium = _read(SAMPLES / "us-core" / "observation-serum-calcium.json")
    patient = calcium["subject"]["reference"].split("/")[1]
    when = datetime(2005, 7, 6, tzinfo=UTC)

    alone = fhir_adapters.evaluate_bundle([calcium], RULESET, as_of=when)
    (result,) = fhir_adapters.evaluate_bundle(
        [calcium, _fasciculation(patient, "2005-07-04")], RULESET, as_of=when
    )

    assert [r.escalation for r in alone] == ["none"]  # out of scope without twitching
    low = next(s for s in result.evaluation.suggestions if s.rule == "low-calcium")
    assert low.level == "primary-care"
    assert low.summary == "Low total calcium: 1.92 mmol/L (2005-07-05)"
    assert "reported as 7.7 mg/dL" in low.detail
    assert low.evidence == (f"Observation/{calcium['id']}",)


def test_every_sample_file_evaluates() -> None:
    for path in sorted(SAMPLES.rglob("*.json")):
        results = fhir_adapters.evaluate_bundle(path, RULESET)
        assert all(r.escalation == "none" for r in results), path.name


def _read(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8-sig"))
    return data


def _fasciculation(patient: str, when: str) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "id": "twitching",
        "status": "final",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "82470000"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": when,
    }
