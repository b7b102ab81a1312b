"""JWT bearer verification: each way a token can be wrong is refused; ES384 and RS384 pass."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.jwk import ECKey, RSAKey

from fhir_adapters.cds_hooks.config import ConfigError, IssuerConfig, ServiceConfig
from fhir_adapters.cds_hooks.security import (
    JWKS_MAX_BYTES,
    AuthError,
    Caller,
    JwksCache,
    TokenVerifier,
)
from fhir_adapters.cds_hooks.storage import SqliteStore, StoreReplayCache

ISS = "https://ehr.example.org"
URL = "http://127.0.0.1:8080/cds-services/calf-fasciculation"
JKU = "https://ehr.example.org/jwks.json"

EC = ECKey.generate_key("P-384", parameters={"kid": "ec-1"})
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
OTHER = ECKey.generate_key("P-384", parameters={"kid": "ec-1"})
ROTATED = ECKey.generate_key("P-384", parameters={"kid": "ec-2"})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    out: dict[str, Any] = {
        "iss": ISS,
        "sub": "ehr-client",
        "aud": URL,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    out.update(overrides)
    return {k: v for k, v in out.items() if v is not None}


def sign(key: ECKey | RSAKey, alg: str, header: dict[str, Any] | None = None, **kw: Any) -> str:
    head = {"alg": alg, "typ": "JWT", "kid": key.kid, **(header or {})}
    return jwt.encode(head, claims(**kw), key, algorithms=[alg])


def unsigned(header: dict[str, Any], body: dict[str, Any], signature: bytes = b"") -> str:
    head = b64(json.dumps(header).encode())
    payload = b64(json.dumps(body).encode())
    return f"{head}.{payload}.{b64(signature)}"


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[StoreReplayCache]:
    store = SqliteStore(tmp_path / "vigil.sqlite3")
    yield StoreReplayCache(store)
    store.close()


def jwks(*keys: ECKey | RSAKey) -> dict[str, Any]:
    return {"keys": [k.as_dict(private=False) for k in keys]}


@pytest.fixture
def verify(tmp_path: Path, replay: StoreReplayCache) -> Callable[..., Caller]:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks(EC, RSA)))
    config = ServiceConfig(
        issuers=(IssuerConfig(iss=ISS, jwks_file=jwks_file),),
        database=tmp_path / "vigil.sqlite3",
    )
    verifier = TokenVerifier(config, replay)

    def run(header: str | None, url: str = URL) -> Caller:
        return asyncio.run(verifier.verify(header, url))

    return run


@pytest.mark.parametrize("alg, key", [("ES384", EC), ("RS384", RSA)])
def test_valid_tokens_are_accepted(verify: Callable[..., Caller], alg: str, key: Any) -> None:
    caller = verify(f"Bearer {sign(key, alg)}")
    assert caller.issuer == ISS and caller.subject == "ehr-client"


def test_aud_as_a_list_containing_the_endpoint_is_accepted(verify: Callable[..., Caller]) -> None:
    verify(f"Bearer {sign(EC, 'ES384', aud=['https://other', URL])}")


REFUSED: dict[str, Callable[[], str | None]] = {
    "no token": lambda: None,
    "not bearer": lambda: f"Basic {sign(EC, 'ES384')}",
    "garbage": lambda: "Bearer not.a.jwt",
    "empty bearer": lambda: "Bearer ",
    "unknown issuer": lambda: f"Bearer {sign(EC, 'ES384', iss='https://evil.example')}",
    "wrong key": lambda: f"Bearer {sign(OTHER, 'ES384')}",
    "unknown kid": lambda: f"Bearer {sign(ROTATED, 'ES384')}",
    "no kid": lambda: "Bearer " + jwt.encode({"alg": "ES384"}, claims(), EC, algorithms=["ES384"]),
    "wrong aud": lambda: f"Bearer {sign(EC, 'ES384', aud='https://elsewhere/cds-services/x')}",
    "no aud": lambda: f"Bearer {sign(EC, 'ES384', aud=None)}",
    "expired": lambda: f"Bearer {sign(EC, 'ES384', exp=int(time.time()) - 120)}",
    "issued in the future": lambda: f"Bearer {sign(EC, 'ES384', iat=int(time.time()) + 600)}",
    "no exp": lambda: f"Bearer {sign(EC, 'ES384', exp=None)}",
    "no jti": lambda: f"Bearer {sign(EC, 'ES384', jti=None)}",
    "lifetime too long": lambda: f"Bearer {sign(EC, 'ES384', exp=int(time.time()) + 86400)}",
    "alg none": lambda: "Bearer " + unsigned({"alg": "none", "kid": "ec-1"}, claims()),
    "typ not JWT": lambda: f"Bearer {sign(EC, 'ES384', header={'typ': 'at+jwt'})}",
    "no typ": lambda: (
        "Bearer "
        + jws.serialize_compact(
            {"alg": "ES384", "kid": "ec-1"}, json.dumps(claims()), EC, algorithms=["ES384"]
        )
    ),
    "HS256 signed with the public key": lambda: "Bearer " + hs256_with_public_key(),
    "ES256 not allowed for the issuer": lambda: (
        "Bearer " + sign(ECKey.generate_key("P-256", parameters={"kid": "ec-1"}), "ES256")
    ),
}


def hs256_with_public_key() -> str:
    secret = RSA.as_pem(private=False)
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    head = b64(json.dumps(header).encode())
    payload = b64(json.dumps(claims()).encode())
    mac = hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return f"{head}.{payload}.{b64(mac)}"


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused(verify: Callable[..., Caller], case: str) -> None:
    with pytest.raises(AuthError):
        verify(REFUSED[case]())


def test_replayed_jti_is_refused(verify: Callable[..., Caller]) -> None:
    token = f"Bearer {sign(EC, 'ES384')}"
    verify(token)
    with pytest.raises(AuthError, match="used before"):
        verify(token)


def test_replay_cache_is_shared_through_the_database(tmp_path: Path) -> None:
    """Two processes on one file (uvicorn's own workers where the supervisor cannot keep the
    claims, or the service before and after a restart) see each other's jti."""
    first, second = SqliteStore(tmp_path / "db"), SqliteStore(tmp_path / "db")
    try:
        assert first.claim(ISS, "j1", time.time() + 60)
        assert not second.claim(ISS, "j1", time.time() + 60)
        assert second.claim(ISS, "j2", time.time() + 60)
    finally:
        first.close()
        second.close()


