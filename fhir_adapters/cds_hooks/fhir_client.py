"""Reading search results from the EHR's FHIR server (`fhirServer`) with the access token it gave.

Bounded in every direction: one deadline for everything a call reads (all its searches, pages and
redirects), connect and read timeouts within it, a page limit, and a response-size cap enforced
while the body streams in (decoded bytes counted, a larger Content-Length refused unread). The
token is only ever sent to URLs under `fhirServer`: a `next` link or a redirect elsewhere is
refused; a redirect under it is followed, at most `MAX_REDIRECTS` times. No cookie is kept from
one request to the next. A search that goes on
past the page limit is an error, not a shorter result: the pages left unread could hold the
value that escalates. Every failure is logged in one line, without URL or patient data, and
counted in `FhirClient.failures`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from .. import jsontext
from .capped_body import ACCEPT_ENCODING, BodyTooLarge, BodyUndecodable, read_capped
from .config import FhirClientConfig
from .deadline import Deadline, DeadlinePassed

MAX_RESPONSE_BYTES = 32 * 1024 * 1024
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
log = logging.getLogger("vigil.cds_hooks.fhir")


class FetchError(Exception):
    """Data could not be read from fhirServer; the message says which URL path and why."""


class DeadlineExceeded(FetchError):
    """fhirServer had not given everything asked of it when the call's deadline passed."""


class BundleError(ValueError):
    """A Bundle whose `entry` or `link` is not shaped as FHIR says; the message says where."""


@dataclass(frozen=True, slots=True)
class FhirServer:
    base: str  # no trailing slash
    access_token: str

    def owns(self, url: str) -> bool:
        """Whether `url`, as it would be requested, is under this server's base."""
        try:
            # as httpx requests it: `/fhir/../admin` is `/admin`, not under `/fhir`
            url = str(httpx.URL(url))
        except httpx.InvalidURL:
            return False
        return url == self.base or url.startswith(self.base + "/")

    def headers(self) -> dict[str, str]:
        return {
            "Accept": "application/fhir+json",
            "Accept-Encoding": ACCEPT_ENCODING,
            "Authorization": f"Bearer {self.access_token}",
        }


