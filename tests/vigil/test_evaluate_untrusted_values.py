"""`vigil evaluate` on values that cannot be trusted: keys repeated in a JSON object, and
quantities that cannot be (a negative concentration)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .test_evaluate_command import LOINC, SCT, observation, ucum, vigil

TWITCH = observation("twitch", SCT, "82470000", "2026-02-27T09:00:00Z")
PATIENT = {"resourceType": "Patient", "id": "p"}
POTASSIUM = {"coding": [{"system": LOINC, "code": "2823-3"}]}
SODIUM = {"coding": [{"system": LOINC, "code": "2951-2"}]}


def bundle_text(*resources: dict[str, object]) -> str:
    entries = [{"resource": r} for r in [PATIENT, TWITCH, *resources]]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}, indent=1)


def repeated(text: str, key: str, *values: object) -> str:
    """`text` with its `"REPEATED": 0` member written as `key` once for each of `values`."""
    members = ", ".join(f"{json.dumps(key)}: {json.dumps(v)}" for v in values)
    return text.replace('"REPEATED": 0', members)


def evaluate(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "bundle.json"
    path.write_text(text)
    run = vigil("evaluate", path, "--as-of", "2026-03-01", "--format", "json")
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)["results"][0]
    return result


def potassium(value: object = 2.2, **changes: object) -> dict[str, object]:
    quantity = ucum(2.2, "mmol/L") | {"value": value}
    found = observation("k1", LOINC, "2823-3", "2026-02-28T09:00:00Z", valueQuantity=quantity)
    return found | changes


@pytest.mark.parametrize("values", [(2.2, 4.5), (4.5, 2.2)])
def test_a_value_given_twice_is_left_out_whichever_comes_last(
    tmp_path: Path, values: tuple[float, float]
) -> None:
    quantity = {"REPEATED": 0, "unit": "mmol/L", "system": "http://unitsofmeasure.org"}
    text = repeated(bundle_text(potassium(valueQuantity=quantity)), "value", *values)

    result = evaluate(tmp_path, text)

    assert result["escalation"] == "self-care"  # twitching alone: the potassium is not read
    assert result["warnings"] == [
        {
            "source": "Observation/k1",
            "message": "valueQuantity.value appears twice: which value is meant cannot be told;"
            " left out",
        }
    ]


@pytest.mark.parametrize("codes", [(SODIUM, POTASSIUM), (POTASSIUM, SODIUM)])
def test_a_code_given_twice_is_left_out_whichever_comes_last(
    tmp_path: Path, codes: tuple[object, object]
) -> None:
    coded_twice = {k: v for k, v in potassium().items() if k != "code"} | {"REPEATED": 0}
    text = repeated(bundle_text(coded_twice), "code", *codes)

    result = evaluate(tmp_path, text)

    assert result["escalation"] == "self-care"
    assert result["warnings"] == [
        {
            "source": "Observation/k1",
            "message": "code appears twice: which value is meant cannot be told; left out",
        }
    ]


def test_a_key_repeated_in_the_bundle_itself_exits_2_naming_the_file_and_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bundle.json"
    text = bundle_text(potassium()).replace('"type": "collection"', '"REPEATED": 0')
    path.write_text(repeated(text, "type", "collection", "batch"))

    run = vigil("evaluate", path, "--as-of", "2026-03-01", "--format", "json")

    assert run.returncode == 2
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.endswith(
        f"{path}: line 3: key 'type' appears twice: which value is meant cannot be told"
    )


def test_a_repeated_key_in_one_ndjson_line_leaves_out_that_resource_only(tmp_path: Path) -> None:
    path = tmp_path / "export.ndjson"
    lines = [json.dumps(r) for r in (PATIENT, TWITCH, potassium(REPEATED=0))]
    # the same value twice is still a repeated key: JSON does not say which one counts
    lines[2] = repeated(lines[2], "issued", "2026-02-28T10:00:00Z", "2026-02-28T10:00:00Z")
    path.write_text("\n".join(lines) + "\n")

    run = vigil("evaluate", path, "--as-of", "2026-03-01", "--format", "json")

    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)["results"][0]
    assert result["escalation"] == "self-care"
    assert result["warnings"] == [
        {
            "source": "Observation/k1",
            "message": "issued appears twice: which value is meant cannot be told; left out",
        }
    ]


@pytest.mark.parametrize(("value", "shown"), [(-2.2, "-2.2"), (-0.0, "-0")])
def test_a_negative_concentration_is_left_out_with_a_warning(
    tmp_path: Path, value: float, shown: str
) -> None:
    result = evaluate(tmp_path, bundle_text(potassium(value)))

    assert result["escalation"] == "self-care"  # not "Potassium -2.2 mmol/L is severely low"
    assert result["warnings"] == [
        {
            "source": "Observation/k1",
            "message": f"value {shown} mmol/L is negative, which a substance concentration"
            " cannot be: value left out",
        }
    ]


def test_a_zero_concentration_is_read_as_measured(tmp_path: Path) -> None:
    result = evaluate(tmp_path, bundle_text(potassium(0)))
    assert result["escalation"] == "urgent"
    assert result["warnings"] == []


def test_a_patient_whose_id_is_given_twice_is_left_out_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    text = bundle_text(potassium()).replace('"id": "p"', '"REPEATED": 0', 1)
    path.write_text(repeated(text, "id", "p", "q"))

    run = vigil("evaluate", path, "--as-of", "2026-03-01", "--format", "json")

    assert run.returncode == 0, run.stderr
    output = json.loads(run.stdout)
    assert [r["patient"] for r in output["results"]] == ["Patient/p"]  # its data, by subject
    assert output["warnings"] == [
        {
            "source": "Patient/q",
            "message": "id appears twice: which value is meant cannot be told; left out",
        }
    ]
