"""Body regions: where a record lies, how many regions records span, focal, sides.

A record's site is looked up in the ruleset's `sites`; a site with a `region` lies in that
region class, on its pre-coordinated `side` if it has one, else on the sides of the record's
laterality (only in a `sided` class). A record with no site, or one the table does not place,
lies in no region. The region count of records is the number of unsided classes seen plus, for
each sided class seen, its distinct known sides (1 when only side-unknown records were seen).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .codes import parse_code
from .errors import CodeError
from .model import Concept, Region, Ruleset
from .records import Record

__all__ = [
    "SIDES",
    "Place",
    "SideState",
    "is_focal",
    "latest_sides",
    "not_at_its_site",
    "place_of",
    "region_count",
    "share_a_region",
    "side_state",
    "side_words",
    "sides_seen",
]

SIDES: tuple[str, ...] = ("left", "right")
SideState = Literal["one-sided", "both-sides", "side-not-recorded"]


@dataclass(frozen=True, slots=True)
class Place:
    """Where one record lies: its site's name (None: no site, or one not named), its region
    class (None: in no region) and its known sides (empty: side unknown)."""

    site: str | None
    region: Region | None
    sides: frozenset[str]


def place_of(record: Record, ruleset: Ruleset) -> Place:
    """The site, region class and sides of `record` (a pre-coordinated side wins)."""
    site = _site_name(record, ruleset)
    placed = ruleset.site_regions.get(site) if site is not None else None
    region = ruleset.regions.get(placed.region) if placed is not None else None
    if placed is None or region is None:
        return Place(site, None, frozenset())
    if placed.side is not None:
        return Place(site, region, frozenset({placed.side}))
    sides = record.laterality & frozenset(SIDES) if region.sided else frozenset()
    return Place(site, region, sides)


def region_count(records: Iterable[Record], ruleset: Ruleset) -> int:
    """How many body regions `records` span (records in no region add none)."""
    unsided: set[str] = set()
    sided: dict[str, set[str]] = {}
    for record in records:
        place = place_of(record, ruleset)
        if place.region is None:
            continue
        if place.region.sided:
            sided.setdefault(place.region.name, set()).update(place.sides)
        else:
            unsided.add(place.region.name)
    return len(unsided) + sum(max(1, len(sides)) for sides in sided.values())


def is_focal(records: Iterable[Record], ruleset: Ruleset) -> bool:
    """Whether `records` (at least one) all lie in regions of focal classes, one region in all."""
    listed = list(records)
    if not listed:
        return False
    for record in listed:
        region = place_of(record, ruleset).region
        if region is None or not region.focal:
            return False
    return region_count(listed, ruleset) == 1


def share_a_region(one: Record, other: Record, ruleset: Ruleset) -> bool:
    """Whether two records lie in one region: the same class and, in a sided class, a side in
    common or either side unknown (records in no region share none)."""
    first, second = place_of(one, ruleset), place_of(other, ruleset)
    if first.region is None or second.region is None or first.region != second.region:
        return False
    return not first.sides or not second.sides or bool(first.sides & second.sides)


def sides_seen(records: Iterable[Record], ruleset: Ruleset) -> frozenset[str]:
    """The known sides of `records`, left and right as the laterality or site says."""
    return frozenset(side for record in records for side in place_of(record, ruleset).sides)


def side_state(records: Iterable[Record], ruleset: Ruleset) -> SideState | None:
    """One-sided (exactly one of left and right seen; side-unknown records do not change it),
    both sides, or side not recorded; None when there are no records."""
    listed = list(records)
    if not listed:
        return None
    sides = sides_seen(listed, ruleset)
    if len(sides) == 1:
        return "one-sided"
    return "both-sides" if sides else "side-not-recorded"


def latest_sides(records: Iterable[Record], ruleset: Ruleset) -> frozenset[str]:
    """The known sides of the latest dated record that has any (empty: none has a side)."""
    sided = [
        (record.time, place.sides)
        for record in records
        if record.time is not None and (place := place_of(record, ruleset)).sides
    ]
    return max(sided, key=lambda pair: pair[0])[1] if sided else frozenset()


def side_words(sides: frozenset[str]) -> str:
    """`left`, `right`, `left and right`, or `side not recorded`."""
    known = [side for side in SIDES if side in sides]
    return " and ".join(known) if known else "side not recorded"


def not_at_its_site(record: Record, concept: Concept, ruleset: Ruleset) -> str | None:
    """Why `record` does not count, when its code means `concept` only at a region class or a
    named site (`sct#65124004 at lower_limb`) and the record's site is not there; else None."""
    if not concept.sited_codes or record.code is None:
        return None
    try:
        key = parse_code(record.code, ruleset.code_systems).key
    except CodeError:
        return None
    wanted = [place for code, place in concept.sited_codes if code.key == key]
    if not wanted:
        return None
    place = place_of(record, ruleset)
    region = place.region.name if place.region is not None else None
    if any(name in (place.site, region) for name in wanted):
        return None
    where = " or ".join(wanted)
    found = (
        "it has no body site"
        if not record.site
        else f"its body site {_compact(record, ruleset)} is not"
    )
    return f"{record.code} means {concept.name} only at a body site in {where}; {found}: left out"


def _compact(record: Record, ruleset: Ruleset) -> str:
    assert record.site is not None
    try:
        return parse_code(record.site, ruleset.code_systems).compact(dict(ruleset.code_systems))
    except CodeError:
        return record.site


def _site_name(record: Record, ruleset: Ruleset) -> str | None:
    if not record.site:
        return None
    try:
        code = parse_code(record.site, ruleset.code_systems)
    except CodeError:
        return None  # refused by inputs.check_records before evaluation
    return ruleset.site_for(code.system, code.code)
