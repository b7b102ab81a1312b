"""SeenOnce answers whether a key was met before, forgets it once kept, and stays bounded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fhir_adapters.admission import SeenOnce


def test_a_key_is_new_the_first_time_and_known_the_second() -> None:
    seen = SeenOnce(10)
    assert not seen.again(b"k")
    assert seen.again(b"k")
    assert not seen.again(b"k")  # kept by the caller since: it starts over


def test_when_full_every_key_met_once_is_forgotten() -> None:
    seen = SeenOnce(3)
    for key in (1, 2, 3):
        seen.again(key)
    assert not seen.again(4)  # full: 1, 2 and 3 are forgotten, 4 remembered
    assert len(seen) == 1
    assert not seen.again(1)
    assert seen.again(4)


@given(st.lists(st.integers(0, 20), max_size=200), st.integers(1, 8))
def test_never_more_keys_than_its_size(keys: list[int], size: int) -> None:
    seen = SeenOnce(size)
    for key in keys:
        seen.again(key)
        assert len(seen) <= size
