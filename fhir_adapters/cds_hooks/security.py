"""JWT bearer verification as CDS Hooks 2.0 asks of a CDS service.

A token is accepted only when: its `alg` is asymmetric and allowed for its issuer (`none` and HMAC
never are); its `typ` is JWT; its `iss` is on the allowlist; its `kid` names one of that
issuer's keys; the signature verifies; `aud` is the endpoint URL or the issuer's configured
audience; `exp` and `iat` hold within a small leeway; and its `jti` was not seen before.

An issuer's keys are its pinned JWKS file when it has one: whatever the `jku` says, it is then
never fetched (a `jku` its `jwks_urls`, if it lists any, do not allow is still refused). Without
a file, they are the JWKS its `jku` names (a URL its entry allows) or else its allowed URLs,
fetched within a deadline and a size cap (read as it streams in), cached, and fetched again
when an unknown `kid` arrives.

Every failure is an `AuthError` whose message is the reason, without secrets: the service logs
and audits it, and answers a bare 401. The token itself is never logged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey
from joserfc.jwt import JWTClaimsRegistry

from .capped_body import ACCEPT_ENCODING, BodyTooLarge, BodyUndecodable, read_capped
from .config import ASYMMETRIC_ALGORITHMS, ConfigError, IssuerConfig, ServiceConfig
from .deadline import Deadline, DeadlinePassed
from .storage import ReplayCache

PublicKey = ECKey | RSAKey | OKPKey
MAX_LIFETIME_SECONDS = 3600  # bounds how long a jti must be remembered
JWKS_TTL_SECONDS = 3600.0
JWKS_MIN_REFRESH_SECONDS = 30.0
JWKS_MAX_BYTES = 256 * 1024
JWKS_DEADLINE_SECONDS = 5.0  # for all of one JWKS fetch, however its bytes arrive
_JWKS_HEADERS = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING}


class AuthError(Exception):
    """The request is not authenticated; `str()` says why (never sent to the client)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who called: the verified issuer, its client id (`sub`) and the token id."""

    issuer: str
    subject: str | None
    jti: str


def _public_keys(data: Any, origin: str) -> dict[str, PublicKey]:
    """The asymmetric keys of a JWKS, by kid; symmetric (`oct`) keys are never used."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise AuthError(f"{origin} is not a JWKS")
    usable = [
        k
        for k in data["keys"]
        if isinstance(k, dict) and k.get("kty") in ("EC", "RSA", "OKP") and k.get("kid")
    ]
    if not usable:
        return {}
    try:
        keys = KeySet.import_key_set({"keys": usable}).keys
    except (JoseError, ValueError, TypeError) as exc:
        raise AuthError(f"{origin}: unusable key: {type(exc).__name__}") from None
    return {str(k.kid): k for k in keys if isinstance(k, ECKey | RSAKey | OKPKey)}


