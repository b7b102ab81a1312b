"""Reading search results from the EHR's FHIR server (`fhirServer`) with the access token it gave.

Bounded in every direction: connect and read timeouts, a page limit, a response-size limit, and the
token is only ever sent to URLs under `fhirServer` (a `next` link elsewhere is refused). A search
that goes on past the page limit is an error, not a shorter result: the pages left unread could
hold the value that escalates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from .. import jsontext
from .config import FhirClientConfig

MAX_RESPONSE_BYTES = 32 * 1024 * 1024


class FetchError(Exception):
    """Data could not be read from fhirServer; the message says which URL path and why."""


class BundleError(ValueError):
    """A Bundle whose `entry` or `link` is not shaped as FHIR says; the message says where."""


@dataclass(frozen=True, slots=True)
class FhirServer:
    base: str  # no trailing slash
    access_token: str

    def owns(self, url: str) -> bool:
        return url == self.base or url.startswith(self.base + "/")

    def headers(self) -> dict[str, str]:
        return {"Accept": "application/fhir+json", "Authorization": f"Bearer {self.access_token}"}


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
        """The entries of `first` (if given) and of every page after it. Raises FetchError when
        a page cannot be read or the pages go on past the limit, and BundleError when `first`
        itself is malformed."""
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
            if url is None:
                break
            if pages >= self.config.max_pages:
                raise FetchError(
                    f"the search goes on past {self.config.max_pages} pages"
                    f" on {self._where(server, url)} (the [fhir] max_pages of the config)"
                )
        return resources

    @staticmethod
    def _where(server: FhirServer, url: str) -> str:
        if not server.owns(url):
            return "a URL outside fhirServer"
        return url[len(server.base) :].split("?", 1)[0] or "/"

    async def _get(self, server: FhirServer, url: str) -> dict[str, Any]:
        if not server.owns(url):
            raise FetchError("a next link points outside fhirServer")
        where = self._where(server, url)
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
            data = jsontext.loads(response.content)
        except jsontext.RepeatedKeyError as exc:
            raise FetchError(f"fhirServer repeats a key on {where}, {exc}") from None
        except (ValueError, RecursionError):
            raise FetchError(f"fhirServer sent a body that is not JSON on {where}") from None
        if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
            kind = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
            raise FetchError(f"fhirServer sent {kind}, not a Bundle, on {where}")
        try:
            bundle_resources(data)
            next_link(data)
        except BundleError as exc:
            raise FetchError(f"fhirServer sent a malformed Bundle on {where}: {exc}") from None
        return data


def bundle_resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The entry resources of a Bundle (an entry without one has nothing to read). An
    OperationOutcome among them raises FetchError; a malformed entry, BundleError."""
    out: list[dict[str, Any]] = []
    for index, entry in enumerate(_elements(bundle, "entry")):
        resource = entry.get("resource")
        if resource is None:
            continue
        if not isinstance(resource, dict):
            raise BundleError(f"Bundle.entry[{index}].resource is not an object")
        if resource.get("resourceType") == "OperationOutcome":
            raise FetchError("the Bundle carries an OperationOutcome")
        out.append(resource)
    return out


def next_link(bundle: dict[str, Any]) -> str | None:
    """The Bundle's `next` page URL, if it has one; BundleError when its links are malformed."""
    for index, link in enumerate(_elements(bundle, "link")):
        if link.get("relation") == "next":
            url = link.get("url")
            if not isinstance(url, str) or not url:
                raise BundleError(f"Bundle.link[{index}] is a next link without a url")
            return url
    return None


def _elements(bundle: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = bundle.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BundleError(f"Bundle.{key} is not a list")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise BundleError(f"Bundle.{key}[{index}] is not an object")
    return value


__all__ = ["BundleError", "FetchError", "FhirClient", "FhirServer", "bundle_resources", "next_link"]
