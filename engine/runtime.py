"""The one place Vigil talks to durable_rules, with every measured hazard guarded.

Vigil drives durable_rules' C core directly, without its Python `Host` (which starts timer
threads, swallows exceptions raised in actions and stops chaining after 10 s). Promises:
- every call goes through one process-wide lock (the core is not thread-safe), and a fork waits
  until no evaluation runs (`EVALUATIONS`), so no child starts mid-call;
- a compiled ruleset is created once per unique name and kept for the life of the process;
- one fresh session per evaluation, one live at a time, deleted also when something failed;
- a fact taken for one already seen is an error, never dropped; every durable_rules failure is
  raised as `EngineError`.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable
from typing import Any

import durable_rules_engine as _core

from .compiler import END_RULE, Compiled
from .errors import EngineError, EvaluationError, VigilError
from .forking import ForkGate
from .sharding import FactKey, fact_key
from .stages import may_fire

OnFire = Callable[[str, dict[str, Any], Callable[[dict[str, Any]], None]], None]

_LOCK = threading.RLock()
_HANDLES: dict[str, int] = {}
_SESSIONS = itertools.count(1)

EVALUATIONS = ForkGate()


def _before_fork() -> None:
    EVALUATIONS.close()  # first: a running evaluation may still need the lock
    _LOCK.acquire()


def _after_fork_in_parent() -> None:
    _LOCK.release()
    EVALUATIONS.open()


def _after_fork_in_child() -> None:
    _LOCK.release()
    EVALUATIONS.reset()


os.register_at_fork(
    before=_before_fork,
    after_in_parent=_after_fork_in_parent,
    after_in_child=_after_fork_in_child,
)

# durable_rules' assert result codes (durable/engine.py, Ruleset._handle_result)
_NOT_HANDLED, _OBSERVED, _QUEUED = 1, 2, 3


class Session:
    """One evaluation's session id, and unique ids for the facts asserted into it."""

    def __init__(self) -> None:
        self.sid = str(next(_SESSIONS))
        self._ids = itertools.count(1)

    def new_fact(self, **fields: Any) -> dict[str, Any]:
        return {"sid": self.sid, "id": f"x{next(self._ids)}", **fields}


def run_session(compiled: Compiled, facts: list[dict[str, Any]], on_fire: OnFire) -> None:
    """Assert the sentinel, then `facts`, then each stage some rule may fire in; call
    `on_fire(rule, matched, emit)` for every firing, where `emit` asserts a chained fact.
    Raises EvaluationError/EngineError."""
    with _LOCK:
        handle = _handle(compiled)
        session = Session()
        asserted: set[FactKey] = set()

        def emit(fact: dict[str, Any]) -> None:
            # Asserted from inside an action: the rules it completes are dispatched next, by
            # the action loop of the fact being processed (forward chaining).
            asserted.add(fact_key(fact))
            for copy in compiled.copies(fact):
                _assert(handle, session.new_fact(**copy), optional=True)

        def post(fact: dict[str, Any]) -> None:
            asserted.add(fact_key(fact))
            for copy in compiled.copies(fact):
                _post(handle, session.new_fact(**copy), emit, on_fire, optional=True)

        try:
            # The sentinel first: its no-op action initialises the state's action context,
            # which `createStateNode` (state.c) leaves as garbage for `delete_state` to free;
            # a session that failed before any action ran aborted the process when deleted.
            _post(handle, session.new_fact(t="end"), emit, on_fire, optional=False)
            for fact in facts:
                post(fact)
            for stage in compiled.stages:
                if may_fire(compiled.needs, stage, asserted):
                    post({"t": "g", "n": stage})
        except BaseException:
            _delete(handle, session.sid, quiet=True)  # keep the first error
            raise
        _delete(handle, session.sid, quiet=False)


def _handle(compiled: Compiled) -> int:
    handle = _HANDLES.get(compiled.name)
    if handle is None:
        definition = {
            name: {key: value for key, value in rule.items() if key != "run"}
            for name, rule in compiled.definition.items()
        }
        try:
            handle = int(_core.create_ruleset(compiled.name, json.dumps(definition)))
        except Exception as error:  # durable_rules raises bare Exception
            raise EngineError(f"durable_rules refused the compiled ruleset: {error}") from error
        _HANDLES[compiled.name] = handle
    return handle


def _assert(handle: int, fact: dict[str, Any], *, optional: bool) -> int | None:
    """Assert one fact; its session's state handle, or None when no rule reads it."""
    try:
        code, state = _core.assert_fact(handle, json.dumps(fact))
    except Exception as error:  # durable_rules raises bare Exception with an error code
        raise EngineError(f"durable_rules failed on a {fact.get('t')!r} fact: {error}") from error
    if code == _NOT_HANDLED:
        if optional:
            return None  # a fact no rule reads: nothing depends on it
        raise EngineError(f"durable_rules did not handle the {fact.get('t')!r} fact")
    if code == _OBSERVED:
        raise EngineError(f"durable_rules took fact {fact} for one it had seen")
    return 0 if code == _QUEUED else int(state)


def _post(
    handle: int,
    fact: dict[str, Any],
    emit: Callable[[dict[str, Any]], None],
    on_fire: OnFire,
    *,
    optional: bool,
) -> None:
    """Assert a fact and run every action it sets off, chained ones included, in order."""
    state = _assert(handle, fact, optional=optional)
    if state is None:
        return
    try:
        started = _core.start_action_for_state(handle, state)
        if not started:
            return
        state_json, message_json = started
        while message_json:
            ((action, matched),) = json.loads(message_json).items()
            if action != END_RULE:
                _fire(handle, state, action, matched, emit, on_fire)
            _core.update_state(handle, state_json)
            message_json = _core.complete_and_start_action(handle, state)
    except VigilError:
        raise
    except Exception as error:  # durable_rules raises bare Exception with an error code
        raise EngineError(f"durable_rules failed while running rules: {error}") from error


def _fire(
    handle: int,
    state: int,
    action: str,
    matched: dict[str, Any],
    emit: Callable[[dict[str, Any]], None],
    on_fire: OnFire,
) -> None:
    try:
        on_fire(action, matched, emit)
    except BaseException as error:
        _core.abandon_action(handle, state)
        if isinstance(error, VigilError):
            raise
        raise EvaluationError(f"{type(error).__name__}: {error}") from error


def _delete(handle: int, sid: str, *, quiet: bool) -> None:
    try:
        _core.delete_state(handle, sid)
    except Exception as error:  # durable_rules raises bare Exception
        if not quiet:
            raise EngineError(f"durable_rules could not end the session: {error}") from error
