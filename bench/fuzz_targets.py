"""The three fuzz targets of bench/fuzz_atheris.py: each takes one input as bytes and returns
quietly when Vigil answers it as it promises, or raises (an AssertionError naming what broke,
or the exception that escaped) when it does not.

- `reader`: the bytes as FHIR JSON text (a Bundle, a resource, an array or NDJSON) through
  `fhir_adapters.evaluate_bundle` with the packaged calf-fasciculation ruleset: results, or a
  `FhirInputError` of one line.
- `ruleset`: the bytes as ruleset YAML through `engine.load_text`: a ruleset, or a
  `RulesetError` whose every problem is one line at a place in the file.
- `request`: the bytes as the body of `POST /cds-services/calf-fasciculation`, in-process
  (authentication off, the real engine, no FHIR server reachable): a 2xx, or a 4xx whose body is
  an OperationOutcome; never a 5xx.

Inputs of the classes issue 12 names as defects being fixed elsewhere are passed over (`skip`),
each with the defect's number, so a run finds what is not known yet.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "fhir-samples"
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
SERVICE_PATH = "/cds-services/calf-fasciculation"
MAX_SEED_BYTES = 64 * 1024

# Issue 12, defect 9 (a YAML alias bomb runs for minutes to gigabytes): being fixed in the
# loader; an input with more than two anchors is passed over.
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s]")
# Issue 12, defect 8 (a lone surrogate in the prefetch is a 500): being fixed in the service;
# a body that escapes one is passed over.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class Skip(Exception):
    """The input belongs to a known defect class: not run."""


def seeds(target: str, samples: Path = SAMPLES) -> list[bytes]:
    """Real inputs to start from: the bundled examples and the FHIR samples in `samples` (when
    present), the packaged ruleset, requests as an EHR sends them."""
    if target == "reader":
        files = [ROOT / "examples" / "calf-patients.json"]
        if samples.is_dir():
            files += sorted(p for p in samples.rglob("*.json") if p.is_file())
        return [b for b in (p.read_bytes() for p in files) if len(b) <= MAX_SEED_BYTES]
    if target == "ruleset":
        # the small one first: every part of the grammar in 2 KB, so a run stays fast
        return [
            (ROOT / "bench" / "fuzz_small_ruleset.yaml").read_bytes(),
            (ROOT / "rulesets" / "calf_fasciculation" / "ruleset.yaml").read_bytes(),
        ]
    if target == "request":
        from bench.cds_hooks_payloads import hook_request, prefetch_bundle

        bodies = [hook_request(prefetch_bundle(size, patient=n)) for n, size in ((1, 3), (2, 8))]
        bodies.append({**bodies[0], "prefetch": {"observations": None, "conditions": None}})
        return [json.dumps(b).encode() for b in bodies]
    raise ValueError(f"unknown target {target!r}")


def check_reader() -> Callable[[bytes], None]:
    import engine
    import fhir_adapters

    ruleset = engine.load_ruleset("calf-fasciculation")

    def check(data: bytes) -> None:
        text = data.decode("utf-8", errors="replace")
        try:
            results = fhir_adapters.evaluate_bundle(text, ruleset, as_of=AS_OF)
        except fhir_adapters.FhirInputError as error:
            assert str(error) and "\n" not in str(error), f"not one line: {error!r}"
            return
        json.dumps([r.to_dict() for r in results])  # every result can be written out

    return check


def check_ruleset() -> Callable[[bytes], None]:
    import engine

    def check(data: bytes) -> None:
        text = data.decode("utf-8", errors="replace")
        if len(_ANCHOR.findall(text)) > 2:
            raise Skip("defect 9: YAML aliases")
        try:
            engine.load_text(text, "fuzz.yaml")
        except engine.RulesetError as error:
            assert error.problems, "a RulesetError without problems"
            for problem in error.problems:
                assert problem.file == "fuzz.yaml" and problem.line >= 0 and problem.column >= 0
                assert problem.message and "\n" not in problem.message, repr(problem.message)

    return check


def check_request() -> Iterator[Callable[[bytes], None]]:
    """A generator: yields the check while the in-process service is up."""
    import asyncio

    import httpx

    import engine
    from fhir_adapters.cds_hooks.app import create_app
    from fhir_adapters.cds_hooks.config import ServiceConfig

    with tempfile.TemporaryDirectory(prefix="vigil-fuzz-") as folder:
        config = ServiceConfig(database=Path(folder) / "vigil.sqlite3", insecure_dev=True)
        offline = httpx.MockTransport(lambda request: httpx.Response(503))
        app = create_app(
            config, rulesets=[engine.load_ruleset("calf-fasciculation")], fhir_transport=offline
        )
        loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app)  # an exception in the app is raised here
        client = httpx.AsyncClient(transport=transport, base_url="http://vigil.test")
        try:

            def check(data: bytes) -> None:
                if _SURROGATE_ESCAPE.search(data):
                    raise Skip("defect 8: lone surrogates")
                headers = {"content-type": "application/json"}
                call = client.post(SERVICE_PATH, content=data, headers=headers)
                response = loop.run_until_complete(call)
                assert response.status_code < 500, f"{response.status_code}: {response.text}"
                if response.status_code >= 300:
                    outcome: Any = response.json()
                    assert outcome.get("resourceType") == "OperationOutcome", response.text

            yield check
        finally:
            loop.run_until_complete(client.aclose())
            loop.close()


def checker(target: str) -> Iterator[Callable[[bytes], None]]:
    """The check for `target`, alive for as long as the generator is."""
    if target == "reader":
        yield check_reader()
    elif target == "ruleset":
        yield check_ruleset()
    elif target == "request":
        yield from check_request()
    else:
        raise ValueError(f"unknown target {target!r}")
