"""What the engine accepts: records and an evaluation time, checked before anything runs."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import UTC, datetime

from .codes import parse_code
from .errors import CodeError, FactError
from .model import Ruleset
from .records import Quantity, Record
from .regions import SIDES


def check_records(facts: Iterable[Record], ruleset: Ruleset) -> list[Record]:
    """The records, checked: every one a Record of a concept the ruleset knows, with aware
    times and numeric values. Raises `FactError` naming the record."""
    if isinstance(facts, Record | str | bytes) or not isinstance(facts, Iterable):
        raise FactError(f"facts must be an iterable of Record, not {type(facts).__name__}")
    records = list(facts)
    concepts = ruleset.concepts
    sites: set[str] = set()  # each distinct site parsed once: a chart repeats a few
    for record in records:
        if not isinstance(record, Record):
            raise FactError(f"facts must be Records, found {type(record).__name__}")
        if not isinstance(record.concept, str):
            raise FactError(f"a record's concept is a name, not {type(record.concept).__name__}")
        if record.concept not in concepts:
            close = difflib.get_close_matches(record.concept, list(concepts), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise FactError(
                f"{record.source}: concept {record.concept!r} is not in ruleset {ruleset.id}{hint}"
            )
        _check_fields(record)
        if record.evidence_class is not None:
            _check_evidence(record, ruleset)
        if record.site is not None and record.site not in sites:
            _check_site(record, ruleset)
            sites.add(record.site)
    return records


def _check_evidence(record: Record, ruleset: Ruleset) -> None:
    """A record's evidence class is one its concept defines: another matches no condition."""
    known = [kind.name for kind in ruleset.concepts[record.concept].evidence]
    if record.evidence_class not in known:
        listed = ", ".join(known) or "none"
        raise FactError(
            f"{record.source}: evidence class {record.evidence_class!r} is not one of "
            f"{record.concept}'s (its classes: {listed})"
        )


def _check_fields(record: Record) -> None:
    where = f"{record.source}: " if isinstance(record.source, str) else ""
    if not isinstance(record.source, str):
        raise FactError(f"record of {record.concept}: source must be a reference string")
    for moment in (record.time, record.end):
        if moment is not None:
            _check_aware(moment, "time", where)
    value, low = record.value, record.reference_low
    if value is not None and not isinstance(value, Quantity) and not _is_number(value):
        raise FactError(f"{where}value must be a Quantity, a number or None, not {value!r}")
    if low is not None and not isinstance(low, Quantity):
        # a limit without its unit cannot be compared with the value
        raise FactError(f"{where}reference_low must be a Quantity or None, not {low!r}")
    for quantity in (value, low):
        if isinstance(quantity, Quantity) and (
            not _is_number(quantity.value) or not isinstance(quantity.unit, str)
        ):
            raise FactError(f"{where}a quantity needs a number and a unit, not {quantity!r}")
    sides = record.laterality
    if not isinstance(sides, frozenset) or not sides <= frozenset(SIDES):
        raise FactError(
            f"{where}laterality must be a frozenset of 'left' and 'right', not {sides!r}"
        )
    for flag in ("present", "ongoing", "preliminary", "date_only"):
        if not isinstance(getattr(record, flag), bool):
            raise FactError(f"{where}{flag} must be True or False, not {getattr(record, flag)!r}")


def _check_site(record: Record, ruleset: Ruleset) -> None:
    """A site in another spelling (`SCT#...`, `system|code`) would match no named site."""
    where = f"{record.source}: "
    if not isinstance(record.site, str):
        raise FactError(f"{where}site must be a code such as 'sct#53840002'")
    try:
        parse_code(record.site, ruleset.code_systems)
    except CodeError as error:
        raise FactError(f"{where}site: {error}") from None


def _check_aware(moment: object, name: str, where: str = "") -> None:
    if not isinstance(moment, datetime):
        raise FactError(f"{where}{name} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None:
        raise FactError(f"{where}{name} {moment.isoformat()} has no timezone")


def _is_number(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        float(value)  # an int past the largest float is no measurement
    except OverflowError:
        return False
    return True


def as_of_or_now(as_of: datetime | None, now: datetime | None = None) -> datetime:
    """`as_of`, else the caller's `now`, else the clock; raises `FactError` naming the argument
    that is not an aware datetime."""
    for name, moment in (("as_of", as_of), ("now", now)):
        if moment is not None:
            _check_aware(moment, name)
    return as_of or now or datetime.now(UTC)
