"""Refused calls must not grow a worker's memory (found by bench/soak.py: a worker that refused
tokens grew ~18 KB a refused call, 60 MiB in 20 minutes).

Python extends a raised exception's traceback each time it is raised again: one module-level
`Problem` raised for every refused token kept every refused call's frames, and the request they
hold, reachable for good. Each refusal now raises a new one (`Problem.because`)."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from pathlib import Path

import httpx
from joserfc.jwk import ECKey

from fhir_adapters.cds_hooks.app import create_app
from fhir_adapters.cds_hooks.config import IssuerConfig, ServiceConfig

from .support import EC, ISS, fake_evaluate, hook_request, prefetch_for, ruleset, token

STRANGER = ECKey.generate_key("P-384", parameters={"kid": EC.kid})  # not the issuer's key
PATH = "/cds-services/calf-fasciculation"


def test_refused_tokens_do_not_grow_memory(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [EC.as_dict(private=False)]}))
    config = ServiceConfig(
        database=tmp_path / "vigil.sqlite3",
        issuers=(IssuerConfig(iss=ISS, jwks_file=jwks),),
        public_url="http://vigil.test",
    )
    app = create_app(config, rulesets=[ruleset()], evaluate=fake_evaluate)
    body = json.dumps(hook_request("pk", prefetch=prefetch_for("pk"))).encode()

    async def refuse(client: httpx.AsyncClient, times: int) -> None:
        for _ in range(times):
            bad = token("http://vigil.test" + PATH, key=STRANGER)
            headers = {"authorization": f"Bearer {bad}", "content-type": "application/json"}
            response = await client.post(PATH, content=body, headers=headers)
            assert response.status_code == 401

    async def measure() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
            await refuse(client, 50)  # warm: imports, caches, the first allocations
            before = tracemalloc.get_traced_memory()[0]
            await refuse(client, 300)
            return tracemalloc.get_traced_memory()[0] - before

    tracemalloc.start()
    try:
        grown = asyncio.run(measure())
    finally:
        tracemalloc.stop()
    assert grown < 1024 * 1024, f"{grown / 1024:.0f} KiB more after 300 refused calls"
