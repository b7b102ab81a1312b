"""JSON text reads as json.loads reads it: the same values, the same errors."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fhir_adapters import jsontext

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too, which orjson refuses
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 is not 1.0 is not True)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


@settings(max_examples=300)
@given(values)
def test_any_json_reads_as_the_standard_library_reads_it(value: Any) -> None:
    text = json.dumps(value)
    assert same(jsontext.loads(text.encode()), json.loads(text))
    assert same(jsontext.loads(text), json.loads(text))


@settings(max_examples=300)
@given(st.text(max_size=30) | st.binary(max_size=30))
def test_any_text_is_read_or_refused_as_the_standard_library_does(text: str | bytes) -> None:
    try:
        expected: Any = json.loads(text)
    except (ValueError, RecursionError) as error:
        with pytest.raises(type(error)):
            jsontext.loads(text)
    else:
        try:
            found = jsontext.loads(text)
        except jsontext.RepeatedKeyError:
            assert repeats_a_key(text)
        else:
            assert same(found, expected)


def repeats_a_key(text: str | bytes) -> bool:
    repeated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        repeated = repeated or len({key for key, _ in items}) < len(items)
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return repeated


def test_what_orjson_refuses_still_reads() -> None:
    assert jsontext.loads(b'{"value": 123456789012345678901234567890}') == {
        "value": 123456789012345678901234567890
    }
    assert math.isnan(jsontext.loads(b"[NaN]")[0])


def test_nesting_too_deep_fails_as_the_standard_library_fails() -> None:
    deep = b"[" * 5000 + b"]" * 5000
    with pytest.raises(RecursionError):
        json.loads(deep)
    with pytest.raises(RecursionError):
        jsontext.loads(deep)


def test_a_number_too_long_for_int_is_a_value_error_that_says_so() -> None:
    for text in ("[" + "1" * 5000 + "]", b"-" + b"9" * 5000):
        with pytest.raises(ValueError, match=r"^a number has more than 4300 digits$"):
            jsontext.loads(text)


# --- repeated keys -----------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "value", "code", "resourceType", "é:", 'q"\\', "\u2028"]) | st.text(
    max_size=3
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from(["Observation", "Bundle", ":", '"}:{', "\\u003a", "x\\"])
    | st.text(max_size=5)
)


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    """JSON text whose objects may repeat keys (written plainly or as \\u escapes), with any
    whitespace around the structure."""

    def blank() -> str:
        return draw(st.sampled_from(["", " ", "\n", " \t\r\n "]))

    def key(name: str) -> str:
        if name and draw(st.booleans()):
            return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c for c in name) + '"'
        return json.dumps(name, ensure_ascii=draw(st.booleans()))

    def write(depth: int) -> str:
        kind = draw(
            st.sampled_from(["scalar", "list", "object", "object"] if depth < 4 else ["scalar"])
        )
        if kind == "scalar":
            return json.dumps(draw(SCALARS), ensure_ascii=draw(st.booleans()))
        if kind == "list":
            items = [write(depth + 1) for _ in range(draw(st.integers(0, 3)))]
            return "[" + blank() + ("," + blank()).join(items) + blank() + "]"
        names: list[str] = draw(st.lists(KEYS, max_size=4))
        repeat: bool = draw(st.booleans())
        if names and repeat:
            names.append(draw(st.sampled_from(names)))  # a repeat, often
        members = [key(n) + blank() + ":" + blank() + write(depth + 1) for n in names]
        if draw(st.booleans()):  # a resource, or a Bundle
            resource_type = draw(st.sampled_from(["Observation", "Bundle"]))
            members.insert(0, f'"resourceType":{blank()}"{resource_type}"')
        return "{" + blank() + ("," + blank()).join(members) + blank() + "}"

    return blank() + write(0) + blank()


def repeated_keys_in(value: Any) -> list[jsontext.RepeatedKeys]:
    found = [value] if isinstance(value, jsontext.RepeatedKeys) else []
    children = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    )
    return found + [r for child in children for r in repeated_keys_in(child)]


@settings(max_examples=500)
@given(json_texts())
def test_a_repeated_key_is_told_exactly_when_there_is_one(text: str) -> None:
    expected = json.loads(text)
    repeated = repeats_a_key(text)
    for given_text in (text, text.encode()):
        try:
            value = jsontext.loads(given_text)
        except jsontext.RepeatedKeyError as error:
            assert repeated
            assert str(error).startswith(f"line {error.line}: key ")
            continue
        assert same(value, expected)  # a RepeatedKeys is a dict with json.loads's items
        assert bool(repeated_keys_in(value)) == repeated


def test_a_repeated_key_in_a_resource_marks_that_resource_with_the_key_path() -> None:
    text = b"""{"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "Observation", "id": "k1",
                      "valueQuantity": {"value": 2.2, "value": 4.5, "unit": "mmol/L"}}},
        {"resource": {"resourceType": "Observation", "id": "k2", "valueQuantity": {"value": 3}}},
        {"resource": {"resourceType": "Observation", "id": "k3",
                      "code": {"coding": []}, "component": [{"a": 1, "a": 2, "a": 3}],
                      "code": {"text": "x"}}}]}"""
    value = jsontext.loads(text)
    first, second, third = (entry["resource"] for entry in value["entry"])
    assert isinstance(first, jsontext.RepeatedKeys)
    assert first.problems == ("valueQuantity.value appears twice",)
    assert first["valueQuantity"] == {"value": 4.5, "unit": "mmol/L"}
    assert not isinstance(second, jsontext.RepeatedKeys)
    assert isinstance(third, jsontext.RepeatedKeys)
    assert sorted(third.problems) == ["code appears twice", "component[0].a appears 3 times"]
    assert type(value) is dict


def test_a_key_repeated_in_a_contained_resource_marks_the_resource_that_holds_it() -> None:
    value = jsontext.loads(
        '{"resourceType": "Observation", "contained": [{"resourceType": "Patient", "id": "a",'
        ' "id": "b"}]}'
    )
    assert isinstance(value, jsontext.RepeatedKeys)
    assert value.problems == ("contained[0].id appears twice",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"resourceType": "Bundle",\n "type": "a",\n "type": "b"}', "line 3: key 'type'"),
        ('{"entry": [{"fullUrl": "u:1",\n"fullUrl": "u:2"}]}', "line 2: key 'entry[0].fullUrl'"),
        ('{"hook": "patient-view", "hook": "order-sign"}', "line 1: key 'hook'"),
        ('[{"resourceType": "Bundle", "resourceType": "Observation"}]', "key '[0].resourceType'"),
    ],
)
def test_a_key_repeated_where_no_resource_can_be_named_is_an_error(text: str, message: str) -> None:
    with pytest.raises(jsontext.RepeatedKeyError, match=re.escape(message)):
        jsontext.loads(text)


def test_an_escaped_colon_does_not_hide_a_repeated_key() -> None:
    # one key dropped, one colon escaped in a string: the same number of plain colons
    text = '{"resourceType": "Observation", "a": "\\u003a", "a": "\\u003a"}'
    assert isinstance(jsontext.loads(text), jsontext.RepeatedKeys)
    assert jsontext.loads('{"a": "\\u003a", "b": ":"}') == {"a": ":", "b": ":"}


def test_json_nested_deeper_than_orjson_writes_is_still_read_and_checked() -> None:
    depth = 600  # orjson reads 1024 levels but writes 254
    assert jsontext.loads("[" * depth + "]" * depth) == json.loads("[" * depth + "]" * depth)
    with pytest.raises(jsontext.RepeatedKeyError) as raised:
        jsontext.loads("[" * depth + '{"a": 1, "a": 2}' + "]" * depth)
    assert len(str(raised.value)) < 160  # the path's end only
    assert str(raised.value).endswith(
        "[0][0].a' appears twice: which value is meant cannot be told"
    )
