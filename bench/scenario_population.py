"""A deterministic population of FHIR patients for any ruleset, grown from its scenarios.

Each patient is one of the ruleset's scenario files (picked by a seeded `random.Random`), its
dates moved so that the scenario's `now` falls on the population's `as_of`, most of its
measured values (valueQuantity, component values, valueInteger) scaled by up to
+/-`SPREAD`, and now and then a resource left out. Scenarios sit on the rules' boundaries, so
the jittered copies fall on both sides of each threshold: what a threshold change moves. Each
patient's resources are renamed `<patient>-<id>` so that patients never share an id.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import load_ruleset  # noqa: E402
from fhir_adapters.scenarios import Scenario, load_scenario, scenario_files  # noqa: E402

AS_OF = datetime(2026, 3, 1, 12, tzinfo=UTC)
SEED = 20261207
SPREAD = 0.15  # values scaled by a factor in [1 - SPREAD, 1 + SPREAD]
JITTERED = 0.8  # the share of values scaled
DROPPED = 0.08  # the share of resources (other than the Patient) left out

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REFERENCE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]+)$")


@functools.cache
def scenarios(folder: Path) -> tuple[Scenario, ...]:
    """The scenarios of a ruleset folder, in file order (read once a process; never changed:
    each patient is a new copy)."""
    return tuple(load_scenario(path) for path in scenario_files(folder))


def population(
    folder: Path, size: int, as_of: datetime = AS_OF, seed: int = SEED
) -> list[dict[str, Any]]:
    """`size` patients' resources, one list (a FHIR array: `vigil evaluate` reads it)."""
    pool = scenarios(folder)
    rng = random.Random(seed)
    resources: list[dict[str, Any]] = []
    for index in range(size):
        resources.extend(patient(rng.choice(pool), f"pop{index}", as_of, rng))
    return resources


def patient(
    scenario: Scenario, name: str, as_of: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    """One scenario's resources as patient `name`, moved to `as_of` and jittered."""
    shift = as_of - scenario.now
    own = scenario.patient
    found = [e["resource"] for e in scenario.bundle["entry"]]
    ids = {(r["resourceType"], r["id"]) for r in found if "id" in r}
    mine = [r for r in found if _belongs(r, own)]  # not another patient a scenario names
    kept = [
        r
        for r in mine
        if (r["resourceType"] == "Patient" and r.get("id") == own) or rng.random() >= DROPPED
    ]
    renamed = {
        (kind, old): name if (kind, old) == ("Patient", own) else f"{name}-{old}"[:64]
        for kind, old in ids
    }
    return [_moved(resource, shift, renamed, rng) for resource in kept]


def _belongs(resource: dict[str, Any], own: str) -> bool:
    if resource["resourceType"] == "Patient":
        return bool(resource.get("id") == own)
    subject = resource.get("subject") or resource.get("patient")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    return reference is None or reference == f"Patient/{own}"


def _moved(
    value: Any, shift: timedelta, renamed: dict[tuple[str, str], str], rng: random.Random
) -> Any:
    if isinstance(value, dict):
        kind = value.get("resourceType")
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "id" and isinstance(kind, str) and (kind, item) in renamed:
                out[key] = renamed[(kind, item)]
            elif key == "valueQuantity" and isinstance(item, dict):
                out[key] = {**item, **_jittered(item.get("value"), rng)}
            elif key == "valueInteger" and isinstance(item, int) and rng.random() < JITTERED:
                out[key] = max(0, item + rng.choice((-2, -1, 1, 2)))
            else:
                out[key] = _moved(item, shift, renamed, rng)
        return out
    if isinstance(value, list):
        return [_moved(item, shift, renamed, rng) for item in value]
    if isinstance(value, str):
        return _moved_text(value, shift, renamed)
    return value


def _jittered(value: object, rng: random.Random) -> dict[str, Any]:
    if isinstance(value, bool) or not isinstance(value, int | float) or rng.random() >= JITTERED:
        return {}
    text = repr(value)
    places = max(1, len(text.split(".")[1]) if "." in text and "e" not in text else 0)
    return {"value": round(value * rng.uniform(1 - SPREAD, 1 + SPREAD), places)}


def _moved_text(text: str, shift: timedelta, renamed: dict[tuple[str, str], str]) -> str:
    reference = _REFERENCE.match(text)
    if reference is not None:
        key = (reference[1], reference[2])
        return f"{key[0]}/{renamed[key]}" if key in renamed else text
    if _DATE_TIME.match(text):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        return (moment + shift).isoformat()
    if _DATE.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return text
        return (day + timedelta(days=round(shift / timedelta(days=1)))).isoformat()
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ruleset", help="packaged ruleset id or its folder")
    parser.add_argument("size", type=int, help="how many patients")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the JSON file to write")
    parser.add_argument("--seed", type=int, default=SEED, help=f"({SEED})")
    parser.add_argument("--as-of", default=AS_OF.isoformat(), help=f"({AS_OF.isoformat()})")
    args = parser.parse_args(argv)
    ruleset = load_ruleset(args.ruleset)
    if ruleset.source is None:
        raise SystemExit(f"{args.ruleset}: not a ruleset file")
    as_of = datetime.fromisoformat(args.as_of)
    resources = population(ruleset.source.parent, args.size, as_of, args.seed)
    args.output.write_text(json.dumps(resources))
    print(f"{args.output}: {args.size} patients, {len(resources)} resources, as of {as_of}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
