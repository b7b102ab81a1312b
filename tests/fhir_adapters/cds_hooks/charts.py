"""Hyperkalaemia charts for comparing the service with the CLI: the ruleset's scenarios and a
slice of the benchmark population, each a patient of its own, dated relative to now.

The service evaluates at the moment of the call, so each chart is moved in time by the same
amount (`shift`): date-times by the exact difference, dates by whole days. Each scenario's
resources get ids of their own (`s3`, `s3-o1`), so that every chart can sit in one folder that
`vigil evaluate` reads at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.hyperkalaemia_population import AS_OF, patients
from fhir_adapters.scenarios import load_scenario, scenario_files

ROOT = Path(__file__).parents[3]
RULESET_FOLDER = ROOT / "rulesets" / "hyperkalaemia"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")


@dataclass(frozen=True)
class Chart:
    name: str  # the scenario file's name, or the population patient's id
    patient: str  # the Patient's id
    resources: list[dict[str, Any]]


def charts(now: datetime, population: int) -> Iterator[Chart]:
    """Every scenario of the hyperkalaemia ruleset, then `population` benchmark patients."""
    for index, path in enumerate(scenario_files(RULESET_FOLDER)):
        scenario = load_scenario(path)
        own = f"s{index}"
        resources = [entry["resource"] for entry in scenario.bundle["entry"]]
        ids = {
            f"{r['resourceType']}/{r['id']}": own
            if r["id"] == scenario.patient
            else f"{own}-{r['id']}"
            for r in resources
        }
        moved = shift(rename(resources, ids), now - scenario.now)
        yield Chart(path.name, own, moved)
    for resources in patients(population):
        yield Chart(resources[0]["id"], resources[0]["id"], shift(resources, now - AS_OF))


def rename(value: Any, ids: dict[str, str]) -> Any:
    """`value` with each resource's id, and each reference to it, replaced by `ids`."""
    if isinstance(value, list):
        return [rename(v, ids) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: rename(v, ids) for k, v in value.items()}
    key = f"{value.get('resourceType')}/{value.get('id')}"
    if key in ids:
        out["id"] = ids[key].rpartition("/")[2]
    reference = value.get("reference")
    if isinstance(reference, str) and reference in ids:
        out["reference"] = f"{reference.partition('/')[0]}/{ids[reference]}"
    return out


def shift(value: Any, by: timedelta) -> Any:
    """`value` with every date-time moved by `by`, and every date by its whole days."""
    if isinstance(value, list):
        return [shift(v, by) for v in value]
    if isinstance(value, dict):
        return {k: shift(v, by) for k, v in value.items()}
    if isinstance(value, str) and _DATE_TIME.fullmatch(value):
        return (datetime.fromisoformat(value) + by).isoformat()
    if isinstance(value, str) and _DATE.fullmatch(value):
        days = timedelta(days=round(by / timedelta(days=1)))
        return (datetime.fromisoformat(value) + days).date().isoformat()
    return value
