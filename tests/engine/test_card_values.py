"""A concept's `shown-decimals` says how its values are written on a card and in `{concept}`:
exactly that many places, rounded half-up; without it, as before (up to 3 places, no zeros)."""

from __future__ import annotations

import pytest

from engine.explanation import written
from engine.model import Concept


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (2.9, 2, "2.90"),
        (0.125, 2, "0.13"),  # half-up, on the decimal written, not the binary float
        (1234.5, 0, "1235"),
        (10.49, 0, "10"),
        (2.9, None, "2.9"),
        (5.8333, None, "5.833"),
    ],
)
def test_a_value_is_written_with_its_concepts_places(
    value: float, places: int | None, text: str
) -> None:
    concept = Concept(name="analyte", codes=(), shown_decimals=places)
    assert written(value, concept) == text
