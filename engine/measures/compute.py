"""A measure's value for one patient: `compute` dispatches on the atom's kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from .. import regions, units
from ..clock import Duration, calendar_date, completed_years
from ..codes import parse_code
from ..conditions import (
    AboveReference,
    CodedIs,
    Compare,
    Marked,
    MedicationState,
    NotRechecked,
    Presence,
    RegionState,
    ResultTest,
    Streak,
    Trend,
)
from ..errors import CodeError
from ..evaluation import DataWarning
from ..evidence import on_or_after
from ..model import Concept
from ..results import current_results, favoured, not_rechecked, result_test
from ..summary import Reading, Summary, rounded
from ..thresholds import meets
from .context import Context, Interval, current, latest_start_date
from .definition import Measure, Measured, decimal_of
from .medications import medication_state
from .readings import (
    in_window,
    median,
    number_text,
    overlapping,
    present_in,
    previous,
    reading_date,
    time_of,
    unit_of,
    value_of,
    valued,
    window_words,
    yes,
)
from .trends import trend


def compute(measure: Measure, summary: Summary, context: Context) -> Measured | None:
    """The value of `measure` for the patient whose concept summary is `summary`."""
    atom = measure.atom
    window = getattr(atom, "window", None)
    interval: Interval | None = None
    if window is not None:
        interval = context.interval(window)
        if interval is None:
            return None
    return _COMPUTE[type(atom)](measure, summary, context, interval)


def _compare(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, Compare)
    concept = summary.concept
    where = window_words(atom)
    if concept.field == "age":
        return _age(summary, context)
    if atom.attribute in ("count", "sites", "span", "regions"):
        present = overlapping(present_in(summary, interval), interval, context, concept.kind)
        if atom.attribute == "count":
            count = len({r.record.source for r in present})
            return Measured(Decimal(count), f"count {count}{where}", tuple(present))
        if atom.attribute == "sites":
            sited = [r for r in present if r.site]
            count = len({r.site for r in sited})
            return Measured(Decimal(count), f"{count} sites{where}", tuple(sited))
        if atom.attribute == "regions":
            counted = [r for r in present if regions.place_of(r.record, context.ruleset).region]
            count = regions.region_count((r.record for r in counted), context.ruleset)
            return Measured(Decimal(count), f"{count} body regions{where}", tuple(counted))
        times = [r.record.time for r in present if r.record.time]
        if not times:
            return None
        days = Decimal(repr((max(times) - min(times)).total_seconds())) / 86400
        return Measured(days, f"span {number_text(days)} days{where}", tuple(present))
    readings = in_window(valued(summary, interval), interval, context.zone)
    if not readings:
        return None
    unit = unit_of(concept)
    if atom.attribute == "median":
        value = median([decimal_of(value_of(r)) for r in readings])
        words = f"median {number_text(value)}{unit}{where} of {len(readings)} results"
        return Measured(value, words, tuple(readings))
    if atom.attribute == "previous":
        before = previous(readings)
        if before is None:
            return None
        chosen = before
    elif atom.attribute == "lowest":
        chosen = min(readings, key=value_of)
    elif atom.attribute == "highest":
        chosen = max(readings, key=value_of)
    elif interval is None and concept.ties == "any":
        chosen = favoured(current_results(summary), atom.op)
    else:
        chosen = readings[-1]
    value = decimal_of(value_of(chosen))
    return Measured(value, f"{atom.attribute} {number_text(value)}{unit}{where}", (chosen,))


def _age(summary: Summary, context: Context) -> Measured | None:
    born = [r for r in summary.history if r.record.present and r.record.time is not None]
    if not born:
        return None
    reading = born[-1]
    record = reading.record
    assert record.time is not None
    birth = calendar_date(record.time, context.zone, record.date_only)
    years = completed_years(birth, context.today)
    return Measured(Decimal(years), f"{years} years", (reading,))


def _presence(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, Presence)
    kind = summary.concept.kind
    if interval is not None and interval.undated:
        present = [r for r in summary.history if r.record.present and r.record.time is None]
    else:
        present = overlapping(present_in(summary, interval), interval, context, kind)
    if atom.site is not None:
        present = [r for r in present if r.site == atom.site]
    if atom.evidence is not None:
        present = [r for r in present if r.record.evidence_class == atom.evidence]
    where = window_words(atom)
    if atom.until is not None:
        return _all_before(atom, atom.until, present, context)
    if atom.evidence is not None:
        where = f" ({atom.evidence}){where}"
    if atom.state == "present":
        return yes(f"present{where}", present) if present else None
    history = summary.history if interval is not None else summary.absent
    if interval is not None and interval.undated:
        absent = [r for r in history if not r.record.present and r.record.time is None]
    else:
        absent = overlapping([r for r in history if not r.record.present], interval, context, kind)
    if atom.evidence is not None:
        absent = [r for r in absent if r.record.evidence_class == atom.evidence]
    if atom.state == "absent":
        return yes(f"recorded absent{where}", absent) if absent and not present else None
    if atom.state == "recorded-absent":  # present does not win here
        return yes(f"recorded absent{where}", absent) if absent else None
    return yes(f"recorded{where}", present + absent) if present or absent else None


def _region_state(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, RegionState)
    present = overlapping(present_in(summary, interval), interval, context, summary.concept.kind)
    records = [r.record for r in present]
    where = window_words(atom)
    if atom.state == "focal":
        focal = regions.is_focal(records, context.ruleset)
        return yes(f"focal{where}", present) if focal else None
    if regions.side_state(records, context.ruleset) != atom.state:
        return None
    sides = regions.side_words(regions.sides_seen(records, context.ruleset))
    return yes(f"{atom.state.replace('-', ' ')} ({sides}){where}", present)


def _all_before(
    atom: Presence, until: str, present: list[Reading], context: Context
) -> Measured | None:
    """Present, and every such record dated on or before the date `until` (by calendar date
    when either states only a date; undated ones count as before it); None when there is no
    such date."""
    summary = context.summaries.get(until)
    review = context.dated_by(until) or (current(summary) if summary is not None else None)
    record = review.record if review is not None else None
    if review is None or record is None or record.time is None or not present:
        return None
    zone = context.ruleset.time_zone
    if any(r.record.time is not None and not on_or_after(record, r.record, zone) for r in present):
        return None
    shown = calendar_date(record.time, context.zone, record.date_only).isoformat()
    words = f"present, all on or before {until.replace('_', ' ')} ({shown})"
    return yes(words, [*present, review])  # the record that dates it is evidence too


def _above(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    """Above (a multiple of) its own reference range: the latest value, or any in the window."""
    if interval is None:
        readings = current_results(summary)  # with `ties: any`, every one at the latest time
    else:
        readings = in_window(summary.history_valued, interval, context.zone)
    for reading in reversed(readings):
        found = _above_one(measure, reading, summary.concept, context)
        if found is not None:
            return found
    return None


def _above_one(
    measure: Measure, reading: Reading, concept: Concept, context: Context
) -> Measured | None:
    high = reading.record.reference_high
    limit: Decimal | None = None
    if high is not None:
        try:
            converted = units.convert(
                float(high.value),
                high.unit,
                concept.unit or "1",
                molar_mass=concept.molar_mass,
                valence=concept.valence,
                same_as=concept.same_as,
                accepted=concept.accepted_units,
            )
            if concept.decimals is not None:  # rounded as the values are
                converted = rounded(converted, concept.decimals)
            limit = decimal_of(converted)
        except units.UnitError:
            instead = "" if measure.fallback is None else f"; {number_text(measure.fallback)} used"
            message = (
                f"{concept.name} reference range high {high} cannot be converted to "
                f"{concept.unit or 'a plain number'}; reference range ignored{instead}"
            )
            context.warnings.append(DataWarning(message, reading.record.source))
    source = f"high {high}" if limit is not None else None
    if limit is None:
        if measure.fallback is None:
            return None
        limit = measure.fallback
        source = f"no usable reference range: {number_text(limit)}{unit_of(concept)} used"
    multiple = measure.multiple if measure.multiple is not None else Decimal(1)
    value = decimal_of(value_of(reading))
    if value <= multiple * limit:
        return None
    times = f"{number_text(multiple)} times " if measure.multiple is not None else ""
    words = f"{number_text(value)}{unit_of(concept)}, above {times}its reference range ({source})"
    return yes(words, (reading,))


def _marked(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, Marked)
    reading = current(summary) if atom.reading == "latest" else previous(summary.ordered)
    if reading is None or atom.marker not in reading.record.markers:
        return None
    prefix = "previous result " if atom.reading == "previous" else ""
    return yes(f"{prefix}marked {atom.marker}", (reading,))


def _coded(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, CodedIs)
    readings = [
        r
        for r in in_window(present_in(summary, interval), interval, context.zone)
        if r.record.answer
    ]
    if interval is None:
        latest = current(summary)
        readings = [latest] if latest is not None and latest.record.answer else []
    systems = context.ruleset.code_systems
    matching = [r for r in readings if _same_answer(r.record.answer or "", atom.value, systems)]
    if not matching:
        return None
    return yes(f"is {atom.value}{window_words(atom)}", matching[-1:])


def _same_answer(answer: str, wanted: str, systems: Mapping[str, str]) -> bool:
    """Whether a recorded answer is the one a rule names: codes by system and code (never
    display), plain values (`female`) ignoring case."""
    if "#" in answer and "#" in wanted:
        try:
            return parse_code(answer, systems).key == parse_code(wanted, systems).key
        except CodeError:
            pass
    return answer.casefold() == wanted.casefold()


def _streak(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, Streak) and measure.threshold is not None
    readings = in_window(valued(summary, interval), interval, context.zone)
    if atom.lasting is not None:
        return _lasting(atom, measure, readings, summary, context)
    last = readings[-atom.count :]
    if atom.count < 1 or len(last) < atom.count:
        return None
    if not all(meets(decimal_of(value_of(r)), atom.op, measure.threshold) for r in last):
        return None
    values = ", ".join(f"{number_text(decimal_of(value_of(r)))}" for r in last)
    return yes(f"last {atom.count} results {values}{unit_of(summary.concept)}", last)


def _lasting(
    atom: Streak, measure: Measure, readings: list[Reading], summary: Summary, context: Context
) -> Measured | None:
    """`egfr < 60 for 90 days`: the latest reading meets the comparison, so does one dated at
    least `lasting` before it (of any age, or at most `lasting_most` before it, meeting the
    start comparison when there is one), and none dated strictly between them fails it."""
    lasting, most, threshold = atom.lasting, atom.lasting_most, measure.threshold
    assert isinstance(lasting, Duration), "resolved by measure_of"
    assert most is None or isinstance(most, Duration), "resolved by measure_of"
    assert threshold is not None, "a streak's threshold"
    dated = [r for r in readings if r.record.time is not None]
    if not dated:
        return None
    latest = dated[-1]
    if not meets(decimal_of(value_of(latest)), atom.op, threshold):
        return None
    at = time_of(latest)
    cutoff = lasting.before(at, context.zone)
    oldest = most.before(at, context.zone) if most is not None else None
    history = [r for r in summary.history_valued if r.record.time is not None]

    def starts(reading: Reading) -> bool:
        value = decimal_of(value_of(reading))
        return meets(value, atom.op, threshold) and (
            atom.start_op is None
            or measure.start is None
            or meets(value, atom.start_op, measure.start)
        )

    started = latest_start_date(atom.unstarted, context)

    def unstarted_since(reading: Reading) -> bool:
        return started is None or started <= reading_date(reading, context)

    # the latest qualifying earlier reading leaves the fewest readings between, and the fewest
    # medicine starts after it: when any earlier reading qualifies, it does
    earlier = [
        r
        for r in history
        if time_of(r) <= cutoff
        and (oldest is None or time_of(r) >= oldest)
        and starts(r)
        and unstarted_since(r)
    ]
    if not earlier:
        return None
    first = earlier[-1]
    between = [r for r in history if time_of(first) < time_of(r) < at]
    if any(not meets(decimal_of(value_of(r)), atom.op, threshold) for r in between):
        return None
    values = (
        f"{number_text(decimal_of(value_of(first)))} → {number_text(decimal_of(value_of(latest)))}"
    )
    span = f"{lasting} to {most}" if most is not None else str(lasting)
    words = f"{atom.op} {atom.threshold} for {span}: {values}{unit_of(summary.concept)}"
    if atom.unstarted:
        *others, last = atom.unstarted  # as the condition names them
        names = f"{', '.join(others)} or {last}" if others else last
        words += f", no {names} started after {reading_date(first, context).isoformat()}"
    return yes(words, (first, *between, latest))


def _result(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    if isinstance(atom, ResultTest):
        found = result_test(summary, atom, context.judge)
    else:
        assert isinstance(atom, NotRechecked)
        found = not_rechecked(atom, context.summaries, context.as_of, context.zone, context.judge)
    return None if found is None else yes(found.words, found.evidence)


_Compute = Callable[[Measure, Summary, Context, Interval | None], Measured | None]
_COMPUTE: dict[type, _Compute] = {
    Compare: _compare,
    Presence: _presence,
    AboveReference: _above,
    Marked: _marked,
    CodedIs: _coded,
    Streak: _streak,
    Trend: trend,
    MedicationState: medication_state,
    RegionState: _region_state,
    ResultTest: _result,
    NotRechecked: _result,
}
