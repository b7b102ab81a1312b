"""Fixtures: the service and sekmet-fhir on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.model import Ruleset
from fhir_adapters.cds_hooks.app import create_app
from fhir_adapters.cds_hooks.config import IssuerConfig, ServiceConfig
from fhir_adapters.cds_hooks.storage import ReplayCache, SqliteStore

from .support import (
    EC,
    ISS,
    PATIENTS,
    RSA,
    LiveServer,
    ServerFactory,
    fake_evaluate,
    free_port,
    ruleset,
    run_in_thread,
    stop,
)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start the service on loopback: `serve(insecure_dev=False, cors_origins=(), ...)`; its
    token ids are claimed in its store unless a `replay` cache is given."""
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(
        json.dumps({"keys": [EC.as_dict(private=False), RSA.as_dict(private=False)]})
    )
    stack: list[Iterator[str]] = []
    stores: list[SqliteStore] = []

    def start(
        evaluate: Any = fake_evaluate,
        rulesets: Sequence[Ruleset] | None = None,
        replay: ReplayCache | None = None,
        **options: Any,
    ) -> LiveServer:
        config = ServiceConfig(
            database=tmp_path / "vigil.sqlite3",
            issuers=(IssuerConfig(iss=ISS, jwks_file=jwks_file),),
            **options,
        )
        store = SqliteStore(config.database)
        stores.append(store)
        app = create_app(
            config,
            rulesets=rulesets
            if rulesets is not None
            else [ruleset(), ruleset("retired-one", "retired")],
            evaluate=evaluate,
            store=store,
            replay=replay,
        )
        gen = run_in_thread(app)
        stack.append(gen)
        return LiveServer(next(gen), store, config)

    yield start
    for gen in stack:
        for _ in gen:
            pass
    for store in stores:
        store.close()


@pytest.fixture(scope="session")
def sekmet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """sekmet-fhir on loopback in a temporary folder, loaded with PATIENTS; yields its FHIR base."""
    folder = tmp_path_factory.mktemp("sekmet")
    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    (folder / "settings.yaml").write_text(
        f"base_url: {base}\nhost: 127.0.0.1\nport: {port}\n"
        "simulator: {enabled: false}\nlog_inbound: false\n"
    )
    script = Path(sys.executable).with_name("sekmet")
    log = (folder / "sekmet.log").open("wb")
    process = subprocess.Popen(
        [
            str(script),
            "serve",
            "--config",
            "settings.yaml",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/metadata", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sekmet-fhir did not start; see {folder / 'sekmet.log'}")
            time.sleep(0.2)
        entries = [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for p, resources in PATIENTS.items()
            for r in [{"resourceType": "Patient", "id": p}, *resources]
        ]
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        response = httpx.post(base, json=bundle, timeout=30)
        assert response.status_code == 200, response.text[:500]
        yield base
    finally:
        stop(process, timeout=10)
        log.close()
