"""Trends between results: rises and falls over a span, ratios to the lowest or median of
earlier results, percent change after a medicine started."""

from __future__ import annotations

from ..clock import Duration, local_date
from ..conditions import Trend, TrendMeasure
from ..summary import Reading, Summary
from .context import Context, Interval
from .definition import TREND_WORDS, Measure, Measured, decimal_of
from .readings import in_window, median, number_text, time_of, unit_of, value_of, valued


def trend(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    """A trend atom's value for the judged results: a rise, fall, ratio or percent change,
    in its unit, with the two results it compares; None when there is nothing to compare."""
    atom = measure.atom
    assert isinstance(atom, Trend) and measure.rounding is not None
    if atom.measure == "percent-change":
        return _percent_change(atom, summary, context)
    judged = in_window(valued(summary, interval), interval, context.zone)
    if interval is None:
        judged = judged[-1:]
    best: Measured | None = None
    # existential over the judged readings: the result most in the comparison's favour counts
    larger = atom.op in (">", ">=", "=")
    for reading in judged:
        found = _change(atom, reading, summary, context)
        if found is not None and (
            best is None or (found.value > best.value if larger else found.value < best.value)
        ):
            best = found
    return best


def _change(atom: Trend, judged: Reading, summary: Summary, context: Context) -> Measured | None:
    """The trend at one judged reading: its own measure, or, when it has no comparator, the
    `else` measure over its own range."""
    across = atom.across_codes
    found = _change_by(atom.measure, atom.over, atom.gap, judged, summary, context, across)
    if found is None and atom.else_measure is not None:
        if comparators(atom.over, atom.gap, judged, summary, context, across):
            return None  # the first measure had comparators: no fallback
        return _change_by(
            atom.else_measure, atom.else_over, atom.else_gap, judged, summary, context, across
        )
    return found


def comparators(
    over: Duration | str | None,
    gap: Duration | str | None,
    judged: Reading,
    summary: Summary,
    context: Context,
    across_codes: bool = False,
) -> list[Reading]:
    """The readings of `judged`'s own code (any of the concept's codes when `across_codes`)
    dated in [t - over, t - gap] (t excluded without a gap; any earlier without `over`)."""
    assert over is None or isinstance(over, Duration), "resolved by measure_of"
    assert gap is None or isinstance(gap, Duration), "resolved by measure_of"
    at = time_of(judged)
    start = over.before(at, context.zone) if over is not None else None  # None: any earlier
    end = gap.before(at, context.zone) if gap is not None and gap.amount else None
    return [
        r
        for r in summary.history_valued  # comparators may be older than the lookback
        if (across_codes or r.record.code == judged.record.code)
        and r.record.time is not None
        and (start is None or r.record.time >= start)
        and (r.record.time <= end if end is not None else r.record.time < at)
    ]


def _change_by(
    measure: TrendMeasure,
    over: Duration | str | None,
    gap: Duration | str | None,
    judged: Reading,
    summary: Summary,
    context: Context,
    across_codes: bool,
) -> Measured | None:
    earlier = comparators(over, gap, judged, summary, context, across_codes)
    if not earlier:
        return None
    assert over is None or isinstance(over, Duration), "resolved by measure_of"
    assert gap is None or isinstance(gap, Duration), "resolved by measure_of"
    value = decimal_of(value_of(judged))
    unit = unit_of(summary.concept)
    evidence: tuple[Reading, ...]
    if measure in ("rise", "fall", "rise-from-previous"):
        if measure == "rise":
            base = min(earlier, key=value_of)
        elif measure == "fall":
            base = max(earlier, key=value_of)
        else:
            base = earlier[-1]  # in time order, the ties rule applied
        change = (
            decimal_of(value_of(base)) - value
            if measure == "fall"
            else value - decimal_of(value_of(base))
        )
        evidence = (base, judged)
        amount = f"{number_text(change)}{unit}"
    elif measure == "rise-from-median":
        change = value - median([decimal_of(value_of(r)) for r in earlier])
        evidence = (*earlier, judged)
        amount = f"{number_text(change)}{unit}"
    else:
        if measure == "ratio-to-lowest":
            base = min(earlier, key=value_of)
            denominator = decimal_of(value_of(base))
            evidence = (base, judged)
        else:
            denominator = median([decimal_of(value_of(r)) for r in earlier])
            evidence = (*earlier, judged)
        if denominator <= 0:
            return None
        change = value / denominator
        amount = number_text(change)
    arrow = " → ".join(r.record.source for r in evidence[-2:])
    words = f"{TREND_WORDS[measure]} {amount}{_range(over, gap)} ({arrow})"
    return Measured(change, words, evidence)


def _range(over: Duration | None, gap: Duration | None) -> str:
    """` over 1 to 12 hours`, ` over 48 hours`, or nothing without a range."""
    if over is None:
        return ""
    if gap is None or not gap.amount:
        return f" over {over}"
    start = str(gap.amount) if gap.unit == over.unit else str(gap)
    return f" over {start} to {over}"


def _percent_change(atom: Trend, summary: Summary, context: Context) -> Measured | None:
    if atom.since is None:
        return None
    started = context.anchor(atom.since)
    if started is None:
        return None
    start_date = local_date(started, context.zone)
    dated = [r for r in summary.history_valued if r.record.time is not None]
    after = [r for r in dated if local_date(time_of(r), context.zone) > start_date]
    if not after:
        return None
    # the baseline: on or before the start date, and no earlier than `over` before it
    over = atom.over
    assert over is None or isinstance(over, Duration), "resolved by measure_of"
    earliest = local_date(over.before(started, context.zone), context.zone) if over else None
    baseline = [
        r
        for r in dated
        if local_date(time_of(r), context.zone) <= start_date
        and (earliest is None or local_date(time_of(r), context.zone) >= earliest)
    ]
    if not baseline:
        return None
    # of results at one time, the pair most in the comparison's favour counts (like a trend's
    # judged readings): for a fall, the higher baseline and the lower follow-up
    pairs = [
        (
            base,
            latest,
            (decimal_of(value_of(latest)) - decimal_of(value_of(base)))
            * 100
            / decimal_of(value_of(base)),
        )
        for base in _at_last_time(baseline)
        for latest in _at_last_time(after)
        if value_of(base) != 0
    ]
    if not pairs:
        return None
    larger = atom.op in (">", ">=", "=")
    base, latest, change = (max if larger else min)(pairs, key=lambda pair: pair[2])
    words = (
        f"percent change {number_text(change)}% after {atom.since.replace('_', ' ')} started "
        f"({base.record.source} → {latest.record.source})"
    )
    return Measured(change, words, (base, latest))


def _at_last_time(readings: list[Reading]) -> list[Reading]:
    """The readings dated at the time of the last of `readings` (in time order)."""
    last = time_of(readings[-1])
    return [r for r in readings if time_of(r) == last]
