"""JSON text reads as json.loads reads it: the same values, the same errors."""

from __future__ import annotations

import json
import math
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
        assert same(jsontext.loads(text), expected)


def test_what_orjson_refuses_still_reads() -> None:
    assert jsontext.loads(b'{"value": 123456789012345678901234567890}') == {
        "value": 123456789012345678901234567890
    }
    assert math.isnan(jsontext.loads(b"[NaN]")[0])


def test_duplicate_keys_keep_the_last_as_the_standard_library_does() -> None:
    assert jsontext.loads(b'{"a": 1, "a": 2}') == json.loads('{"a": 1, "a": 2}') == {"a": 2}


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
