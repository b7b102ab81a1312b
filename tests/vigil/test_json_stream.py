"""JSON written in pieces is the text `json.dumps` writes whole."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.json_stream import json_pieces

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@given(
    head=st.dictionaries(st.text(), JSON, max_size=3),
    items=st.lists(JSON, max_size=4),
    tail=st.dictionaries(st.text(), JSON, max_size=2),
)
def test_pieces_join_to_what_json_dumps_writes(
    head: dict[str, Any], items: list[Any], tail: dict[str, Any]
) -> None:
    head.pop("results", None)
    tail = {k: v for k, v in tail.items() if k not in head and k != "results"}
    whole = {**head, "results": items, **tail}

    text = "".join(json_pieces(head, "results", iter(items), tail))

    assert text == json.dumps(whole, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("items", [[], [{"patient": "Patient/a\nb"}, []]])
def test_examples(items: list[Any]) -> None:
    head, tail = {"ruleset": {"id": "x"}}, {"warnings": []}
    text = "".join(json_pieces(head, "results", items, tail))
    assert json.loads(text) == {**head, "results": items, **tail}
