"""Hypothesis strategies for the fuzz properties: real FHIR resources (the bundled examples and
the shared samples, when present) with a few fields dropped, duplicated, retyped or filled with
what careless data sources send: numbers as strings, huge numbers, NaN-like text, deep nesting,
odd unicode (a lone surrogate included).

Mutations work on parsed JSON, so a repeated key in one object (issue 12, defect 6, being fixed
elsewhere) is never generated here."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

ROOT = Path(__file__).parents[2]
SAMPLES = ROOT.parent / "shared" / "fhir-samples"
EXAMPLES = ROOT / "examples" / "calf-patients.json"
MAX_SAMPLE_BYTES = 20_000


def _resources() -> list[dict[str, Any]]:
    bundle = json.loads(EXAMPLES.read_text())
    found = [entry["resource"] for entry in bundle["entry"]]
    if SAMPLES.is_dir():
        for path in sorted(SAMPLES.rglob("*.json")):
            if path.stat().st_size <= MAX_SAMPLE_BYTES:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
                if data.get("resourceType") != "Bundle":
                    found.append(data)
    return found


RESOURCES = _resources()
EXAMPLE_BUNDLE: dict[str, Any] = json.loads(EXAMPLES.read_text())

ODD_TEXT = [
    "",
    " ",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "1e999",
    "-0",
    "0x10",
    "1_000",
    " 2.2 ",
    "2,2",
    "\u0662\u066b\u0662",  # 2.2 in Arabic-Indic digits
    "\U0001d7da.\U0001d7da",  # mathematical digits
    "\u202eevil",  # right-to-left override
    "a\u200bb",  # zero-width space
    "\x00",
    "\ufeff",
    "e\u0301\u0301\u0301",
    "\udcff",  # a lone surrogate
    "\ud800x",
    "x" * 5000,
    "Patient/",
    "urn:uuid:",
    "#",
    "2026-02-30",
    "2026-13-01T25:61:61Z",
    "0001-01-01",
    "9999-12-31T23:59:59+14:00",
]
ODD_NUMBERS: list[int | float] = [
    0,
    -0.0,
    -1,
    -2.2,
    10**400,
    -(10**400),
    2**63,
    1e308,
    5e-324,
    1e-7,
    1.0000000000000002,
]

odd_scalars = (
    st.sampled_from(ODD_TEXT)
    | st.sampled_from(ODD_NUMBERS)
    | st.none()
    | st.booleans()
    | st.text(max_size=12)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
)
odd_values = st.recursive(
    odd_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
OPERATIONS = ("drop", "duplicate", "retype", "as-text", "as-number", "nest", "odd-key", "empty")


def _places(value: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key or index) in a parsed JSON value."""
    if isinstance(value, dict):
        for key in list(value):
            yield value, key
            yield from _places(value[key])
    elif isinstance(value, list):
        for index in range(len(value)):
            yield value, index
            yield from _places(value[index])


def _mutate_once(draw: st.DrawFn, value: Any) -> None:
    places = list(_places(value))
    if not places:
        return
    container, key = draw(st.sampled_from(places))
    operation = draw(st.sampled_from(OPERATIONS))
    current = container[key]
    if operation == "drop":
        del container[key]
    elif operation == "duplicate" and isinstance(container, list):
        container.insert(key, copy.deepcopy(current))
    elif operation == "duplicate":
        container[key] = [current, copy.deepcopy(current)]  # one value turned into a list
    elif operation == "as-text" and isinstance(current, int | float):
        container[key] = str(current)
    elif operation == "as-number" and isinstance(current, str):
        container[key] = draw(st.sampled_from(ODD_NUMBERS))
    elif operation == "nest":
        depth = draw(st.integers(2, 120))
        for _ in range(depth):
            current = [current] if draw(st.booleans()) else {"value": current}
        container[key] = current
    elif operation == "odd-key" and isinstance(container, dict):
        del container[key]
        container[key + draw(st.sampled_from(["\u200b", "\udcff", " ", "_", "é"]))] = current
    elif operation == "empty":
        container[key] = draw(st.sampled_from([{}, [], "", None]))
    else:
        container[key] = draw(odd_values)


@st.composite
def mutated(draw: st.DrawFn, value: Any, most: int = 4) -> Any:
    """A deep copy of `value` with 1 to `most` random mutations."""
    out = copy.deepcopy(value)
    for _ in range(draw(st.integers(1, most))):
        _mutate_once(draw, out)
    return out


@st.composite
def mutated_bundles(draw: st.DrawFn) -> dict[str, Any]:
    """The bundled example patients, with resources from the shared samples added and a few
    entries mutated."""
    bundle = copy.deepcopy(EXAMPLE_BUNDLE)
    entries = bundle["entry"]
    for resource in draw(st.lists(st.sampled_from(RESOURCES), max_size=3)):
        entries.append({"resource": copy.deepcopy(resource)})
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(entries) - 1))
        entries[index] = draw(mutated(entries[index], most=3))
    if draw(st.integers(0, 9)) == 0:
        bundle = draw(mutated(bundle, most=2))  # the Bundle's own fields too, now and then
    return bundle


def has_lone_surrogate(value: Any) -> bool:
    """Whether any key or string in a parsed JSON value holds an unpaired surrogate."""
    text = json.dumps(value, ensure_ascii=False)
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)
