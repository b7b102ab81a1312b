"""An EHR's FHIR server in miniature: it answers the service's prefetch queries over a chart.

`answer` reads a filled template (`Observation?patient=p&code=s|c,...&_include=...`, or
`Patient/p`) the way a FHIR R4 server does, from the query alone: the service's own template
code is never consulted, so a template that misses data a rule reads gives a different card.
Search parameters: `patient`, `code` (the resource's `code`; an Encounter's `type`),
`combo-code` (an Observation's code or a component's), `component-code`, `type`, `_include`
(`X:specimen`, `X:medication`), `_sort` and `_count` (everything on one page). Any other
parameter is an error, so a template this server cannot honour fails the test loudly.
`fhir_app` serves the same answers over HTTP under `/fhir`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

Resource = dict[str, Any]
_INCLUDES = {"specimen": "specimen", "medication": "medicationReference"}


class UnknownQuery(Exception):
    """A query the miniature server does not implement."""


def answer(query: str, chart: Sequence[Resource]) -> Resource:
    """The search Bundle (or the resource read) a FHIR server holding `chart` gives `query`."""
    path, _, raw = query.partition("?")
    if not raw:
        kind, _, rid = path.partition("/")
        found = [r for r in chart if r.get("resourceType") == kind and r.get("id") == rid]
        if len(found) != 1:
            raise UnknownQuery(f"{query}: {len(found)} resources")
        return found[0]
    params = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    matches = [r for r in chart if r.get("resourceType") == path]
    includes: list[str] = []
    for name, value in params.items():
        if name == "patient":
            matches = [r for r in matches if _patient(r) == f"Patient/{value}"]
        elif name in {"code", "combo-code", "component-code", "type"}:
            tokens = {tuple(t.split("|", 1)) for t in value.split(",")}
            matches = [r for r in matches if _codes(r, name) & tokens]
        elif name == "_include":
            source, _, target = value.partition(":")
            if source != path or target not in _INCLUDES:
                raise UnknownQuery(f"{query}: _include={value}")
            includes.append(_INCLUDES[target])
        elif name not in {"_sort", "_count"}:
            raise UnknownQuery(f"{query}: parameter {name}")
    entries = [{"resource": r, "search": {"mode": "match"}} for r in matches]
    seen: set[str] = set()
    for element in includes:
        for ref in _references(matches, element):
            if ref in seen:
                continue
            seen.add(ref)
            kind, _, rid = ref.partition("/")
            for r in chart:
                if r.get("resourceType") == kind and r.get("id") == rid:
                    entries.append({"resource": r, "search": {"mode": "include"}})
    return {"resourceType": "Bundle", "type": "searchset", "total": len(matches), "entry": entries}


def prefetch(
    templates: Mapping[str, str], patient: str, chart: Sequence[Resource]
) -> dict[str, Resource]:
    """Every template answered for `patient`, as an EHR prefetches them."""
    return {
        key: answer(template.replace("{{context.patientId}}", patient), chart)
        for key, template in templates.items()
    }


def fhir_app(chart: Sequence[Resource]) -> FastAPI:
    """A FHIR server holding `chart` at `/fhir`; it records each query it answered."""
    app = FastAPI()
    app.state.queries = []

    @app.get("/fhir/{path:path}")
    async def read(path: str, request: Request) -> JSONResponse:
        query = path + (f"?{request.url.query}" if request.url.query else "")
        app.state.queries.append(query)
        try:
            body = answer(query, chart)
        except UnknownQuery as exc:
            return JSONResponse({"resourceType": "OperationOutcome", "issue": [str(exc)]}, 400)
        return JSONResponse(body, media_type="application/fhir+json")

    return app


def _patient(resource: Resource) -> str | None:
    for element in ("subject", "patient"):
        ref = resource.get(element)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return str(ref["reference"])
    return None


def _codes(resource: Resource, parameter: str) -> set[tuple[str, ...]]:
    concepts: list[Any] = []
    if parameter in {"code", "combo-code"}:
        concepts.append(resource.get("code"))
    if parameter == "type" or (parameter == "code" and resource["resourceType"] == "Encounter"):
        concepts.extend(resource.get("type") or [])
    if parameter in {"combo-code", "component-code"}:
        concepts.extend(c.get("code") for c in resource.get("component") or [])
    return {
        (str(c.get("system")), str(c.get("code")))
        for concept in concepts
        if isinstance(concept, dict)
        for c in concept.get("coding") or []
    }


def _references(resources: Iterable[Resource], element: str) -> list[str]:
    out: list[str] = []
    for r in resources:
        value = r.get(element)
        for ref in value if isinstance(value, list) else [value]:
            if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
                out.append(urlsplit(ref["reference"]).path)
    return out
