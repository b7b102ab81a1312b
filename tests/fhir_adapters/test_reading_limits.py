"""Reading files within bounds: NDJSON a line at a time, one JSON document up to a size."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fhir_adapters.errors import FhirInputError
from fhir_adapters.packed import PackedJson
from fhir_adapters.reading import load_resources


def obs(oid: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
        "subject": {"reference": "Patient/p1"},
    }


def test_ndjson_larger_than_the_limit_is_read_a_line_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "export.ndjson"
    path.write_text("".join(json.dumps(obs(f"o{i}")) + "\n" for i in range(100)))
    limit = 1_000  # each line is within it, the file fifteen times over

    loaded = load_resources(path, max_json_size=limit)

    assert [r.reference for r in loaded.resources] == [f"Observation/o{i}" for i in range(100)]
    assert loaded.resources[7].origin == f"{path}:8"
    assert loaded.resources[7].data == obs("o7")


def test_resources_read_from_a_file_are_kept_packed_not_parsed(tmp_path: Path) -> None:
    path = tmp_path / "export.ndjson"
    path.write_text(json.dumps(obs("a")) + "\n")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "entry": [{"resource": obs("b")}]}))

    for loaded in (load_resources(path), load_resources(bundle)):
        [resource] = loaded.resources
        assert isinstance(resource.content, PackedJson)
        assert resource.data == obs(resource.data["id"])
        assert resource.data is not resource.data  # a new dict each time: nothing kept parsed


def test_a_json_document_over_the_limit_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    entries = [{"resource": obs(f"o{i}")} for i in range(100)]
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": entries}))

    with pytest.raises(FhirInputError) as caught:
        load_resources(path, max_json_size=1_000)

    assert str(caught.value) == (
        f"{path}: a JSON document larger than 1,000 bytes (the limit, --max-json-size) is not"
        " read, as it is parsed whole: split it, or write it as NDJSON (one resource a line, in"
        " a file named .ndjson), which is read a line at a time"
    )


def test_an_ndjson_line_over_the_limit_is_refused_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "export.ndjson"
    path.write_text(json.dumps(obs("a")) + "\n" + json.dumps(obs("b" * 2_000)) + "\n")

    with pytest.raises(FhirInputError) as caught:
        load_resources(path, max_json_size=1_000)

    assert str(caught.value).startswith(f"{path}:2: a JSON document larger than 1,000 bytes")


def test_a_stream_without_end_is_read_up_to_the_limit() -> None:
    with pytest.raises(FhirInputError) as caught:
        load_resources(Path("/dev/zero"), max_json_size=2**20)

    assert str(caught.value).startswith("/dev/zero: a JSON document larger than 1 MiB")


def test_ndjson_lines_keep_their_byte_order_mark_and_crlf_tolerance(tmp_path: Path) -> None:
    path = tmp_path / "export.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(obs("a")).encode() + b"\r\n\r\n")

    assert [r.reference for r in load_resources(path).resources] == ["Observation/a"]


def test_an_ndjson_line_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "export.ndjson"
    path.write_bytes(json.dumps(obs("a")).encode() + b"\n" + b'{"id": "\xff"}\n')

    with pytest.raises(FhirInputError) as caught:
        load_resources(path)

    assert str(caught.value) == f"{path}:2: not UTF-8 text (byte 0xff at offset 8)"


@pytest.mark.parametrize(
    "value",
    [
        {"big": 10**40, "negative zero": -0.0, "float": 0.1, "text": "Zoë \u2028 \udcff"},
        {"nested": [{"a": [1, 2.5, None, True]}], "empty": {}},
    ],
)
def test_packed_json_reads_back_the_same_value(value: dict[str, Any]) -> None:
    packed = PackedJson(value)

    assert packed.unpack() == value
    assert math.copysign(1, PackedJson({"z": -0.0}).unpack()["z"]) == -1


RESOURCE = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Observation", "Patient", "Bundle", "List", ""])},
    optional={
        "id": st.text(max_size=3),
        "entry": st.lists(st.just({"item": 1}), max_size=2),
        "value": st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=3)),
    },
)
ENTRY = st.one_of(
    st.fixed_dictionaries({"resource": RESOURCE}, optional={"fullUrl": st.text(max_size=3)}),
    st.integers(),
    st.just({}),
)
DOCUMENT = st.one_of(
    st.fixed_dictionaries(
        {"resourceType": st.sampled_from(["Bundle", "List"])},
        optional={"entry": st.one_of(st.lists(ENTRY, max_size=4), st.integers()), "id": st.text()},
    ),
    st.lists(RESOURCE, max_size=3),
)


def outcome(data: Path | str, origin: str) -> object:
    try:
        loaded = load_resources(data, origin=origin)
    except FhirInputError as error:
        return str(error)
    return (
        [(r.reference, r.origin, r.full_url, r.data) for r in loaded.resources],
        loaded.warnings,
    )


@settings(max_examples=300, deadline=None)
@given(
    document=DOCUMENT,
    indent=st.sampled_from([None, 1]),
    cut=st.integers(min_value=0, max_value=3),
    extra=st.sampled_from(["", " \n", "\n{}", "x"]),
)
def test_a_bundle_read_from_a_file_entry_by_entry_is_read_as_its_text_is(
    document: Any, indent: int | None, cut: int, extra: str
) -> None:
    text = json.dumps(document, indent=indent)
    text = text[: len(text) - cut] + extra
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "b.json"
        path.write_text(text)

        assert outcome(path, "b.json") == outcome(text, "b.json")
