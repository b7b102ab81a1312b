"""Reading FHIR JSON: Bundles, resources, arrays, NDJSON, BOMs, and input that is not FHIR."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import FactError
from fhir_adapters import evaluate_bundle
from fhir_adapters.errors import FhirInputError
from fhir_adapters.reading import Loaded, load_resources, split_reference


def obs(oid: str, patient: str = "Patient/p1") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
        "subject": {"reference": patient},
    }


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"fullUrl": f"urn:uuid:u-{r['id']}", "resource": r} for r in resources],
    }


def refs(loaded: Loaded) -> list[str]:
    return [r.reference for r in loaded.resources]


def one_line_error(data: Any, **kwargs: Any) -> str:
    with pytest.raises(FhirInputError) as caught:
        load_resources(data, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


# What is accepted


def test_single_resource_as_dict_text_and_bytes() -> None:
    resource = obs("a")
    for data in (resource, json.dumps(resource), json.dumps(resource).encode()):
        assert refs(load_resources(data)) == ["Observation/a"]


@pytest.mark.parametrize("kind", ["collection", "searchset", "transaction", "batch"])
def test_bundle_of_any_type(kind: str) -> None:
    loaded = load_resources(bundle(obs("a"), obs("b"), kind=kind))
    assert refs(loaded) == ["Observation/a", "Observation/b"]
    scope = loaded.resources[0].bundle
    assert scope is not None and all(r.bundle is scope for r in loaded.resources)
    assert scope.targets("urn:uuid:u-a") == ("Observation/a",)
    assert scope.targets("urn:uuid:u-b") == ("Observation/b",)


def test_each_bundle_names_its_own_full_urls() -> None:
    first, second = bundle(obs("a")), bundle(obs("b"))
    second["entry"][0]["fullUrl"] = "urn:uuid:u-a"  # reused, naming another resource
    outer = {**bundle(), "entry": [{"resource": first}, {"resource": second}]}
    a, b = load_resources(outer).resources
    assert a.bundle is not None and b.bundle is not None
    assert a.bundle.targets("urn:uuid:u-a") == ("Observation/a",)
    assert b.bundle.targets("urn:uuid:u-a") == ("Observation/b",)


def test_a_full_url_reused_inside_one_bundle_names_every_resource() -> None:
    data = bundle(obs("a"), obs("b"))
    data["entry"][1]["fullUrl"] = "urn:uuid:u-a"
    scope = load_resources(data).resources[0].bundle
    assert scope is not None
    assert scope.targets("urn:uuid:u-a") == ("Observation/a", "Observation/b")


def test_nested_bundles_are_read() -> None:
    outer = bundle(obs("a"))
    outer["entry"].append({"resource": bundle(obs("b"), obs("c"))})
    assert refs(load_resources(outer)) == ["Observation/a", "Observation/b", "Observation/c"]


def test_json_array_of_resources() -> None:
    text = json.dumps([obs("a"), bundle(obs("b"))])
    assert refs(load_resources(text)) == ["Observation/a", "Observation/b"]


def test_ndjson_text_and_file(tmp_path: Path) -> None:
    text = "\n".join(json.dumps(obs(i)) for i in "abc") + "\n\n"
    assert refs(load_resources(text)) == ["Observation/a", "Observation/b", "Observation/c"]
    path = tmp_path / "Observation.ndjson"
    path.write_text(json.dumps(obs("a")) + "\n")  # one line is still NDJSON by its suffix
    loaded = load_resources(path)
    assert refs(loaded) == ["Observation/a"]
    assert loaded.resources[0].origin == f"{path}:1"


def test_empty_ndjson_file_is_no_resources(tmp_path: Path) -> None:
    path = tmp_path / "Condition.ndjson"
    path.write_text("")
    assert load_resources(path).resources == ()


def test_utf8_bom_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(obs("a")).encode())
    assert refs(load_resources(path)) == ["Observation/a"]
    assert refs(load_resources("\ufeff" + json.dumps(obs("b")))) == ["Observation/b"]


def test_entries_without_resource_are_skipped_and_bad_entries_warn() -> None:
    data = bundle(obs("a"), kind="transaction")
    delete = {"request": {"method": "DELETE", "url": "Observation/x"}}
    data["entry"] += [delete, 5, {"resource": {}}]
    loaded = load_resources(data, origin="tx.json")
    assert refs(loaded) == ["Observation/a"]
    assert [str(w) for w in loaded.warnings] == [
        "tx.json entry 2: Bundle entry is not a JSON object",
        "tx.json entry 3: not a FHIR resource (a JSON object without a resourceType)",
    ]


def test_resource_without_id_is_named_by_its_full_url() -> None:
    data = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:1234", "resource": {"resourceType": "Patient"}},
            {"fullUrl": "https://h/fhir/Patient/77", "resource": {"resourceType": "Patient"}},
        ],
    }
    assert refs(load_resources(data)) == ["urn:uuid:1234", "Patient/77"]


def test_split_reference() -> None:
    assert split_reference("Patient/x") == ("Patient", "x")
    assert split_reference("https://h/fhir/Patient/x/_history/2") == ("Patient", "x")
    assert split_reference("urn:uuid:0b8e") is None
    assert split_reference("#contained") is None


# What is refused, in one line naming the file


def test_missing_file_and_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    assert one_line_error(missing) == f"{missing}: no such file"
    assert one_line_error(tmp_path) == f"{tmp_path}: is a directory, not a file"


def test_truncated_json_names_file_and_says_truncated(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(bundle(obs("a")))[:-20])
    message = one_line_error(path)
    assert message.startswith(f"{path}: not valid JSON")
    assert "truncated" in message


def test_garbage_names_line_and_column() -> None:
    message = one_line_error('{"resourceType": "Patient",\n "id": x}', origin="p.json")
    assert message == "p.json: not valid JSON: Expecting value at line 2 column 8"


def test_ndjson_bad_line_is_named() -> None:
    text = json.dumps(obs("a")) + "\n" + json.dumps(obs("b"))[:-3] + "\n"
    assert one_line_error(text, origin="x.ndjson").startswith("x.ndjson:2: not valid JSON")


def test_json_that_is_not_fhir() -> None:
    assert one_line_error({"name": "x"}, origin="a.json") == (
        "a.json: JSON but not FHIR: a JSON object without a resourceType"
    )
    assert one_line_error("[1]", origin="a.json") == "a.json item 0: JSON but not FHIR: a JSON int"
    assert one_line_error("null") == "<input>: JSON but not FHIR: null"
    message = one_line_error(json.dumps(obs("a")) + "\n" + '{"a": 1}', origin="b.ndjson")
    assert message == "b.ndjson:2: JSON but not FHIR: a JSON object without a resourceType"


def test_empty_and_non_utf8_input(tmp_path: Path) -> None:
    assert one_line_error("  \n", origin="e.json") == "e.json: empty, expected FHIR JSON"
    path = tmp_path / "latin1.json"
    path.write_bytes('{"resourceType": "Patient", "name": "Zoë"}'.encode("latin-1"))
    assert one_line_error(path) == f"{path}: not UTF-8 text (byte 0xeb at offset 39)"


def test_deeply_nested_json_is_an_input_error() -> None:
    assert "nested too deeply" in one_line_error("[" * 100_000 + "]" * 100_000)


def test_a_number_too_long_to_read_is_an_input_error(tmp_path: Path) -> None:
    text = json.dumps(obs("a"))[:-1] + ', "valueInteger": ' + "1" * 5000 + "}"
    expected = "not valid JSON: a number has more than 4300 digits"
    assert one_line_error(text, origin="big.json") == f"big.json: {expected}"
    path = tmp_path / "big.ndjson"
    path.write_text(json.dumps(obs("b")) + "\n" + text + "\n")
    assert one_line_error(path) == f"{path}:2: {expected}"
    with pytest.raises(FhirInputError, match=f"<input>: {expected}"):
        evaluate_bundle(text, "calf-fasciculation")


def test_input_error_is_a_fact_error() -> None:
    assert issubclass(FhirInputError, FactError)


# Real samples


def test_every_shared_sample_loads(fhir_samples: Path) -> None:
    files = sorted(fhir_samples.rglob("*.json"))
    assert len(files) >= 25
    for path in files:
        loaded = load_resources(path)
        assert loaded.resources, path
        assert loaded.warnings == (), path


def test_synthea_transaction_aliases_urn_uuids(fhir_samples: Path) -> None:
    path = next((fhir_samples / "synthea-r4").glob("Buster_Hoeger_*.json"))
    loaded = load_resources(path)
    patient = next(r for r in loaded.resources if r.type == "Patient")
    assert patient.bundle is not None
    assert patient.bundle.targets(f"urn:uuid:{patient.data['id']}") == (patient.reference,)


# Properties: any input either loads or raises FhirInputError, nothing else

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["resourceType", "entry", "resource", "fullUrl", "id", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)
resource_types = st.sampled_from(["Bundle", "Observation", "Patient", "", 3])


@st.composite
def fhir_like(draw: st.DrawFn) -> Any:
    value = draw(json_values)
    if isinstance(value, dict) and draw(st.booleans()):
        value["resourceType"] = draw(resource_types)
    return value


@settings(max_examples=300, deadline=None)
@given(fhir_like())
def test_any_json_value_loads_or_raises_input_error(value: Any) -> None:
    for data in (value, json.dumps(value)):
        try:
            load_resources(data)
        except FhirInputError as error:
            assert "\n" not in str(error)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_loads_or_raises_input_error(text: str) -> None:
    try:
        load_resources(text)
    except FhirInputError as error:
        assert "\n" not in str(error)


def test_resources_read_from_a_bundle_leave_no_reference_cycle() -> None:
    # a service reads a Bundle every call: what it read must be freed at once, not left to
    # the cycle collector (whose pauses land on the calls in flight)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:{n}", "resource": {"resourceType": "Observation", "id": str(n)}}
            for n in range(20)
        ],
    }
    gc.collect()
    gc.disable()
    try:
        loaded = load_resources(bundle)
        assert loaded.resources[0].bundle is not None
        del loaded
        assert gc.collect() == 0
    finally:
        gc.enable()
