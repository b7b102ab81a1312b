"""One JSON object written a piece at a time, for output too large to build whole first."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any


def json_pieces(
    head: Mapping[str, Any], key: str, items: Iterable[Any], tail: Mapping[str, Any]
) -> Iterator[str]:
    """The text of `json.dumps({**head, key: [*items], **tail}, indent=2,
    ensure_ascii=False) + "\\n"`, in pieces: each item is encoded only when it is reached."""
    opening = _dumps({**head, key: []})
    yield opening.removesuffix("[]\n}") + "["
    separator = "\n"
    for item in items:
        # a newline in JSON text is layout only (inside a string it is written \n)
        yield separator + "    " + _dumps(item).replace("\n", "\n    ")
        separator = ",\n"
    yield "]" if separator == "\n" else "\n  ]"
    closing = _dumps(dict(tail))
    yield ("," + closing.removeprefix("{") if tail else "\n}") + "\n"


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
