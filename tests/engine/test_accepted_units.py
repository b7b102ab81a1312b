"""A quantity concept's `accepted-units`: the only units its data is read in (a potassium in
umol/L is left out with a warning rather than converted), checked at load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import units
from engine.loader import check_text
from tests.engine.test_language_loader import BASE, line_of, problems, rule
from tests.vigil.test_evaluate_command import vigil

UNIT_LINE = "    unit: mmol/L\n"
LOW = "{suggest: routine-recheck, summary: Low potassium}"


def accepting(units_line: str) -> str:
    assert BASE.count(UNIT_LINE) == 1
    added = UNIT_LINE + "    valence: 1\n" + units_line
    return BASE.replace(UNIT_LINE, added) + rule("potassium < 3.5 mmol/L", LOW)


def observation(oid: str, value: float, unit: str, *, low: str | None = None) -> dict[str, object]:
    resource: dict[str, object] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
        "effectiveDateTime": "2026-03-01T08:00:00Z",
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }
    if low is not None:
        resource["referenceRange"] = [
            {
                "low": {
                    "value": 3500,
                    "unit": low,
                    "code": low,
                    "system": "http://unitsofmeasure.org",
                }
            }
        ]
    return resource


def evaluate(tmp_path: Path, text: str, *resources: dict[str, object]) -> dict[str, object]:
    (tmp_path / "ruleset.yaml").write_text(text)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "id": "p",
                    "birthDate": "1960-01-01",
                    "gender": "female",
                }
            },
            *({"resource": r} for r in resources),
        ],
    }
    (tmp_path / "p.json").write_text(json.dumps(bundle))
    run = vigil(
        "evaluate",
        tmp_path / "p.json",
        "--ruleset",
        tmp_path / "ruleset.yaml",
        "--as-of",
        "2026-03-01T09:00:00Z",
        "--format",
        "json",
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, object] = json.loads(run.stdout)["results"][0]
    return result


def test_a_value_in_an_accepted_unit_is_read(tmp_path: Path) -> None:
    result = evaluate(
        tmp_path, accepting("    accepted-units: [mmol/L, mEq/L]\n"), observation("k", 3.1, "meq/L")
    )
    assert result["escalation"] == "routine-recheck"
    assert result["warnings"] == []


def test_a_value_in_another_unit_is_left_out_with_a_warning(tmp_path: Path) -> None:
    result = evaluate(
        tmp_path,
        accepting("    accepted-units: [mmol/L, mEq/L]\n"),
        observation("k", 3100, "umol/L"),
    )
    assert result["escalation"] == "none"
    assert result["warnings"] == [
        {
            "source": "Observation/k",
            "message": "umol/L is not a unit potassium is read in (mmol/L, meq/L): value left out",
        }
    ]


def test_without_the_list_any_unit_of_the_dimension_is_read(tmp_path: Path) -> None:
    result = evaluate(tmp_path, accepting(""), observation("k", 3100, "umol/L"))
    assert result["escalation"] == "routine-recheck"


def test_conversion_refuses_a_unit_not_accepted() -> None:
    with pytest.raises(units.UnitError, match="not among the units accepted"):
        units.convert(3500, "umol/L", "mmol/L", accepted=("mmol/L", "meq/L"))
    assert units.convert(3.5, "mEq/L", "mmol/L", valence=1, accepted=("meq/L",)) == 3.5


def test_the_units_are_kept_as_ucum_codes() -> None:
    ruleset = check_text(accepting("    accepted-units: [mmol/l, mEq/L]\n"), "r.yaml")
    assert ruleset.concepts["potassium"].accepted_units == ("mmol/L", "meq/L")
    assert ruleset.concepts["creatinine"].accepted_units == ()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "    accepted-units: [furlong]\n",
            "potassium: accepted unit: unknown unit 'furlong': 'furlong' is not a UCUM unit "
            "Vigil knows",
        ),
        (
            "    accepted-units: [mmol/L, Cel]\n",
            "potassium: accepted unit: Cel (temperature) cannot be converted to mmol/L",
        ),
    ],
)
def test_an_accepted_unit_that_cannot_be_read_is_located(
    tmp_path: Path, line: str, message: str
) -> None:
    text = accepting(line)
    found = problems(text, tmp_path)
    assert len(found) == 1
    assert found[0].startswith(f"{line_of(text, 'accepted-units:')}:")
    assert message in found[0]


def test_accepted_units_need_a_unit(tmp_path: Path) -> None:
    text = BASE.replace(
        "  gad7: {kind: score, codes: [loinc#70274-6]}",
        "  gad7: {kind: score, codes: [loinc#70274-6], accepted-units: ['{score}']}",
    ) + rule("gad7 >= 10")
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'gad7:')}:47: accepted-units: is for a concept with a unit; "
        "gad7 (score) has none"
    ]