def test_configured_audience_replaces_the_endpoint_url(
    tmp_path: Path, replay: StoreReplayCache
) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks(EC)))
    issuer = IssuerConfig(iss=ISS, jwks_file=jwks_file, audience=("https://vigil.example/cds",))
    verifier = TokenVerifier(ServiceConfig(issuers=(issuer,)), replay)
    good = f"Bearer {sign(EC, 'ES384', aud='https://vigil.example/cds')}"
    asyncio.run(verifier.verify(good, URL))
    with pytest.raises(AuthError):
        asyncio.run(verifier.verify(f"Bearer {sign(EC, 'ES384')}", URL))


class JwksServer:
    """A mock transport serving a JWKS that can rotate; counts fetches."""

    def __init__(self, *keys: ECKey | RSAKey) -> None:
        self.keys = list(keys)
        self.fetches = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JKU
        self.fetches += 1
        return httpx.Response(200, json=jwks(*self.keys))


def test_jku_keys_are_cached_and_refreshed_on_unknown_kid(replay: StoreReplayCache) -> None:
    server = JwksServer(EC)
    clock = [1000.0]
    cache = JwksCache(transport=httpx.MockTransport(server), clock=lambda: clock[0])
    issuer = IssuerConfig(iss=ISS, jwks_urls=(JKU,))
    verifier = TokenVerifier(ServiceConfig(issuers=(issuer,)), replay, jwks=cache)

    def call(key: ECKey) -> Caller:
        token = sign(key, "ES384", header={"jku": JKU})
        return asyncio.run(verifier.verify(f"Bearer {token}", URL))

    call(EC)
    call(EC)
    assert server.fetches == 1  # cached
    server.keys.append(ROTATED)
    clock[0] += JWKS_REFRESH_GAP
    call(ROTATED)  # unknown kid: fetched again
    assert server.fetches == 2
    with pytest.raises(AuthError):
        call(OTHER.__class__.generate_key("P-384", parameters={"kid": "ec-9"}))
    assert server.fetches == 2  # refreshes are rate-limited


