"""durable_rules failing inside a session is an EngineError, and the process lives on: the session
is deleted safely even when the core failed before any rule's action ran (deleting such a session
freed pointers durable_rules never set, and aborted the process)."""

from __future__ import annotations

import json

from tests.engine.python_child import run_python

# In a process of its own, since on failure the process aborted. The shard size is
# lifted so that the potassium fact overflows durable_rules' alpha stack (error 303), which is
# the one way left to make the core fail mid-session.
SCRIPT = """
import json
from datetime import datetime, timezone
from pathlib import Path
import engine
from engine import sharding, EngineError, Evaluator, Quantity, Record
from tests.engine.frozen import CALF_1

sharding.MAX_TESTS_PER_SHARD = 10**6
text = CALF_1.read_text()
text = text.replace("id: calf-fasciculation", "id: calf-overflowing", 1) + "".join(
    f"  - id: below-{i}\\n    when: potassium < {2.01 + i / 100:.2f} mmol/L\\n"
    f"    then: {{suggest: primary-care, summary: below {i}}}\\n"
    for i in range(70)
)
evaluator = Evaluator(engine.load_text(text))
now = datetime(2026, 3, 1, tzinfo=timezone.utc)
twitch = Record("fasciculation", "Observation/t", datetime(2026, 2, 23, tzinfo=timezone.utc))

def patient(k):
    day = datetime(2026, 2, 24, tzinfo=timezone.utc)
    return [twitch, Record("potassium", "Observation/k", day, value=Quantity(k, "mmol/L"))]

outcomes = []
for k in (2.0, 2.0, 4.5):
    try:
        outcomes.append(evaluator.evaluate(patient(k), as_of=now).escalation)
    except EngineError as error:
        outcomes.append("error 303" if "error code: 303" in str(error) else str(error))
print(json.dumps(outcomes))
"""


def test_a_core_failure_before_any_action_is_an_engine_error_and_the_process_lives() -> None:
    run = run_python(SCRIPT)

    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
    assert json.loads(run.stdout) == ["error 303", "error 303", "self-care"]
