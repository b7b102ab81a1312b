"""A process forked while another thread evaluates can evaluate: the child does not inherit
durable_rules' lock held by a thread that does not exist in it."""

from __future__ import annotations

import json

from tests.engine.python_child import run_python

# Runs in its own process: forking pytest itself, with its threads, is not this test's business.
SCRIPT = """
import json, os, signal, threading, time
from datetime import datetime, timezone
from engine import Evaluator, Quantity, Record

now = datetime(2026, 3, 1, tzinfo=timezone.utc)
records = [
    Record("fasciculation", "Observation/t", datetime(2026, 2, 23, tzinfo=timezone.utc)),
    Record("potassium", "Observation/k", datetime(2026, 2, 24, tzinfo=timezone.utc),
           value=Quantity(2.3, "mmol/L")),
]
evaluator = Evaluator("calf-fasciculation")
stop = threading.Event()

def evaluate_until_stopped():
    while not stop.is_set():
        evaluator.evaluate(records, as_of=now)

busy = threading.Thread(target=evaluate_until_stopped)
busy.start()
children = []
for _ in range(20):
    time.sleep(0.001)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if evaluator.evaluate(records, as_of=now).escalation == "urgent" else 1
        finally:
            os._exit(code)
    children.append(pid)
stop.set()
busy.join()

# a child still running long after its siblings is deadlocked: stop it and count it
deadline = time.monotonic() + 60
outcome = {"ok": 0, "failed": 0, "hung": 0}
for pid in children:
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            ok = os.waitstatus_to_exitcode(status) == 0
            outcome["ok" if ok else "failed"] += 1
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            outcome["hung"] += 1
            break
        time.sleep(0.01)
print(json.dumps(outcome))
"""


def test_children_forked_while_a_thread_evaluates_evaluate_and_exit() -> None:
    run = run_python(SCRIPT)

    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout) == {"ok": 20, "failed": 0, "hung": 0}


# Records read from a source that starts a process: the fork happens inside the evaluation.
FORK_INSIDE = """
import os
from datetime import datetime, timezone
from engine import Evaluator, Quantity, Record

def records():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    yield Record("fasciculation", "Observation/t", datetime(2026, 2, 23, tzinfo=timezone.utc))
    yield Record("potassium", "Observation/k", datetime(2026, 2, 24, tzinfo=timezone.utc),
                 value=Quantity(2.3, "mmol/L"))

evaluator = Evaluator("calf-fasciculation")
print(evaluator.evaluate(records(), as_of=datetime(2026, 3, 1, tzinfo=timezone.utc)).escalation)
"""


def test_a_fork_from_inside_an_evaluation_does_not_wait_for_that_evaluation() -> None:
    # a hang shows as the timeout: the fork waited for the evaluation that made it
    run = run_python(FORK_INSIDE, timeout=120)

    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "urgent"
