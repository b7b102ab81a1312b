"""A deterministic population of calf-fasciculation patients for the benchmarks.

Each patient has about 10 engine `Record`s (twitching at one or more sites, potassium,
magnesium and calcium in the units labs use, weakness, cramps, MRC grades, GAD-7, sleep,
caffeine, the odd atrophy or bulbar sign, and some results older than the lookback), drawn
from a seeded `random.Random`, so every run sees the same patients. Values stay away from the
exact rule thresholds: the benchmark measures speed, the property tests probe the boundaries.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from engine.records import Quantity, Record

AS_OF = datetime(2026, 3, 1, 12, tzinfo=UTC)
SEED = 20260301

CALF, THIGH, TONGUE, HAND = "sct#53840002", "sct#68367000", "sct#21974007", "sct#85562004"
# mmol/L -> recorded unit: Mg and Ca are divalent; mass units from the molar masses.
_PER_MMOL = {
    "potassium": {"mmol/L": 1.0, "meq/L": 1.0, "mg/dL": 39.098 / 10},
    "magnesium": {"mmol/L": 1.0, "meq/L": 2.0, "mg/dL": 24.305 / 10},
    "calcium": {"mmol/L": 1.0, "meq/L": 2.0, "mg/dL": 40.078 / 10},
}
_REFERENCE_LOW = {"potassium": 3.6, "magnesium": 0.75, "calcium": 2.15}
# (low tail, normal) ranges in mmol/L; most values are normal.
_RANGES = {
    "potassium": ((2.1, 3.45), (3.55, 5.0)),
    "magnesium": ((0.3, 0.68), (0.72, 1.05)),
    "calcium": ((1.7, 2.18), (2.22, 2.6)),
}


def _day(rng: random.Random, low: float, high: float) -> datetime:
    return AS_OF - timedelta(days=round(rng.uniform(low, high), 2))


def _lab(rng: random.Random, concept: str, n: int, *, old: bool = False) -> Record:
    low_tail, normal = _RANGES[concept]
    mmol = rng.uniform(*(low_tail if rng.random() < 0.18 else normal))
    unit = rng.choices(["mmol/L", "meq/L", "mg/dL"], weights=[6, 2, 2])[0]
    value = round(mmol * _PER_MMOL[concept][unit], 2)
    reference = None
    if rng.random() < 0.4:
        reference = Quantity(round(_REFERENCE_LOW[concept] * _PER_MMOL[concept][unit], 2), unit)
    when = _day(rng, 35, 60) if old else _day(rng, 0, 28)
    return Record(
        concept,
        f"Observation/{concept}-{n}",
        when,
        value=Quantity(value, unit),
        reference_low=reference,
    )


def patient(rng: random.Random, index: int) -> list[Record]:
    """One patient's records (typically 8 to 13)."""
    records: list[Record] = []
    n = iter(range(1000))

    def ref(concept: str) -> str:
        return f"Observation/p{index}-{concept}-{next(n)}"

    in_scope = rng.random() < 0.9
    if in_scope and rng.random() < 0.85:
        sites = rng.choices(
            [CALF, THIGH, HAND, TONGUE, None],
            weights=[10, 3, 2, 0.4, 2],
            k=rng.choice([1, 2, 2, 3, 3]),
        )
        start = rng.uniform(0, 40)
        for i, site in enumerate(sites):
            when = AS_OF - timedelta(days=round(start * (1 - i / len(sites)), 2))
            records.append(Record("fasciculation", ref("twitch"), when, site=site))
    if in_scope and (not records or rng.random() < 0.35):
        for _ in range(rng.choice([1, 2])):
            minutes = round(
                rng.choice([rng.uniform(0.5, 8), rng.uniform(0.5, 8), rng.uniform(11, 25)]), 1
            )
            unit = rng.choice(["min", "min", "s"])
            value = minutes if unit == "min" else round(minutes * 60)
            records.append(
                Record("cramp", ref("cramp"), _day(rng, 0, 20), value=Quantity(value, unit))
            )
    if not in_scope:  # labs only: out of the ruleset's scope
        records.append(
            Record("weakness", ref("weakness"), _day(rng, 0, 30), present=rng.random() < 0.5)
        )
    for concept, counts in (
        ("potassium", [1, 2, 2]),
        ("magnesium", [0, 1, 1, 2]),
        ("calcium", [0, 1, 1, 2]),
    ):
        for _ in range(rng.choice(counts)):
            records.append(_lab(rng, concept, next(n)))
        if rng.random() < 0.15:
            records.append(_lab(rng, concept, next(n), old=True))  # outside the 30-day lookback
    if rng.random() < 0.25:
        first = rng.uniform(0, 30)
        records.append(Record("weakness", ref("weakness"), AS_OF - timedelta(days=round(first, 2))))
        if rng.random() < 0.5:
            gap = rng.uniform(3, 25)
            records.append(
                Record(
                    "weakness",
                    ref("weakness"),
                    AS_OF - timedelta(days=round(max(first - gap, 0), 2)),
                )
            )
    elif rng.random() < 0.2:
        records.append(Record("weakness", ref("weakness"), _day(rng, 0, 20), present=False))
    if rng.random() < 0.12:
        records.append(
            Record("mrc_grade", ref("mrc"), _day(rng, 0, 20), value=rng.choice([3, 4, 5, 5]))
        )
    if rng.random() < 0.04:
        records.append(Record("atrophy", ref("atrophy"), _day(rng, 0, 20)))
    if rng.random() < 0.03:
        records.append(Record("bulbar_sign", ref("bulbar"), _day(rng, 0, 20)))
    if rng.random() < 0.5:
        records.append(
            Record("gad7", ref("gad7"), _day(rng, 0, 25), value=rng.choice([2, 4, 6, 8, 11, 15]))
        )
    if rng.random() < 0.5:
        records.append(
            Record(
                "sleep",
                ref("sleep"),
                _day(rng, 0, 25),
                value=Quantity(round(rng.uniform(4.5, 9), 1), "h"),
            )
        )
    if rng.random() < 0.4:
        records.append(
            Record(
                "caffeine",
                ref("caffeine"),
                _day(rng, 0, 25),
                value=Quantity(rng.choice([80, 200, 300, 450, 600]), "mg/d"),
            )
        )
    rng.shuffle(records)
    return records


def population(size: int, seed: int = SEED) -> list[list[Record]]:
    rng = random.Random(seed)
    return [patient(rng, i) for i in range(size)]