class FhirClient:
    """Reads searchset Bundles page by page, and single resources (a read such as
    `Patient/p1`); one instance per service, shared by its requests.

    Every method takes the call's `Deadline` (without one, a fresh one of the configured
    `deadline` seconds) and raises DeadlineExceeded, a FetchError, when it passes.
    """

    def __init__(
        self,
        config: FhirClientConfig,
        transport: httpx.AsyncBaseTransport | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.failures: Counter[str] = Counter()  # by kind, since this client was made
        self._on_failure = on_failure  # told each failure's kind, e.g. to count it for /health
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(
                config.read_timeout,
                connect=config.connect_timeout,
                pool=config.connect_timeout,
            ),
            follow_redirects=False,  # followed here, and only under fhirServer
            # The client serves every call: a cookie one call's fhirServer set (a session
            # opened for its access token) would go with the next call's, so none is kept.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def search(
        self, server: FhirServer, query: str, deadline: Deadline | None = None
    ) -> list[dict[str, Any]]:
        """The resources of a search (`Observation?patient=...`), following `next` pages."""
        url = f"{server.base}/{query.lstrip('/')}"
        return await self.follow(server, url, first=None, deadline=deadline)

    async def read(
        self, server: FhirServer, query: str, deadline: Deadline | None = None
    ) -> list[dict[str, Any]]:
        """The one resource a read (`Patient/p1`) names, as a list of it. Raises FetchError when
        it cannot be read or is not of the type read (an OperationOutcome, a Bundle)."""
        path = query.lstrip("/")
        url = f"{server.base}/{path}"
        deadline = deadline or Deadline.start(self.config.deadline)
        try:
            async with deadline.enforced():
                return [await self._get(server, url, path.split("/", 1)[0])]
        except DeadlinePassed:
            raise self.failed(
                "deadline", f"fhirServer did not answer within {deadline}", DeadlineExceeded
            ) from None

    async def follow(
        self,
        server: FhirServer,
        url: str | None,
        first: dict[str, Any] | None,
        deadline: Deadline | None = None,
    ) -> list[dict[str, Any]]:
        """The entries of `first` (if given) and of every page after it. Raises FetchError when
        a page cannot be read, the pages go on past the limit or the deadline passes, and
        BundleError when `first` itself is malformed."""
        deadline = deadline or Deadline.start(self.config.deadline)
        try:
            async with deadline.enforced():
                return await self._pages(server, url, first)
        except DeadlinePassed:
            raise self.failed(
                "deadline", f"fhirServer did not answer within {deadline}", DeadlineExceeded
            ) from None

    def failed(self, kind: str, message: str, error: type[FetchError] = FetchError) -> FetchError:
        """Count and log a failure of `kind` (a word, no data) and return its error to raise."""
        self.failures[kind] += 1
        log.warning("fhirServer read failed: %s (%d in this worker)", kind, self.failures[kind])
        if self._on_failure is not None:
            self._on_failure(kind)
        return error(message)

    async def _pages(
        self, server: FhirServer, url: str | None, first: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
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
                raise self.failed(
                    "pages",
                    f"the search goes on past {self.config.max_pages} pages"
                    f" on {self._where(server, url)} (the [fhir] max_pages of the config)",
                )
        return resources

    @staticmethod
    def _where(server: FhirServer, url: str) -> str:
        if not server.owns(url):
            return "a URL outside fhirServer"
        # the path as owns() judged it: the URL as httpx requests it
        return str(httpx.URL(url))[len(server.base) :].split("?", 1)[0] or "/"

    async def _get(self, server: FhirServer, url: str, kind: str = "Bundle") -> dict[str, Any]:
        if not server.owns(url):
            raise self.failed("outside", "a next link points outside fhirServer")
        where = self._where(server, url)
        for _ in range(MAX_REDIRECTS + 1):
            body, location = await self._exchange(server, url, where)
            if location is None:
                return self._resource(body, where, kind)
            if not server.owns(location):
                # the access token goes to fhirServer only, never where a redirect points
                raise self.failed(
                    "redirect",
                    f"fhirServer redirected {where} outside fhirServer; not followed",
                )
            url = location
        raise self.failed(
            "redirect", f"fhirServer redirected {where} more than {MAX_REDIRECTS} times"
        )

    async def _exchange(self, server: FhirServer, url: str, where: str) -> tuple[bytes, str | None]:
        """One GET: its body, or the absolute URL it redirects to (its body unread)."""
        try:
            async with self._client.stream("GET", url, headers=server.headers()) as response:
                status = response.status_code
                if status in _REDIRECTS and "location" in response.headers:
                    return b"", str(response.url.join(response.headers["location"]))
                if status != 200:
                    raise self.failed(
                        f"status {status}", f"fhirServer answered {status} on {where}"
                    )
                return await read_capped(response, MAX_RESPONSE_BYTES), None
        except httpx.TimeoutException:
            raise self.failed("timeout", f"fhirServer timed out on {where}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self.failed(
                "unreachable", f"fhirServer unreachable on {where}: {type(exc).__name__}"
            ) from None
        except BodyTooLarge:
            raise self.failed(
                "too large", f"fhirServer sent more than {MAX_RESPONSE_BYTES} bytes on {where}"
            ) from None
        except BodyUndecodable as exc:
            raise self.failed(
                "undecodable", f"fhirServer sent a body that cannot be read on {where}: {exc}"
            ) from None

    def _resource(self, body: bytes, where: str, wanted: str) -> dict[str, Any]:
        """The body as a resource of type `wanted`; a Bundle's entries and links checked."""
        try:
            data = jsontext.loads(body)
        except jsontext.RepeatedKeyError as exc:
            raise self.failed(
                "repeated key", f"fhirServer repeats a key on {where}, {exc}"
            ) from None
        except (ValueError, RecursionError):
            raise self.failed(
                "not JSON", f"fhirServer sent a body that is not JSON on {where}"
            ) from None
        if not isinstance(data, dict) or data.get("resourceType") != wanted:
            kind = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
            raise self.failed(
                "not a Bundle" if wanted == "Bundle" else "not the type read",
                f"fhirServer sent {kind}, not a {wanted}, on {where}",
            )
        if wanted != "Bundle":
            return data
        try:
            bundle_resources(data)
            next_link(data)
        except BundleError as exc:
            raise self.failed(
                "malformed", f"fhirServer sent a malformed Bundle on {where}: {exc}"
            ) from None
        except FetchError as exc:  # a Bundle carrying an OperationOutcome
            raise self.failed("OperationOutcome", str(exc)) from None
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


__all__ = [
    "MAX_REDIRECTS",
    "MAX_RESPONSE_BYTES",
    "BundleError",
    "DeadlineExceeded",
    "FetchError",
    "FhirClient",
    "FhirServer",
    "bundle_resources",
    "next_link",
]
