"""The CDS Hooks 2.0 service as a FastAPI application: discovery, service calls, feedback.

`create_app` builds one application per worker process. Every 4xx is an OperationOutcome (a 401
says nothing more than that); every service and feedback call is audited; tokens, access tokens
and patient data never reach the logs. A call refused before its caller was authenticated is
counted (`refusals`) rather than stored one by one, with the refusal's reason in the log and
the audit, never in the answer. A store that cannot be written never stops the service: the
failure is counted and `GET /health` says degraded (`health`); feedback that cannot be stored
is a 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import FactError
from engine.evaluation import Evaluation
from engine.lifecycle import in_force, not_in_force
from engine.model import Ruleset

from .. import jsontext
from ..cards import build_cards
from .audit_channel import StoreAuditLog
from .config import ServiceConfig, load_config
from .deadline import Deadline
from .evaluation import Evaluate, evaluate_with_library
from .fhir_client import FhirClient
from .health import Health
from .models import (
    CardResponse,
    DiscoveryResponse,
    FeedbackItem,
    FeedbackRequest,
    HookRequest,
    Service,
)
from .prefetch import (
    PrefetchInvalid,
    PrefetchUnavailable,
    gather,
    prefetch_lookbacks,
    prefetch_templates,
)
from .refusals import RefusalTally, reason_text
from .security import AuthError, Caller, JwksCache, TokenVerifier
from .storage import (
    AuditRecord,
    AuditSink,
    CardRecord,
    ReplayCache,
    ReplayUnavailable,
    SqliteStore,
    StoreReplayCache,
    StoreUnavailable,
)
from .warmup import prepare_worker

log = logging.getLogger("vigil.cds_hooks")
HOOK = "patient-view"
M = TypeVar("M", HookRequest, FeedbackRequest)
MAX_BODY_BYTES = 16 * 1024 * 1024
FHIR_JSON = "application/fhir+json"
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
INSECURE_BANNER = (
    "INSECURE DEV MODE: JWT authentication is OFF. Anyone who can reach this port can call the "
    "services. Never use --insecure-dev with real patient data."
)


class Problem(Exception):
    """A request Vigil refuses: HTTP status, OperationOutcome issue code and a one-line message;
    `reason`, when given, is for the log and the audit only, never the answer."""

    def __init__(self, status: int, code: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.reason = reason

    def because(self, reason: str) -> Problem:
        """This problem, with the reason for the log and the audit."""
        return Problem(self.status, self.code, str(self), reason)


def operation_outcome(code: str, message: str) -> dict[str, Any]:
    if not message.isascii():
        # a message may quote the request, whose JSON can hold a lone surrogate (no character,
        # so no UTF-8 response can carry it): shown escaped, `\udcff`, not a 500
        message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }


def _outcome_response(problem: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    return JSONResponse(
        operation_outcome(problem.code, str(problem)),
        status_code=problem.status,
        media_type=FHIR_JSON,
        headers=headers,
    )


UNAUTHORIZED = Problem(401, "login", "unauthorized")
REPLAY_UNAVAILABLE = Problem(503, "transient", "tokens cannot be checked at the moment; try again")
FEEDBACK_UNAVAILABLE = Problem(
    503, "transient", "the feedback cannot be stored at the moment; it was not recorded: try again"
)
FLUSH_SECONDS = 1.0  # how often the counts of refused calls are checked for a window's end


@dataclass(frozen=True, slots=True)
class HostedService:
    ruleset: Ruleset
    description: Service
    lookbacks: Mapping[str, timedelta]  # prefetch keys a first page may be enough for


def load_rulesets(refs: Sequence[str]) -> list[Ruleset]:
    import engine

    loader = getattr(engine, "load_ruleset", None)
    if loader is None:
        raise RuntimeError("engine.load_ruleset is not available yet")
    return [loader(ref) for ref in refs]


def create_app(
    config: ServiceConfig,
    *,
    rulesets: Sequence[Ruleset] | None = None,
    evaluate: Evaluate | None = None,
    store: SqliteStore | None = None,
    audit_log: AuditSink | None = None,
    replay: ReplayCache | None = None,
    fhir_transport: httpx.AsyncBaseTransport | None = None,
    jwks: JwksCache | None = None,
    health: Health | None = None,
) -> FastAPI:
    """The service for `config`; the keyword arguments replace real parts in tests. Audit
    records go to `audit_log` and token ids are claimed in `replay` (under `vigil serve`, both
    go to the supervisor, which shares `health`), or else both go to the store."""
    loaded = list(rulesets) if rulesets is not None else load_rulesets(config.rulesets)
    services = {
        r.id: HostedService(r, _describe(r, config.fhir.page_size), prefetch_lookbacks(r))
        for r in loaded
        if r.status == "active"  # its effective dates are judged at each call: it runs for days
    }
    db = store if store is not None else SqliteStore(config.database)
    state = health if health is not None else Health()
    audits: AuditSink = audit_log if audit_log is not None else StoreAuditLog(db, state)
    refusals = RefusalTally(audits.record)
    replays = replay if replay is not None else StoreReplayCache(db)
    verifier = None if config.insecure_dev else TokenVerifier(config, replays, jwks=jwks)
    evaluator = evaluate or evaluate_with_library
    client = FhirClient(
        config.fhir,
        transport=fhir_transport,
        on_failure=lambda _kind: state.count("fhir_server_failures"),
    )

    async def flush_refusals() -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            refusals.flush_ended(time.time())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if config.insecure_dev:
            log.warning(INSECURE_BANNER)
        flusher = asyncio.create_task(flush_refusals())
        yield
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        refusals.flush()
        await client.aclose()

    app = FastAPI(
        title="Vigil CDS Hooks service",
        version="2.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )

    async def authenticate(request: Request) -> Caller | None:
        if verifier is None:
            return None
        try:
            return await verifier.verify(request.headers.get("authorization"), _endpoint(request))
        except AuthError as exc:
            raise UNAUTHORIZED.because(reason_text(exc)) from None
        except ReplayUnavailable as exc:
            raise REPLAY_UNAVAILABLE.because(reason_text(exc)) from None

    def finish(
        kind: str, service_id: str, audit: AuditRecord, authenticated: bool, duration: str
    ) -> None:
        """Audit and log a call: one record and one line each, or, for a call refused before
        its caller was authenticated, counted in its window (and logged while few)."""
        shown = _shown(service_id)
        reason = f" ({audit.reason})" if audit.reason else ""
        if authenticated or audit.status < 400:
            audits.record(audit)
            log.info("%s %s %d%s%s", kind, shown, audit.status, duration, reason)
            return
        state.count("refused_calls")
        if refusals.add(audit.time, kind, shown, audit.status, audit.reason):
            log.info("%s %s %d%s%s", kind, shown, audit.status, duration, reason)

    def _endpoint(request: Request) -> str:
        """The URL a token's `aud` must name: public_url's, or else the address this socket
        listens on. Never the request's Host header, which is the caller's to choose: with it,
        a token an EHR signed for another service would pass here."""
        if config.public_url:
            return config.public_url.rstrip("/") + request.url.path
        server = request.scope.get("server")
        if not server:
            return ""  # no listening address known: no audience matches
        host, port = server
        host = f"[{host}]" if ":" in host else host
        return f"{request.url.scheme}://{host}:{port}{request.url.path}"

    def _shown(service_id: str) -> str:
        # the path is the caller's: written as is, a newline in it would forge a log line
        return service_id if service_id in services else "(unknown service)"

    def hosted(service_id: str) -> HostedService:
        found = services.get(service_id)
        if found is None:
            raise Problem(404, "not-found", f"no CDS service {service_id!r}")
        reason = not_in_force(found.ruleset)
        if reason is not None:  # outside its effective dates today
            raise Problem(404, "not-found", f"CDS service {service_id!r} {reason}")
        return found

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return _outcome_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _routing(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # the router's own 404 (no such path) and 405 (wrong method), as OperationOutcomes too
        code = "not-found" if exc.status_code == 404 else "not-supported"
        response = _outcome_response(Problem(exc.status_code, code, str(exc.detail)))
        response.headers.update(exc.headers or {})
        return response

    @app.get("/cds-services", response_model=None)
    async def discovery() -> dict[str, Any]:
        offered = [s.description for s in services.values() if in_force(s.ruleset)]
        response = DiscoveryResponse(services=offered)
        return response.dump()

    @app.post(
        "/cds-services/{service_id}",
        response_model=None,
        openapi_extra=_body_schema(HookRequest),
        responses=_error_responses(),
    )
    async def call(service_id: str, request: Request) -> Response:
        started = time.perf_counter()
        deadline = Deadline.start(config.fhir.deadline)  # for all this call fetches
        audit = AuditRecord(time=time.time(), service=service_id, status=500)
        authenticated = False
        try:
            service = hosted(service_id)
            identity = service.ruleset
            audit = _with(
                audit,
                ruleset_id=identity.id,
                ruleset_version=identity.version,
                ruleset_hash=identity.content_hash,
            )
            caller = await authenticate(request)
            authenticated = True
            audit = _with(audit, issuer=caller.issuer if caller else None)
            hook = _parse(HookRequest, await _json_body(request))
            audit = _with(audit, hook_instance=hook.hookInstance)
            patient_id = _patient_id(hook, service_id)
            patient = f"Patient/{patient_id}"
            audit = _with(audit, patient=patient)
            try:
                templates = service.description.prefetch or {}
                data = await gather(hook, templates, client, service.lookbacks, deadline)
            except PrefetchUnavailable as exc:
                raise Problem(412, "incomplete", str(exc)) from None
            except PrefetchInvalid as exc:
                raise Problem(400, "invalid", str(exc)) from None
            audit = _with(audit, data_source=data.source)
            evaluation = _evaluate(evaluator, service.ruleset, patient, data.resources)
            cards = build_cards(evaluation, patient) if evaluation is not None else []
            audit = _with(
                audit,
                status=200,
                escalation=evaluation.escalation if evaluation is not None else "none",
                cards=tuple(_card_record(c, evaluation) for c in cards if evaluation),
            )
            return JSONResponse(CardResponse(cards=cards).dump())
        except Problem as exc:
            audit = _with(audit, status=exc.status, reason=exc.reason)
            return _outcome_response(exc)
        finally:
            duration = round((time.perf_counter() - started) * 1000, 3)
            audit = _with(audit, duration_ms=duration)
            finish("service", service_id, audit, authenticated, f" {duration:.1f} ms")

    @app.post(
        "/cds-services/{service_id}/feedback",
        response_model=None,
        openapi_extra=_body_schema(FeedbackRequest),
        responses=_error_responses(),
    )
    async def feedback(service_id: str, request: Request) -> Response:
        audit = AuditRecord(time=time.time(), service=service_id, status=500, kind="feedback")
        authenticated = False
        try:
            hosted(service_id)
            caller = await authenticate(request)
            authenticated = True
            audit = _with(audit, issuer=caller.issuer if caller else None)
            body = _parse(FeedbackRequest, await _json_body(request))
            store_feedback(service_id, body.feedback, caller.issuer if caller else None)
            audit = _with(audit, status=200)
            return Response(status_code=200)
        except Problem as exc:
            audit = _with(audit, status=exc.status, reason=exc.reason)
            return _outcome_response(exc)
        finally:
            finish("feedback", service_id, audit, authenticated, "")

    def store_feedback(service_id: str, items: Sequence[FeedbackItem], issuer: str | None) -> None:
        """Store feedback, or refuse it with a 503: feedback is never acknowledged unstored."""
        try:
            db.add_feedback(service_id, items, issuer)
        except StoreUnavailable as exc:
            if state.failed("feedback", exc.reason):
                log.error(
                    "feedback: cannot be stored: %s; answering 503 until it can (logged once a"
                    " minute)",
                    exc.reason,
                )
            raise FEEDBACK_UNAVAILABLE.because(f"feedback not stored: {exc.reason}") from None
        if state.recovered("feedback"):
            log.warning("feedback: stored again")

    @app.get("/health", response_model=None)
    async def health_report() -> JSONResponse:
        """Whether the stores are written (`ok`) or not (`degraded`, with each failing store's
        reason) and the counters: fixed phrases and numbers only. 200 while the service answers."""
        return JSONResponse(state.report(), headers={"Cache-Control": "no-store"})

    return app


CONFIG_ENV = "VIGIL_CDS_CONFIG"
INSECURE_ENV = "VIGIL_CDS_INSECURE_DEV"


def app_from_environment(
    audit_log: AuditSink | None = None,
    replay: ReplayCache | None = None,
    health: Health | None = None,
) -> FastAPI:
    """The app of a worker process, from the variables `vigil serve` sets, warmed up before it
    takes its first call."""
    config = load_config(os.environ.get(CONFIG_ENV) or None)
    if os.environ.get(INSECURE_ENV) == "1":
        config = config.model_copy(update={"insecure_dev": True})
    rulesets = load_rulesets(config.rulesets)
    app = create_app(config, rulesets=rulesets, audit_log=audit_log, replay=replay, health=health)
    prepare_worker(r for r in rulesets if r.status == "active")
    return app


def _describe(ruleset: Ruleset, count: int) -> Service:
    return Service(
        hook=HOOK,
        id=ruleset.id,
        title=ruleset.title or None,
        description=ruleset.description or ruleset.title or ruleset.id,
        prefetch=prefetch_templates(ruleset, count) or None,
    )


def _with(record: AuditRecord, **changes: Any) -> AuditRecord:
    return replace(record, **changes)


def _card_record(card: Any, evaluation: Evaluation) -> CardRecord:
    return CardRecord(
        uuid=card.uuid or "",
        indicator=card.indicator,
        rules=tuple(s.rule for s in evaluation.suggestions),
        suggestions=tuple(s.uuid for s in card.suggestions or [] if s.uuid),
    )


def _evaluate(
    evaluate: Evaluate, ruleset: Ruleset, patient: str, resources: Sequence[dict[str, Any]]
) -> Evaluation | None:
    try:
        return evaluate(ruleset, patient, resources)
    except FactError as exc:
        # Sent back to the EHR that owns the data, never logged.
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Problem(400, "processing", f"the patient's data cannot be used: {first}") from None
    except Exception as exc:
        # The message may quote patient data: log only the kind of failure.
        log.error("evaluation of %s failed: %s", ruleset.id, type(exc).__name__)
        raise Problem(500, "exception", "the evaluation failed") from None


async def _json_body(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Problem(413, "too-costly", f"request body over {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # a chunked body has no Content-Length to check first
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Problem(413, "too-costly", f"request body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise Problem(400, "structure", "the request body is empty; expected a JSON object")
    try:
        return jsontext.loads(raw)
    except jsontext.RepeatedKeyError as exc:  # in a resource, it leaves that resource out
        raise Problem(400, "structure", f"the request body repeats a key, {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise Problem(400, "structure", f"the request body is not JSON: {exc}") from None


def _parse(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise Problem(
            400, "structure", f"the request body is a JSON {type(data).__name__}, not an object"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Problem(400, "invalid", _first_error(exc)) from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in error["loc"]) or "(body)"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{where}: {error['msg']}{suffix}"


def _patient_id(hook: HookRequest, service_id: str) -> str:
    if hook.hook != HOOK:
        raise Problem(
            400, "not-supported", f"hook {hook.hook!r} is not served by {service_id!r}; use {HOOK}"
        )
    try:
        context = hook.patient_view()
    except ValidationError as exc:
        raise Problem(400, "invalid", "context." + _first_error(exc)) from None
    if not _FHIR_ID.fullmatch(context.patientId):
        raise Problem(400, "invalid", "context.patientId: not a FHIR id")
    authorized = hook.fhirAuthorization.patient if hook.fhirAuthorization else None
    if authorized is not None and authorized != context.patientId:
        # a token for one patient, sent with another in context: which one is meant?
        raise Problem(400, "invalid", "fhirAuthorization.patient is not context.patientId")
    return context.patientId


def _body_schema(model: type[HookRequest] | type[FeedbackRequest]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def _error_responses() -> dict[int | str, dict[str, Any]]:
    outcome = {"description": "OperationOutcome"}
    return {400: outcome, 401: outcome, 404: outcome, 412: outcome, 413: outcome, 503: outcome}


__all__ = [
    "CONFIG_ENV",
    "INSECURE_BANNER",
    "INSECURE_ENV",
    "app_from_environment",
    "create_app",
    "load_rulesets",
    "operation_outcome",
]
