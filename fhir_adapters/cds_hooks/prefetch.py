"""Prefetch: the templates a service advertises, and getting each one's data for a request.

For every template key the request's `prefetch` decides, as CDS Hooks 2.0 says: a Bundle or
resource present is used (a Bundle's `next` pages followed through fhirServer, or, when it
cannot be read, a first page alone if it reaches back past its concept's lookback:
`first_page`); `null` means no data; an OperationOutcome, or an absent key, is fetched from
fhirServer with the access token, only when the request gives both, over https (or loopback).
A key had neither way is `PrefetchUnavailable` (412); a value that is not what its template
asks for is `PrefetchInvalid` (400). Every resource found is kept, copies too: they are chosen
among where the CLI's are (`fhir_adapters.patients`), never here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

from engine.model import Ruleset

from .deadline import Deadline
from .fhir_client import (
    BundleError,
    DeadlineExceeded,
    FetchError,
    FhirClient,
    FhirServer,
    bundle_resources,
    next_link,
)
from .first_page import reaches_back
from .models import HookRequest

DataSource = Literal["prefetch", "fhirServer", "mixed", "none"]
_TOKEN = re.compile(r"\{\{\s*context\.(\w+)\s*\}\}")
LOINC = "http://loinc.org"
OBSERVATIONS, CONDITIONS, PATIENT = "observations", "conditions", "patient"
# an Observation's own code or a component's (FHIR R4 search parameter Observation-combo-code)
COMBO_CODE = "combo-code"
_EVENT_KEYS = {
    "Procedure": "procedures",
    "Encounter": "encounters",
    "ServiceRequest": "service-requests",
}
_EVENT_SORT = {"Procedure": "-date", "Encounter": "-date", "ServiceRequest": "-authored"}


class PrefetchUnavailable(Exception):
    """The data of a prefetch key can be had neither from the request nor from fhirServer."""


class PrefetchInvalid(Exception):
    """A prefetched value is malformed, or not what its template asks for."""


@dataclass(frozen=True, slots=True)
class PatientData:
    resources: tuple[dict[str, Any], ...]
    source: DataSource


def prefetch_templates(ruleset: Ruleset, count: int = 100) -> dict[str, str]:
    """Searches for the patient's data the ruleset reads, newest first.

    Each concept with a lookback has an Observation search of its own, under its name (its
    first page can hold all the rules read of it: see `prefetch_lookbacks`); the concepts
    without one, read over all time, share `observations`. `conditions` takes the codes of
    findings (concepts without a unit), leaving out LOINC, which codes no Condition. A report
    whose coded answer may mean a finding (`answers_of`) is searched by the report's code, and
    results a Specimen may mark come with their Specimens. Observations are searched by
    `combo-code` (their own code or a component's), since a concept is also read from the
    component of a panel coded otherwise (a blood pressure panel's systolic value).
    Medication concepts read every MedicationRequest and MedicationStatement of the patient
    (their codes are mapped through product tables and class prefixes, which a search cannot
    say) with the Medications they name; events read their own resource type; demographics
    read the Patient.
    """
    observations: dict[str, list[str]] = {}
    condition: list[str] = []
    events: dict[str, list[str]] = {}
    specimens: set[str] = set()  # keys whose results may be marked by their Specimen
    medications = patient = False
    for concept in ruleset.concepts.values():
        if concept.kind == "medication":
            medications = True
            continue
        if concept.kind == "demographic":
            patient = True
            continue
        if concept.kind == "event" and concept.resource:
            tokens = events.setdefault(concept.resource, [])
            for code in concept.codes:
                _add(tokens, f"{code.system}|{code.code}")
            continue
        key = OBSERVATIONS if concept.lookback is None else _concept_key(concept.name)
        tokens = observations.setdefault(key, [])
        if any(marker.specimen_conditions for marker in concept.markers):
            specimens.add(key)
        for code in (*concept.codes, *concept.answers_of):
            token = f"{code.system}|{code.code}"
            _add(tokens, token)
            if concept.unit is None and code.system != LOINC and code in concept.codes:
                _add(condition, token)
    out: dict[str, str] = {}
    if patient:
        out[PATIENT] = "Patient/{{context.patientId}}"
    if observations.get(OBSERVATIONS):  # the shared key first
        out[OBSERVATIONS] = _search(
            "Observation", observations.pop(OBSERVATIONS), count, "-date", COMBO_CODE
        )
    for key, tokens in observations.items():
        if tokens:
            out[key] = _search("Observation", tokens, count, "-date", COMBO_CODE)
    for key in specimens & out.keys():
        out[key] += "&_include=Observation:specimen"
    if condition:
        out[CONDITIONS] = _search("Condition", condition, count, "-recorded-date")
    for resource, tokens in sorted(events.items()):
        if tokens:
            out[_EVENT_KEYS.get(resource, resource.lower())] = _search(
                resource,
                tokens,
                count,
                _EVENT_SORT.get(resource, "-date"),
                "type" if resource == "Encounter" else "code",
            )
    if medications:
        for resource, key in (
            ("MedicationRequest", "medication-requests"),
            ("MedicationStatement", "medication-statements"),
        ):
            out[key] = (
                f"{resource}?patient={{{{context.patientId}}}}"
                f"&_include={resource}:medication&_count={count}"
            )
    return out


def _add(tokens: list[str], token: str) -> None:
    if token not in tokens:
        tokens.append(token)


def prefetch_lookbacks(ruleset: Ruleset) -> dict[str, timedelta]:
    """The lookback of each template key whose first page, newest first, may hold all that the
    rules read of it (the keys of the concepts with a lookback)."""
    return {
        _concept_key(c.name): c.lookback
        for c in ruleset.concepts.values()
        if c.lookback is not None and c.codes
    }


def _concept_key(name: str) -> str:
    # a concept named like a shared key gets a key of its own all the same
    shared = (OBSERVATIONS, CONDITIONS, PATIENT, *_EVENT_KEYS.values())
    return f"{name}-observations" if name in shared else name


def _search(resource: str, codes: list[str], count: int, sort: str, parameter: str = "code") -> str:
    code = ",".join(quote(token, safe="|:/.-_") for token in codes)
    return (
        f"{resource}?patient={{{{context.patientId}}}}&{parameter}={code}"
        f"&_sort={sort}&_count={count}"
    )


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
    request: HookRequest,
    templates: Mapping[str, str],
    client: FhirClient,
    lookbacks: Mapping[str, timedelta] | None = None,
    deadline: Deadline | None = None,
) -> PatientData:
    """Every template's resources, from the request's prefetch or from fhirServer, all read
    within the one `deadline` (by default the client's configured one, from now). A key in
    `lookbacks` (see `prefetch_lookbacks`) prefetched as a first page only, with no way to read
    the rest, is enough when that page reaches back past its lookback (`first_page`)."""
    deadline = deadline or Deadline.start(client.config.deadline)
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
            lookback = (lookbacks or {}).get(key)
            try:
                found = await _from_prefetch(value, template, server, client, lookback, deadline)
            except BundleError as exc:
                raise PrefetchInvalid(f"prefetch {key!r}: {exc}") from None
            except DeadlineExceeded as exc:
                raise PrefetchUnavailable(f"prefetch {key!r} has more pages and {exc}") from None
            except _FirstPageOnly as exc:
                raise PrefetchUnavailable(f"prefetch {key!r} {exc}, and {server}") from None
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
            query = fill(template, request.context)
            fetch = client.search if "?" in query else client.read
            resources.extend(await fetch(server, query, deadline))
        except FetchError as exc:
            raise PrefetchUnavailable(f"{failure} and {exc}") from None
        used.add("fhirServer")
    source: DataSource = (
        "mixed" if len(used) > 1 else "fhirServer" if "fhirServer" in used else "prefetch"
    )
    return PatientData(tuple(resources), source if used else "none")


async def _from_prefetch(
    value: dict[str, Any],
    template: str,
    server: FhirServer | str,
    client: FhirClient,
    lookback: timedelta | None,
    deadline: Deadline,
) -> list[dict[str, Any]] | None:
    """The resources of one prefetched value; None when it is a failed prefetch. A first page
    enough for `lookback` (`first_page`) is used when the rest may not or cannot be read.
    Raises BundleError when the value is malformed or not what the template asks for,
    _FirstPageOnly when it is a first page that is not enough and the rest may not be read,
    DeadlineExceeded when it is not enough and the deadline passed reading the rest."""
    kind = value.get("resourceType")
    if kind == "OperationOutcome":
        return None
    search = "?" in template
    if kind != "Bundle" or not search:
        read = template.split("/", 1)[0]
        if search or kind != read:
            wanted = "a Bundle (its template is a search)" if search else f"the {read} read"
            raise BundleError(f"{_kind(kind)}, not {wanted}")
        return [value]
    try:
        page = bundle_resources(value)
    except FetchError:  # a Bundle carrying an OperationOutcome: a failed prefetch
        return None
    more = next_link(value) is not None
    enough = more and lookback is not None and reaches_back(page, lookback, datetime.now(UTC))
    if isinstance(server, str):
        if more and not enough:
            raise _FirstPageOnly(lookback)
        return page
    try:
        return await client.follow(server, None, first=value, deadline=deadline)
    except FetchError as exc:
        if enough:  # the pages that could not be read hold nothing the rules read
            return page
        if isinstance(exc, DeadlineExceeded):
            raise  # no time is left to read the key from fhirServer instead
        return None


class _FirstPageOnly(Exception):
    """A prefetched first page with a `next` link, not enough for what the rules read."""

    def __init__(self, lookback: timedelta | None) -> None:
        why = (
            "the rules read all of them"
            if lookback is None
            else f"the first does not reach back past the {_duration(lookback)} the rules read"
        )
        super().__init__(f"has more pages than the first (a next link), {why}")


def _duration(span: timedelta) -> str:
    if span % timedelta(days=1):
        return str(span)
    return f"{span.days} day{'s' if span.days != 1 else ''}"


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
    "prefetch_lookbacks",
    "prefetch_templates",
]
