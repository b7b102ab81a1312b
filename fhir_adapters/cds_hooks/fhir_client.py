"""Reading search results from the EHR's FHIR server (`fhirServer`) with the access token it gave.

Bounded in every direction: connect and read timeouts, a page limit, a response-size limit, and the
token is only ever sent to URLs under `fhirServer` (a `next` link elsewhere is refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from .config import FhirClientConfig

MAX_RESPONSE_BYTES = 32 * 1024 * 1024


class FetchError(Exception):
    """Data could not be read from fhirServer; the message says which URL path and why."""


@dataclass(frozen=True, slots=True)
class FhirServer:
    base: str  # no trailing slash
    access_token: str | None = None

    def owns(self, url: str) -> bool:
        return url == self.base or url.startswith(self.base + "/")

    def headers(self) -> dict[str, str]:
        out = {"Accept": "application/fhir+json"}
        if self.access_token:
            out["Authorization"] = f"Bearer {self.access_token}"
        return out


class FhirClient:
    """Reads searchset Bundles page by page; one instance per service, shared by its requests."""

    def __init__(
        self, config: FhirClientConfig, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(
                config.read_timeout,
                connect=config.connect_timeout,
                pool=config.connect_timeout,
            ),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def search(self, server: FhirServer, query: str) -> list[dict[str, Any]]:
        """The resources of a search (`Observation?patient=...`), following `next` pages."""
        return await self.follow(server, f"{server.base}/{query.lstrip('/')}", first=None)

    async def follow(
        self, server: FhirServer, url: str | None, first: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        """The entries of `first` (if given) and of every page after it, up to the page limit."""
        resources: list[dict[str, Any]] = []
        bundle = first
        pages = 0
        while True:
            if bundle is None:
                if url is None:
                    break
                bundle = await self._get(server, url)
            pages += 1
            resources.extend(bundle_resources(bundle))
            url = next_link(bundle)
            bundle = None
            if url is None or pages >= self.config.max_pages:
                break
        return resources

    async def _get(self, server: FhirServer, url: str) -> dict[str, Any]:
        if not server.owns(url):
            raise FetchError("a next link points outside fhirServer")
        where = url[len(server.base) :].split("?", 1)[0] or "/"
        try:
            response = await self._client.get(url, headers=server.headers())
        except httpx.TimeoutException:
            raise FetchError(f"fhirServer timed out on {where}") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"fhirServer unreachable on {where}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise FetchError(f"fhirServer answered {response.status_code} on {where}")
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise FetchError(f"fhirServer sent more than {MAX_RESPONSE_BYTES} bytes on {where}")
        try:
            data = response.json()
        except ValueError:
            raise FetchError(f"fhirServer sent a body that is not JSON on {where}") from None
        if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
            kind = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
            raise FetchError(f"fhirServer sent {kind}, not a Bundle, on {where}")
        return data


def bundle_resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The entry resources of a Bundle; an OperationOutcome among them raises FetchError."""
    out: list[dict[str, Any]] = []
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        if resource.get("resourceType") == "OperationOutcome":
            raise FetchError("the Bundle carries an OperationOutcome")
        out.append(resource)
    return out


def next_link(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) and url else None
    return None


__all__ = ["FetchError", "FhirClient", "FhirServer", "bundle_resources", "next_link"]
