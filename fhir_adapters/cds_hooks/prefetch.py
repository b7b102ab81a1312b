"""Prefetch: the templates a service advertises, and getting each one's data for a request.

For every template key the request's `prefetch` decides, as CDS Hooks 2.0 says:
- present and a Bundle (a search's result) or a resource (a read's): used, a Bundle's `next`
  pages followed through fhirServer;
- present and `null`: there is no such data;
- present and an OperationOutcome (or a Bundle carrying one): the EHR's prefetch failed, so the key
  is fetched from fhirServer as if it were absent;
- absent: fetched from fhirServer with the access token.
When a key can be had neither way, `PrefetchUnavailable` (the service answers 412); when a
prefetched value is not what its template asks for, `PrefetchInvalid` (400).

Every resource found is kept, in the order found: a resource found twice (in two keys, on two
pages, in the prefetch and on fhirServer) is chosen among, with its warning, where the CLI's
copies are (`fhir_adapters.patients`), never here.

fhirServer is read only as the spec allows, when the request gives both it and
`fhirAuthorization`, and only over https (or on a loopback address, for local testing): the
access token is never sent without TLS to another machine.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from engine.model import Ruleset

from .fhir_client import (
    BundleError,
    FetchError,
    FhirClient,
    FhirServer,
    bundle_resources,
    next_link,
)
from .models import HookRequest

DataSource = Literal["prefetch", "fhirServer", "mixed", "none"]
_TOKEN = re.compile(r"\{\{\s*context\.(\w+)\s*\}\}")
LOINC = "http://loinc.org"


class PrefetchUnavailable(Exception):
    """The data of a prefetch key can be had neither from the request nor from fhirServer."""


class PrefetchInvalid(Exception):
    """A prefetched value is malformed, or not what its template asks for."""


@dataclass(frozen=True, slots=True)
class PatientData:
    resources: tuple[dict[str, Any], ...]
    source: DataSource


def prefetch_templates(ruleset: Ruleset, count: int = 100) -> dict[str, str]:
    """Observations and Conditions of the patient with the ruleset's codes, newest first.

    Every concept's codes go to the Observation search; the Condition search takes the codes of
    findings (concepts without a unit), leaving out LOINC, which codes no Condition.
    """
    observation: list[str] = []
    condition: list[str] = []
    for concept in ruleset.concepts.values():
        for code in concept.codes:
            token = f"{code.system}|{code.code}"
            if token not in observation:
                observation.append(token)
            if concept.unit is None and code.system != LOINC and token not in condition:
                condition.append(token)
    out: dict[str, str] = {}
    if observation:
        out["observations"] = _search("Observation", observation, count, "-date")
    if condition:
        out["conditions"] = _search("Condition", condition, count, "-recorded-date")
    return out


def _search(resource: str, codes: list[str], count: int, sort: str) -> str:
    code = ",".join(quote(token, safe="|:/.-_") for token in codes)
    return f"{resource}?patient={{{{context.patientId}}}}&code={code}&_sort={sort}&_count={count}"


def fill(template: str, context: Mapping[str, Any]) -> str:
    """Replace `{{context.x}}` tokens with URL-encoded context values."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        found = context.get(name)
        if not isinstance(found, str | int):
            raise PrefetchUnavailable(f"prefetch template needs context.{name}, which is missing")
        return quote(str(found), safe="")

    return _TOKEN.sub(value, template)


async def gather(
    request: HookRequest, templates: Mapping[str, str], client: FhirClient
) -> PatientData:
    """Every template's resources, from the request's prefetch or from fhirServer."""
    server = _server(request)
    given = request.prefetch or {}
    resources: list[dict[str, Any]] = []
    used: set[str] = set()
    for key, template in templates.items():
        if key in given:
            value = given[key]
            if value is None:
                used.add("prefetch")
                continue
            try:
                found = await _from_prefetch(value, template, server, client)
            except BundleError as exc:
                raise PrefetchInvalid(f"prefetch {key!r}: {exc}") from None
            if found is not None:
                resources.extend(found)
                used.add("prefetch")
                continue
            failure = f"prefetch {key!r} failed"
        else:
            failure = f"prefetch {key!r} is absent"
        if isinstance(server, str):
            raise PrefetchUnavailable(f"{failure} and {server}")
        try:
            resources.extend(await client.search(server, fill(template, request.context)))
        except FetchError as exc:
            raise PrefetchUnavailable(f"{failure} and {exc}") from None
        used.add("fhirServer")
    source: DataSource = (
        "mixed" if len(used) > 1 else "fhirServer" if "fhirServer" in used else "prefetch"
    )
    return PatientData(tuple(resources), source if used else "none")


async def _from_prefetch(
    value: dict[str, Any], template: str, server: FhirServer | str, client: FhirClient
) -> list[dict[str, Any]] | None:
    """The resources of one prefetched value; None when it is a failed prefetch. Raises
    BundleError when the value is malformed or not what the template asks for."""
    kind = value.get("resourceType")
    if kind == "OperationOutcome":
        return None
    search = "?" in template
    if kind != "Bundle" or not search:
        if search or kind == "Bundle":
            wanted = "a Bundle (its template is a search)" if search else "the resource read"
            raise BundleError(f"{_kind(kind)}, not {wanted}")
        return [value]
    try:
        if isinstance(server, str):
            if next_link(value) is not None:
                return None  # more pages exist, and there is no server to read them from
            return bundle_resources(value)
        return await client.follow(server, None, first=value)
    except FetchError:
        return None


def _kind(kind: object) -> str:
    if not isinstance(kind, str) or not kind:
        return "an object without resourceType"
    return f"{'an' if kind[0] in 'AEIOU' else 'a'} {kind}"


def _server(request: HookRequest) -> FhirServer | str:
    """The request's fhirServer with its access token, or why it may not be read."""
    if request.fhirServer is None:
        return "the request names no fhirServer"
    if request.fhirAuthorization is None:
        return "the request gives no fhirAuthorization to read fhirServer with"
    url = request.fhirServer
    if url.scheme != "https" and not _is_loopback(url.host or ""):
        return "fhirServer is not https (the access token is sent over https only)"
    return FhirServer(str(url).rstrip("/"), request.fhirAuthorization.access_token)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


__all__ = [
    "PatientData",
    "PrefetchInvalid",
    "PrefetchUnavailable",
    "fill",
    "gather",
    "prefetch_templates",
]
