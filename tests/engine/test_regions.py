"""Body regions through the library: records carry a site code and its laterality, with no FHIR;
the explanation says how many regions and which side."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Evaluator, Record
from engine.errors import FactError
from engine.loader import load_text
from engine.regions import place_of, region_count, share_a_region, side_words
from tests.engine.regioned import NOW, REGIONS

RULESET = load_text(REGIONS)
DAY = NOW - timedelta(days=1)
CALF, EYELID = "sct#53840002", "sct#80243003"


def twitch(source: str, site: str | None, *sides: str) -> Record:
    return Record("fasciculation", source, DAY, site=site, laterality=frozenset(sides))


def test_the_region_count_is_in_the_explanation() -> None:
    evaluation = Evaluator(RULESET).evaluate(
        [twitch("a", EYELID), twitch("b", CALF, "left")], as_of=NOW
    )
    [firing] = [f for f in evaluation.trace if f.rule == "widespread"]
    text = repr(firing)
    assert "2 body regions" in text and "'a'" in text and "'b'" in text


def test_a_precoordinated_side_wins_over_laterality() -> None:
    record = twitch("a", "sct#32153003", "right")  # left lower limb, qualified right
    place = place_of(record, RULESET)
    assert place.site == "left_lower_limb" and place.sides == frozenset({"left"})


def test_laterality_counts_only_in_a_sided_class() -> None:
    assert place_of(twitch("a", EYELID, "left"), RULESET).sides == frozenset()
    assert region_count([twitch("a", EYELID, "left"), twitch("b", EYELID, "right")], RULESET) == 1


@pytest.mark.parametrize(
    ("one", "other", "shared"),
    [
        ((CALF, "left"), ("sct#68367000",), True),  # left calf, thigh of unknown side
        ((CALF, "left"), (CALF, "right"), False),
        ((CALF, "left", "right"), (CALF, "right"), True),
        ((CALF,), ("sct#85562004",), False),  # calf, hand
        ((EYELID, "left"), (EYELID, "right"), True),  # head is not sided
        ((CALF,), (None,), False),
        (("sct#117590005",), ("sct#117590005",), False),  # ear: a site in no region
    ],
)
def test_records_share_a_region_by_class_and_side(
    one: tuple[str | None, ...], other: tuple[str | None, ...], shared: bool
) -> None:
    first = twitch("a", one[0], *(s for s in one[1:] if s))
    second = twitch("b", other[0], *(s for s in other[1:] if s))
    assert share_a_region(first, second, RULESET) is shared


def test_side_words() -> None:
    assert side_words(frozenset({"right", "left"})) == "left and right"
    assert side_words(frozenset()) == "side not recorded"


@pytest.mark.parametrize("laterality", [frozenset({"up"}), {"left"}, "left"])
def test_a_laterality_that_is_not_left_or_right_is_refused(laterality: object) -> None:
    record = Record("fasciculation", "a", DAY, site=CALF, laterality=laterality)  # type: ignore[arg-type]
    with pytest.raises(FactError, match="a: laterality must be a frozenset of 'left' and 'right'"):
        Evaluator(RULESET).evaluate([record], as_of=NOW)
