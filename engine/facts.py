"""A patient's concept summary as one durable_rules fact.

Numbers are integers in millionths of the concept's unit (durable_rules fails on floats written
in exponent form and compares mixed types as text), and a fact carries only the attributes some
rule tests, so durable_rules compares exactly what the ruleset says and no more.
"""

from __future__ import annotations

from typing import Any

from .compiler import SCALE, scaled
from .evaluation import DataWarning
from .summary import Reading, Summary

LIMIT = 2**53 // SCALE  # largest magnitude durable_rules compares exactly once scaled


def concept_fact(
    summary: Summary, tested: frozenset[str], warnings: list[DataWarning]
) -> dict[str, Any]:
    """The summary as one durable_rules fact, with only the attributes rules test."""
    fact: dict[str, Any] = {"t": "c", "c": summary.concept.name, "recorded": 1}
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
    return fact
