"""Evaluates rulesets in a process of its own, so that a native crash in durable_rules fails a test
instead of killing pytest (`python -m tests.engine.engine_worker`).

One JSON request a line on stdin: `{"ruleset": YAML text, "as_of": ISO time, "patients": [{concept:
value in mmol/L, ...}, ...]}`; one JSON answer a line on stdout: `{"results": [{"fired": [rule ids
in firing order], "findings": [names], "escalation": level}, ...]}`, or `{"error": message}` for a
VigilError. Each value is one record of its concept, taken a day before `as_of`.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from typing import Any

from engine import Evaluator, Quantity, Record, VigilError, load_text


def answer(request: dict[str, Any]) -> dict[str, Any]:
    as_of = datetime.fromisoformat(request["as_of"])
    try:
        evaluator = Evaluator(load_text(request["ruleset"]))
        results = []
        for number, values in enumerate(request["patients"]):
            records = [
                Record(
                    concept,
                    f"Observation/p{number}-{concept}",
                    as_of - timedelta(days=1),
                    value=Quantity(value, "mmol/L"),
                )
                for concept, value in values.items()
            ]
            evaluation = evaluator.evaluate(records, as_of=as_of)
            results.append(
                {
                    "fired": [firing.rule for firing in evaluation.trace],
                    "findings": sorted(f.name for f in evaluation.findings),
                    "escalation": evaluation.escalation,
                }
            )
    except VigilError as error:
        return {"error": f"{type(error).__name__}: {error}"}
    return {"results": results}


def main() -> None:
    for line in sys.stdin:
        print(json.dumps(answer(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
