"""Measures: what the general language's atoms read from a patient's summaries.

Each distinct measure an atom asks for (its kind, concept, attribute, window, ...) is one
attribute of the concept's fact, keyed `m_` + 10 hex digits of the sha256 of its canonical
text, computed before the session and compared by durable_rules as an integer scaled by
SCALE. Numbers are computed in Decimal from each value's shortest decimal text (values are
already rounded by `Concept.decimals`), so a rise of exactly 0.50 is not > 0.5 and 150 is
1.5 x 100. A yes/no measure is 1 when it holds. A measure with no value (nothing in its
window, no anchor) is left out of the fact: its atom is false and `not` it is true.
"""

from .compute import compute
from .context import Context, Interval, current, latest_start_date
from .definition import (
    MEASURE_PREFIX,
    SCALE,
    Measure,
    Measured,
    concepts_read,
    duration,
    is_measured,
    measure_of,
    scaled_value,
)
from .readings import previous

__all__ = [
    "MEASURE_PREFIX",
    "SCALE",
    "Context",
    "Interval",
    "Measure",
    "Measured",
    "compute",
    "concepts_read",
    "current",
    "duration",
    "is_measured",
    "latest_start_date",
    "measure_of",
    "previous",
    "scaled_value",
]
