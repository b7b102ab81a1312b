"""What telling repeated JSON keys costs a CDS Hooks call: the body of a 50-Observation
prefetch (60 KB compact, 124 KB indented) read by

  orjson      orjson.loads alone (keeps the last of a repeated key, in silence)
  before      the 19-digit check and orjson.loads: what jsontext.loads did before
  jsontext    jsontext.loads: the same, plus the colon count against orjson.dumps of the value
  json        json.loads (keeps the last, in silence)
  pairs       json.loads with an object_pairs_hook that refuses a repeated key
  repeated    jsontext.loads on the same body with one key repeated (the scan that finds it)

Best of five timeit rounds, in µs of CPU time a body; about ten seconds in all.

    .venv/bin/python bench/jsontext_bench.py
"""

from __future__ import annotations

import json
import sys
import time
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from bench.cds_hooks_payloads import hook_request, prefetch_bundle  # noqa: E402
from fhir_adapters import jsontext  # noqa: E402

DIGITS = bytes.maketrans(b"123456789", b"000000000")


def before(raw: bytes) -> Any:
    if b"0" * 19 not in raw.translate(DIGITS):
        return orjson.loads(raw)
    return json.loads(raw)


def pairs(raw: bytes) -> Any:
    def hook(items: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(items)
        if len(found) != len(items):
            raise ValueError("repeated key")
        return found

    return json.loads(raw, object_pairs_hook=hook)


def best(call: Callable[[], object], number: int) -> float:
    # CPU time of this process: on a shared machine, the wall clock counts other people's work
    return min(timeit.repeat(call, number=number, repeat=5, timer=time.process_time)) / number * 1e6


def main() -> None:
    request = hook_request(prefetch_bundle(50))
    bodies = {
        "compact": json.dumps(request, separators=(",", ":")).encode(),
        "indented": json.dumps(request, indent=2).encode(),
    }
    print(f"{'body':10} {'bytes':>7} " + " ".join(f"{n:>9}" for n in _NAMES))
    for name, raw in bodies.items():
        repeated = raw.replace(b'"status":', b'"status":"final","status":', 1)
        repeated = repeated.replace(b'"status": ', b'"status": "final", "status": ', 1)
        calls: list[Callable[[], object]] = [
            partial(orjson.loads, raw),
            partial(before, raw),
            partial(jsontext.loads, raw),
            partial(json.loads, raw),
            partial(pairs, raw),
            partial(jsontext.loads, repeated),
        ]
        figures = [best(call, 50 if i < 5 else 5) for i, call in enumerate(calls)]
        print(f"{name:10} {len(raw):>7} " + " ".join(f"{f:>9.0f}" for f in figures))


_NAMES = ("orjson", "before", "jsontext", "json", "pairs", "repeated")

if __name__ == "__main__":
    main()