class JwksCache:
    """The keys of the allowed JWKS URLs, fetched on demand and refreshed on an unknown kid."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        timeout: httpx.Timeout | None = None,
        deadline: float = JWKS_DEADLINE_SECONDS,
    ) -> None:
        self._transport = transport
        self._clock = clock
        self._timeout = timeout or httpx.Timeout(5.0, connect=2.0)
        self._deadline = deadline  # seconds for all of one fetch
        self._keys: dict[str, dict[str, PublicKey]] = {}
        self._fetched: dict[str, float] = {}

    async def key(self, url: str, kid: str) -> PublicKey | None:
        now = self._clock()
        fetched = self._fetched.get(url)
        stale = fetched is None or now - fetched > JWKS_TTL_SECONDS
        unknown = kid not in self._keys.get(url, {})
        may_refresh = fetched is None or now - fetched >= JWKS_MIN_REFRESH_SECONDS
        if stale or (unknown and may_refresh):
            await self._fetch(url, now)
        return self._keys.get(url, {}).get(kid)

    async def _fetch(self, url: str, now: float) -> None:
        """Fetch the JWKS at `url`: streamed, read up to JWKS_MAX_BYTES, within the cache's
        deadline in all; AuthError when it cannot be."""
        self._fetched[url] = now
        deadline = Deadline.start(self._deadline)
        try:
            async with (
                deadline.enforced(),
                httpx.AsyncClient(
                    transport=self._transport, timeout=self._timeout, follow_redirects=False
                ) as client,
                client.stream("GET", url, headers=_JWKS_HEADERS) as response,
            ):
                if response.status_code != 200:
                    raise AuthError(f"JWKS {url} answered {response.status_code}")
                body = await read_capped(response, JWKS_MAX_BYTES)
            self._keys[url] = _public_keys(json.loads(body), url)
        except DeadlinePassed:
            raise AuthError(f"JWKS {url} was not read within {deadline}") from None
        except BodyTooLarge:
            raise AuthError(f"JWKS {url} is larger than {JWKS_MAX_BYTES} bytes") from None
        except (httpx.HTTPError, BodyUndecodable, ValueError, RecursionError) as exc:
            raise AuthError(f"JWKS {url} could not be fetched: {type(exc).__name__}") from None


class TokenVerifier:
    """Verifies `Authorization: Bearer <JWT>` headers against the configured issuers."""

    def __init__(
        self,
        config: ServiceConfig,
        replay: ReplayCache,
        jwks: JwksCache | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._issuers = {i.iss: i for i in config.issuers}
        self._leeway = config.leeway_seconds
        self._replay = replay
        self._jwks = jwks or JwksCache()
        self._now = now
        self._files: dict[str, dict[str, PublicKey]] = {}
        for issuer in config.issuers:
            if issuer.jwks_file is not None:
                self._files[issuer.iss] = _load_file(issuer.jwks_file)

    async def verify(self, authorization: str | None, endpoint_url: str) -> Caller:
        """The caller; AuthError when the token is refused, ReplayUnavailable (the replay
        cache's) when it cannot be checked."""
        token = _bearer(authorization)
        try:
            compact = jws.extract_compact(token.encode("ascii"))
            header = compact.headers()
            unverified = json.loads(compact.payload)
        except (JoseError, ValueError, UnicodeError, RecursionError) as exc:
            # RecursionError: a payload nested deeper than the JSON parser goes, unverified
            raise AuthError(f"not a JWS: {type(exc).__name__}") from None
        alg = header.get("alg")
        if alg not in ASYMMETRIC_ALGORITHMS:
            raise AuthError(f"algorithm {alg!r} is not allowed")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.upper() != "JWT":  # REQUIRED by CDS Hooks 2.0
            raise AuthError("typ is not JWT")
        if not isinstance(unverified, dict) or not isinstance(unverified.get("iss"), str):
            raise AuthError("no iss claim")
        issuer = self._issuers.get(unverified["iss"])
        if issuer is None:
            raise AuthError("unknown issuer")
        if alg not in issuer.algorithms:
            raise AuthError(f"algorithm {alg} is not allowed for this issuer")
        key = await self._key(issuer, header)
        try:
            claims = jwt.decode(token, key, algorithms=[alg]).claims
        except (JoseError, ValueError) as exc:
            raise AuthError(f"signature: {type(exc).__name__}") from None
        caller, expires_at = self._check_claims(issuer, claims, endpoint_url)
        if not await self._replay.claim(issuer.iss, caller.jti, expires_at):
            raise AuthError("jti was used before")
        return caller

    async def _key(self, issuer: IssuerConfig, header: dict[str, Any]) -> PublicKey:
        """The issuer's key the header's `kid` names: pinned keys are authoritative, and a
        `jku` is fetched only for an issuer without them."""
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("no kid in the header")
        jku = header.get("jku")
        if jku is not None and (not isinstance(jku, str) or not jku):
            raise AuthError("jku is not a URL")
        if jku is not None and issuer.jwks_urls and jku not in issuer.jwks_urls:
            raise AuthError(f"jku {_quoted(jku)} is not on issuer {issuer.iss!r} allowlist")
        pinned = self._files.get(issuer.iss)
        if pinned is not None:
            key = pinned.get(kid)
            if key is None:
                who = f"issuer {issuer.iss!r}"
                raise AuthError(f"kid {_quoted(kid)} is not among {who} pinned keys")
            return key
        for url in (jku,) if jku is not None else issuer.jwks_urls:
            key = await self._jwks.key(url, kid)
            if key is not None:
                return key
        where = "its jku" if jku is not None else "its jwks_urls"
        raise AuthError(f"kid {_quoted(kid)} is in none of issuer {issuer.iss!r} keys ({where})")

    def _check_claims(
        self, issuer: IssuerConfig, claims: dict[str, Any], url: str
    ) -> tuple[Caller, float]:
        """The caller, and until when its jti must be remembered."""
        now = int(self._now())
        audiences = issuer.audiences or (url, url.rstrip("/"))
        registry = JWTClaimsRegistry(
            now=now,
            leeway=self._leeway,
            iss={"essential": True, "value": issuer.iss},
            aud={"essential": True, "values": list(audiences)},
            exp={"essential": True},
            iat={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise AuthError(f"claims: {type(exc).__name__}") from None
        exp, jti = claims["exp"], claims["jti"]
        if exp > now + MAX_LIFETIME_SECONDS + self._leeway:
            raise AuthError("exp is too far in the future")
        if not isinstance(jti, str):
            raise AuthError("jti is not a string")
        if not jti.isascii() and _lone_surrogate(jti):
            raise AuthError("jti holds a lone surrogate: it cannot be stored to refuse a replay")
        sub = claims.get("sub")
        caller = Caller(issuer.iss, sub if isinstance(sub, str) else None, jti)
        return caller, float(exp + self._leeway)


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("no Authorization header")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 16_384:
        raise AuthError("not a bearer token")
    return token


def _quoted(value: str) -> str:
    """A header value for a refusal's reason: quoted, and cut short (the caller wrote it)."""
    return repr(value if len(value) <= 64 else value[:64] + "...")


def _load_file(path: Path) -> dict[str, PublicKey]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the JWKS: {exc}") from None
    try:
        keys = _public_keys(data, str(path))
    except AuthError as exc:
        raise ConfigError(str(exc)) from None
    if not keys:
        raise ConfigError(f"{path}: the JWKS has no asymmetric key with a kid")
    return keys


__all__ = ["AuthError", "Caller", "JwksCache", "TokenVerifier"]
