"""A patient's concept summary as one durable_rules fact.

Numbers are integers in millionths of the concept's unit (durable_rules fails on floats written
in exponent form and compares mixed types as text), and a fact carries only the attributes some
rule tests, so durable_rules compares exactly what the ruleset says and no more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .compiler import scaled
from .evaluation import DataWarning
from .measures import SCALE, Context, Measure, compute, scaled_value
from .summary import Reading, Summary

LIMIT = 2**53 // SCALE  # largest magnitude durable_rules compares exactly once scaled


def concept_fact(
    summary: Summary,
    tested: frozenset[str],
    warnings: list[DataWarning],
    context: Context | None = None,
    measures: Mapping[str, Measure] | None = None,
) -> dict[str, Any]:
    """The summary as one durable_rules fact, with only the attributes rules test; the
    measures among them (`measures`, by key) are computed in `context` and their words kept
    in `summary.measured` for the explanation."""
    fact: dict[str, Any] = {"t": "c", "c": summary.concept.name}
    if summary.is_current:
        fact["recorded"] = 1
    if summary.is_present:
        fact["present"] = 1
    if summary.is_absent:
        fact["absent"] = 1
    for attribute in ("latest", "lowest", "highest"):
        if attribute not in tested:
            continue
        reading: Reading | None = getattr(summary, attribute)
        if reading is not None and reading.value is not None:
            if abs(reading.value) >= LIMIT:
                warnings.append(
                    DataWarning(
                        f"{summary.concept.name} value {reading.value:g} is out of range",
                        reading.record.source,
                    )
                )
                continue
            fact[attribute] = scaled(reading.value)
    if "count" in tested:
        fact["count"] = summary.count
    if "sites" in tested:
        fact["sites"] = len(summary.sites)
    if "span" in tested:
        fact["span"] = scaled(summary.span_days)
    if "below_ref" in tested and summary.below_reference:
        fact["below_ref"] = 1
    for site in summary.sites:
        if f"site_{site}" in tested:
            fact[f"site_{site}"] = 1
    if context is not None and measures:
        for key in sorted(tested & measures.keys()):
            _measure(fact, summary, measures[key], context, warnings)
    return fact


def _measure(
    fact: dict[str, Any],
    summary: Summary,
    measure: Measure,
    context: Context,
    warnings: list[DataWarning],
) -> None:
    measured = compute(measure, summary, context)
    if measured is None:
        return
    number = 1 if measure.rounding is None else scaled_value(measured.value, measure.rounding)
    if number is None:
        return  # an exact comparison with a value of more places than a threshold has
    if abs(number) >= LIMIT * SCALE:
        source = measured.evidence[-1].record.source if measured.evidence else summary.concept.name
        warnings.append(
            DataWarning(f"{summary.concept.name} {measured.words} is out of range", source)
        )
        return
    fact[measure.key] = number
    summary.measured[measure.key] = (measured.words, list(measured.evidence))