JWKS_REFRESH_GAP = 31.0


class EndlessJwks(httpx.AsyncByteStream):
    """A JWKS body that goes on (up to a safety limit), counting the bytes it gave out."""

    def __init__(self) -> None:
        self.given = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"keys": ['
        while self.given < 64 * 1024 * 1024:
            self.given += 1024 * 1024
            yield b" " * (1024 * 1024)


def test_a_jwks_is_read_only_up_to_its_cap(replay: StoreReplayCache) -> None:
    body = EndlessJwks()
    cache = JwksCache(transport=httpx.MockTransport(lambda _: httpx.Response(200, stream=body)))
    issuer = IssuerConfig(iss=ISS, jwks_urls=(JKU,))
    verifier = TokenVerifier(ServiceConfig(issuers=(issuer,)), replay, jwks=cache)
    token = sign(EC, "ES384", header={"jku": JKU})
    with pytest.raises(AuthError, match=f"JWKS {JKU} is larger than {JWKS_MAX_BYTES} bytes"):
        asyncio.run(verifier.verify(f"Bearer {token}", URL))
    assert body.given <= JWKS_MAX_BYTES + 1024 * 1024


class TricklingJwks(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:  # a byte at a time, each well within a read timeout
            await asyncio.sleep(0.05)
            yield b" "


def test_a_jwks_trickling_in_is_given_up_at_its_deadline(replay: StoreReplayCache) -> None:
    trickle = httpx.MockTransport(lambda _: httpx.Response(200, stream=TricklingJwks()))
    cache = JwksCache(transport=trickle, deadline=0.5)
    issuer = IssuerConfig(iss=ISS, jwks_urls=(JKU,))
    verifier = TokenVerifier(ServiceConfig(issuers=(issuer,)), replay, jwks=cache)
    token = sign(EC, "ES384", header={"jku": JKU})
    with pytest.raises(AuthError, match=f"JWKS {JKU} was not read within 0.5 s"):
        asyncio.run(verifier.verify(f"Bearer {token}", URL))


def test_symmetric_keys_in_a_jwks_are_ignored(tmp_path: Path, replay: StoreReplayCache) -> None:
    jwks_file = tmp_path / "jwks.json"
    oct_key = {"kty": "oct", "kid": "rsa-1", "k": b64(RSA.as_pem(private=False))}
    jwks_file.write_text(json.dumps({"keys": [oct_key, EC.as_dict(private=False)]}))
    verifier = TokenVerifier(
        ServiceConfig(issuers=(IssuerConfig(iss=ISS, jwks_file=jwks_file),)), replay
    )
    with pytest.raises(AuthError):
        asyncio.run(verifier.verify("Bearer " + hs256_with_public_key(), URL))


def test_a_jwks_file_without_asymmetric_keys_is_a_config_error(tmp_path: Path) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]}))
    config = ServiceConfig(issuers=(IssuerConfig(iss=ISS, jwks_file=jwks_file),))
    with pytest.raises(ConfigError, match="no asymmetric key"):
        TokenVerifier(config, StoreReplayCache(SqliteStore(":memory:")))
