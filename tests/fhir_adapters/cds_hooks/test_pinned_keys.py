"""Pinned keys (an issuer's jwks_file) verify its tokens whatever their `jku` says, as the CDS
Hooks sandbox signs them: ES384, a `kid`, and a `jku` on the allowlist that Vigil never fetches."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from fhir_adapters.cds_hooks.app import create_app
from fhir_adapters.cds_hooks.config import IssuerConfig, ServiceConfig
from fhir_adapters.cds_hooks.security import AuthError, JwksCache, TokenVerifier
from fhir_adapters.cds_hooks.storage import SqliteStore, StoreReplayCache

from .support import EC, ISS, fake_evaluate, free_port, hook_request, prefetch_for, ruleset
from .support import run_in_thread as serve_in_thread

PATH = "/cds-services/calf-fasciculation"
UNPINNED = ECKey.generate_key("P-384", parameters={"kid": "ec-9"})


def unreachable() -> str:
    """A JWKS URL on the allowlist where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"


def sandbox_token(audience: str, jku: str | None, key: ECKey = EC) -> str:
    """A token signed as the CDS Hooks sandbox signs: ES384 with `kid` and `jku` headers."""
    now = int(time.time())
    claims = {"iss": ISS, "aud": audience, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    header: dict[str, Any] = {"alg": "ES384", "typ": "JWT", "kid": key.kid}
    if jku is not None:
        header["jku"] = jku
    return jwt.encode(header, claims, key, algorithms=["ES384"])


def pinned_config(tmp_path: Path, jwks_urls: tuple[str, ...]) -> ServiceConfig:
    jwks_file = tmp_path / "sandbox-jwks.json"
    jwks_file.write_text(json.dumps({"keys": [EC.as_dict(private=False)]}))
    issuer = IssuerConfig(iss=ISS, jwks_file=jwks_file, jwks_urls=jwks_urls)
    return ServiceConfig(database=tmp_path / "vigil.sqlite3", issuers=(issuer,))


class NoFetching(httpx.AsyncBaseTransport):
    """A JWKS transport that fails the test if anything is fetched."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"fetched {request.url}")


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[StoreReplayCache]:
    store = SqliteStore(tmp_path / "replay.sqlite3")
    yield StoreReplayCache(store)
    store.close()


def refusal(config: ServiceConfig, replay: StoreReplayCache, token: str) -> str:
    verifier = TokenVerifier(config, replay, jwks=JwksCache(transport=NoFetching()))
    with pytest.raises(AuthError) as refused:
        asyncio.run(verifier.verify(f"Bearer {token}", "http://vigil" + PATH))
    return str(refused.value)


def test_a_sandbox_token_verifies_against_pinned_keys_and_gets_cards(tmp_path: Path) -> None:
    jku = unreachable()
    config = pinned_config(tmp_path, (jku,))
    store = SqliteStore(config.database)
    app = create_app(config, rulesets=[ruleset()], evaluate=fake_evaluate, store=store)
    server = serve_in_thread(app)
    try:
        url = next(server)
        body = hook_request("pk", prefetch=prefetch_for("pk"))

        def post(token: str) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"}
            return httpx.post(url + PATH, json=body, headers=headers, timeout=30)

        accepted = post(sandbox_token(url + PATH, jku))
        assert accepted.status_code == 200, accepted.text
        [card] = accepted.json()["cards"]
        assert card["indicator"] == "critical"
        refused = post(sandbox_token(url + PATH, jku, key=UNPINNED))
        assert refused.status_code == 401
        assert refused.json()["issue"][0]["diagnostics"] == "unauthorized"
    finally:
        for _ in server:
            pass
        store.close()


def test_a_kid_that_is_not_pinned_is_refused_with_its_reason(
    tmp_path: Path, replay: StoreReplayCache
) -> None:
    config = pinned_config(tmp_path, (unreachable(),))
    jku = config.issuers[0].jwks_urls[0]
    reason = refusal(config, replay, sandbox_token("http://vigil" + PATH, jku, key=UNPINNED))
    assert reason == f"kid 'ec-9' is not among issuer {ISS!r} pinned keys"


def test_a_jku_off_the_allowlist_is_refused_even_with_pinned_keys(
    tmp_path: Path, replay: StoreReplayCache
) -> None:
    config = pinned_config(tmp_path, (unreachable(),))
    elsewhere = "https://attacker.example/jwks.json"
    reason = refusal(config, replay, sandbox_token("http://vigil" + PATH, elsewhere))
    assert reason == f"jku 'https://attacker.example/jwks.json' is not on issuer {ISS!r} allowlist"


@pytest.mark.parametrize("jku", [None, "https://sandbox.example/jwks.json"])
def test_pinned_keys_alone_verify_whatever_the_jku_without_fetching_it(
    tmp_path: Path, replay: StoreReplayCache, jku: str | None
) -> None:
    config = pinned_config(tmp_path, ())
    verifier = TokenVerifier(config, replay, jwks=JwksCache(transport=NoFetching()))
    token = sandbox_token("http://vigil" + PATH, jku)
    caller = asyncio.run(verifier.verify(f"Bearer {token}", "http://vigil" + PATH))
    assert caller.issuer == ISS
