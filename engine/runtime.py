"""The one place Vigil talks to durable_rules, with every measured hazard guarded.

- durable_rules is not thread-safe: every call goes through one process-wide lock.
- Its default Host starts timer threads that run actions on other threads: `_Host` starts none.
- A ruleset name cannot be registered twice: compiled rulesets are cached by their unique key.
- Sessions: one fresh session per evaluation, only one live at a time, facts asserted one by one,
  a sentinel fact that fires a no-op rule, then `delete_state` in a `finally`.
- Exceptions raised in actions are swallowed by durable_rules: they are kept and raised again.
- Every durable_rules exception is mapped to `EngineError`.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable
from typing import Any

from durable import engine as durable

from .compiler import END_RULE, Compiled
from .errors import EngineError, EvaluationError

_LOCK = threading.RLock()


class _Host(durable.Host):  # type: ignore[misc]
    def __init__(self) -> None:
        self._dispatch: Callable[[str, Any], None] | None = None
        super().__init__()

    def _run(self) -> None:
        """No timer threads: Vigil never uses durable_rules' clock."""

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        def action(closure: Any) -> None:
            if self._dispatch is not None:
                self._dispatch(action_name, closure)

        return action


_HOST: _Host | None = None
_REGISTERED: set[str] = set()
_SESSIONS = itertools.count(1)


def _host() -> _Host:
    global _HOST
    if _HOST is None:
        _HOST = _Host()
    return _HOST


class Session:
    """One evaluation's session id, and unique ids for the facts asserted into it."""

    def __init__(self) -> None:
        self.sid = str(next(_SESSIONS))
        self._ids = itertools.count(1)

    def new_fact(self, **fields: Any) -> dict[str, Any]:
        return {"sid": self.sid, "id": f"x{next(self._ids)}", **fields}


def run_session(
    compiled: Compiled,
    facts: list[dict[str, Any]],
    on_fire: Callable[[str, dict[str, Any], Callable[[dict[str, Any]], None]], None],
) -> None:
    """Assert `facts`, then each stage, then the sentinel; call `on_fire(rule, matched, emit)`
    for every firing, where `emit` asserts a chained fact. Raises EvaluationError/EngineError."""
    with _LOCK:
        host = _host()
        _register(host, compiled)
        session = Session()
        failure: list[BaseException] = []

        def dispatch(action_name: str, closure: Any) -> None:
            if action_name == END_RULE or failure:
                return
            try:
                matched = dict(closure._m or {})

                def emit(fact: dict[str, Any]) -> None:
                    # A fact no rule reads is refused as not handled: nothing depends on it.
                    with contextlib.suppress(durable.MessageNotHandledException):
                        closure.assert_fact(session.new_fact(**fact))

                on_fire(action_name, matched, emit)
            except BaseException as error:
                failure.append(error)

        host._dispatch = dispatch
        try:
            for fact in facts:
                _assert(host, compiled, session.new_fact(**fact), failure, optional=True)
            for stage in compiled.stages:
                _assert(host, compiled, session.new_fact(t="g", n=stage), failure, optional=True)
            _assert(host, compiled, session.new_fact(t="end"), failure, optional=False)
        except BaseException:
            _delete(host, compiled, session.sid, quiet=True)  # keep the first error
            raise
        else:
            _delete(host, compiled, session.sid, quiet=False)
        finally:
            host._dispatch = None


def _delete(host: _Host, compiled: Compiled, sid: str, *, quiet: bool) -> None:
    try:
        host.delete_state(compiled.name, sid)
    except Exception as error:  # durable_rules raises bare Exception
        if not quiet:
            raise EngineError(f"durable_rules could not end the session: {error}") from error


def _register(host: _Host, compiled: Compiled) -> None:
    if compiled.name in _REGISTERED:
        return
    try:
        host.register_rulesets({compiled.name: _copy(compiled.definition)})
    except Exception as error:
        raise EngineError(f"durable_rules refused the compiled ruleset: {error}") from error
    _REGISTERED.add(compiled.name)


def _copy(definition: dict[str, Any]) -> dict[str, Any]:
    # durable_rules deletes each rule's "run" key while registering: give it its own copy.
    return {name: dict(rule) for name, rule in definition.items()}


def _assert(
    host: _Host,
    compiled: Compiled,
    fact: dict[str, Any],
    failure: list[BaseException],
    *,
    optional: bool,
) -> None:
    try:
        host.assert_fact(compiled.name, fact)
    except durable.MessageNotHandledException:
        if not optional:
            raise EngineError(f"durable_rules did not handle {fact.get('t')!r}") from None
    except durable.MessageObservedException:
        raise EngineError(f"durable_rules took fact {fact} for one it had seen") from None
    except Exception as error:
        raise EngineError(f"durable_rules failed: {error}") from error
    if failure:
        first = failure[0]
        if isinstance(first, EvaluationError):
            raise first
        raise EvaluationError(f"{type(first).__name__}: {first}") from first
