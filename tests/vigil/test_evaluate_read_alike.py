"""`vigil evaluate` gives one answer for one set of resources, however the files hold them:
a Bundle (read entry by entry) or each resource in its own file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fhir_adapters import evaluate_bundle

from .test_evaluate_command import vigil
from .test_evaluate_untrusted_values import PATIENT, TWITCH, potassium, repeated

# A contained resource whose JSON repeats a key: the Observation holding it is left out.
SPECIMEN = {"resourceType": "Specimen", "id": "s", "REPEATED": 0}
LEFT_OUT = {
    "source": "Observation/k1",
    "message": "contained[0].status appears twice: which value is meant cannot be told; left out",
}


def only_result(path: Path) -> dict[str, Any]:
    run = vigil("evaluate", path, "--as-of", "2026-03-01", "--format", "json")
    assert run.returncode == 0, run.stderr
    [result] = json.loads(run.stdout)["results"]
    assert isinstance(result, dict)
    return result


def test_a_contained_resource_repeating_a_key_leaves_out_its_holder_in_a_file_of_its_own(
    tmp_path: Path,
) -> None:
    k1 = repeated(json.dumps(potassium(contained=[SPECIMEN])), "status", "available", "x")
    texts = [json.dumps(PATIENT), json.dumps(TWITCH), k1]
    apart = tmp_path / "apart"
    apart.mkdir()
    for name, text in zip(("patient", "twitch", "k1"), texts, strict=True):
        (apart / f"{name}.json").write_text(text)
    bundle = tmp_path / "bundle.json"
    entries = ", ".join(f'{{"resource": {text}}}' for text in texts)
    bundle.write_text(f'{{"resourceType": "Bundle", "type": "collection", "entry": [{entries}]}}')

    for result in (only_result(bundle), only_result(apart)):
        assert result["escalation"] == "self-care"  # twitching alone: the potassium is not read
        assert result["warnings"] == [LEFT_OUT]


def test_ndjson_with_a_line_separator_inside_a_string_reads_alike_whatever_the_file_name(
    tmp_path: Path,
) -> None:
    # U+2028 and U+0085 may stand unescaped in a JSON string (a note pasted from a web page)
    noted = potassium(note=[{"text": "repeat\u2028tomorrow\u0085please"}])
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in (PATIENT, TWITCH, noted)) + "\n"
    results = []
    for name in ("export.ndjson", "export.json"):
        (tmp_path / name).write_text(text, encoding="utf-8")
        results.append(only_result(tmp_path / name))

    assert results[0]["escalation"] == "urgent"
    assert results[1] == results[0]


def test_a_file_named_again_or_inside_a_folder_named_is_read_once(tmp_path: Path) -> None:
    # resources known by urn fullUrls alone: each reading of the file would be another Bundle
    subject = {"reference": "urn:uuid:p"}
    twitch = {k: v for k, v in TWITCH.items() if k != "id"} | {"subject": subject}
    low = {k: v for k, v in potassium().items() if k != "id"} | {"subject": subject}
    entries = [
        {"fullUrl": f"urn:uuid:{name}", "resource": resource}
        for name, resource in (("p", {"resourceType": "Patient"}), ("t", twitch), ("k", low))
    ]
    folder = tmp_path / "exports"
    folder.mkdir()
    bundle = folder / "bundle.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "entry": entries}))

    for paths in ((bundle, bundle), (folder, bundle), (bundle, folder / "." / "bundle.json")):
        run = vigil("evaluate", *paths, "--as-of", "2026-03-01", "--format", "json")
        assert run.returncode == 0, run.stderr
        output = json.loads(run.stdout)
        assert [(r["patient"], r["escalation"]) for r in output["results"]] == [
            ("urn:uuid:p", "urgent")
        ]
        [warning] = output["warnings"]
        assert warning["message"].startswith("the same file as ")


@pytest.mark.parametrize("name", ["resource.json", "export.ndjson", "bundle.json"])
def test_a_resource_nested_deeper_than_json_writes_is_read_as_from_text(
    tmp_path: Path, name: str
) -> None:
    # orjson reads 1,024 levels; Python's json writes fewer than its recursion limit, 1,000
    nested = "[" * 1010 + '"deep"' + "]" * 1010
    text = json.dumps(potassium(extension=[{"url": "urn:x:deep", "valueString": "x"}]))
    text = text.replace('"valueString": "x"', f'"valueString": "x", "deep": {nested}')
    if name == "bundle.json":
        text = f'{{"resourceType": "Bundle", "entry": [{{"resource": {text}}}]}}'
    path = tmp_path / name
    path.write_text(text)

    run = vigil("evaluate", path, "--as-of", "2026-03-01", "--format", "json")

    assert run.returncode == 0, run.stderr
    from_text = evaluate_bundle(text, "calf-fasciculation", as_of=datetime(2026, 3, 1, tzinfo=UTC))
    assert json.loads(run.stdout)["results"] == [r.to_dict() for r in from_text]
