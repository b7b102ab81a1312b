"""The hyperkalaemia service gives the CLI's answer: for each scenario of the ruleset and a slice
of the benchmark population, the card's indicator, its reasons and its proposals are what
`vigil evaluate --format json` gives for the same resources, whether the EHR prefetches them
(each template answered as a FHIR server answers it, `ehr.answer`) or the service reads them
from fhirServer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from engine import load_ruleset
from engine.model import Ruleset
from fhir_adapters.cds_hooks.evaluation import evaluate_with_library
from fhir_adapters.cds_hooks.prefetch import prefetch_templates

from .charts import ROOT, RULESET_FOLDER, Chart, charts
from .ehr import answer, fhir_app, prefetch
from .support import LiveServer, ServerFactory, fhir_server, hook_request, run_in_thread

SERVICE = "/cds-services/hyperkalaemia"
POPULATION = 20
RULESET = load_ruleset(RULESET_FOLDER)
Answer = dict[str, Any] | None  # what a patient's card says; None: no card


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Chart], dict[str, Answer]]:
    """The charts, dated relative to now, and what `vigil evaluate` answers for each patient."""
    now = datetime.now(UTC).replace(microsecond=0)
    all_charts = list(charts(now, POPULATION))
    folder = tmp_path_factory.mktemp("charts")
    for chart in all_charts:
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in chart.resources],
        }
        (folder / f"{chart.patient}.json").write_text(json.dumps(bundle))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "vigil",
            "evaluate",
            str(folder),
            "--ruleset",
            str(RULESET_FOLDER),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    printed = json.loads(done.stdout)
    results = {r["patient"].removeprefix("Patient/"): r for r in printed["results"]}
    return all_charts, {
        c.patient: expected(results.get(c.patient), printed["warnings"], RULESET)
        for c in all_charts
    }


def expected(
    result: dict[str, Any] | None, unplaced: list[dict[str, Any]], ruleset: Ruleset
) -> Answer:
    """The card the CLI's result for a patient implies: None when there is none. `unplaced`
    are the warnings printed beside the results; a chart's are those naming its resources."""
    if result is None or not result["suggestions"]:
        return None
    patient = result["patient"].removeprefix("Patient/")
    owned = [w for w in unplaced if _owner(w.get("source") or "") == patient]
    warnings = [*result["warnings"], *owned]
    first = ruleset.levels[0].id
    escalation = result["escalation"]
    indicator = (
        "info"
        if escalation == first
        else next(level.indicator for level in ruleset.levels if level.id == escalation)
    )
    proposals = [
        (p["label"], p["system"], p["code"], p["priority"], p.get("due"), p["reasons"])
        for p in (result.get("proposals") or [])
        # an order already placed is a line under "Already placed" on the card, not a button
        if escalation != first and not p.get("already")
    ]
    rules = sorted((s["rule"], s["shown"]) for s in result["suggestions"])
    return {
        "indicator": indicator,
        "proposals": proposals,
        "rules": rules,
        "warnings": len(warnings),
    }


def _owner(source: str) -> str:
    """The chart a resource reference belongs to: `Observation/s3-o1` is chart `s3`'s."""
    return source.partition("/")[2].split("-")[0]


def answered(response: httpx.Response) -> Answer:
    """What the service's one card (or none) says, in the shape of `expected`."""
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    if not cards:
        return None
    [card] = cards
    proposals = []
    for suggestion in card.get("suggestions") or []:
        order = suggestion["actions"][0]["resource"]
        [coding] = order["code"]["coding"]
        proposals.append(
            (
                order["code"]["text"],
                coding["system"],
                coding["code"],
                order["priority"],
                order.get("occurrencePeriod", {}).get("end"),
                [r["reference"] for r in order.get("reasonReference", [])],
            )
        )
    why, _, noted = card["detail"].partition("### Also noted")
    rules = sorted(
        [(rule, True) for rule in re.findall(r"; rule `([^`]+)`\)", why)]
        + [(rule, False) for rule in re.findall(r"; rule `([^`]+)`\)", noted)]
    )
    if not any(shown for _, shown in rules):  # only information rules: the CLI shows them
        rules = [(rule, False) for rule, _ in rules]
    _, _, left_out = card["detail"].partition("### Data not used, or in doubt")
    lines = [line for line in left_out.split("###")[0].splitlines() if line.startswith("- ")]
    more = re.fullmatch(r"- and (\d+) more", lines[-1]) if lines else None
    warnings = len(lines) - 1 + int(more.group(1)) if more else len(lines)
    return {
        "indicator": card["indicator"],
        "proposals": proposals,
        "rules": rules,
        "warnings": warnings,
    }


def differences(cli_answer: Answer, service_answer: Answer) -> list[str]:
    """Where the two answers differ; due times may differ by the seconds between the calls."""
    if cli_answer is None or service_answer is None:
        return [] if cli_answer == service_answer else [f"{cli_answer} != {service_answer}"]
    out = [
        f"{key}: cli {cli_answer[key]} != service {service_answer[key]}"
        for key in ("indicator", "rules", "warnings")
        if cli_answer[key] != service_answer[key]
    ]
    mine, theirs = cli_answer["proposals"], service_answer["proposals"]
    if [p[:4] + p[5:] for p in mine] != [p[:4] + p[5:] for p in theirs] or not all(
        _near(a[4], b[4]) for a, b in zip(mine, theirs, strict=True)
    ):
        out.append(f"proposals: cli {mine} != service {theirs}")
    return out


def _near(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a == b
    gap = datetime.fromisoformat(a) - datetime.fromisoformat(b)
    return abs(gap) < timedelta(minutes=10)


def post(server: LiveServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.url + SERVICE, json=body, headers=server.auth(SERVICE), timeout=60)


def test_prefetched_data_gives_the_clis_card_for_every_chart(
    serve: ServerFactory, cli: tuple[list[Chart], dict[str, Answer]]
) -> None:
    all_charts, answers = cli
    server = serve(evaluate=evaluate_with_library, rulesets=[RULESET])
    templates = prefetch_templates(RULESET, server.config.fhir.page_size)
    found: list[str] = []
    for n, chart in enumerate(all_charts):
        given: dict[str, Any] = prefetch(templates, chart.patient, chart.resources)
        if n % 2:  # an EHR may say "no data" with null rather than an empty search
            given = {
                key: value if value.get("entry", True) else None for key, value in given.items()
            }
        body = hook_request(chart.patient, prefetch=given)
        found += [
            f"{chart.name}: {d}"
            for d in differences(answers[chart.patient], answered(post(server, body)))
        ]
    assert not found, "\n".join(found)
    assert any(a is not None and a["proposals"] for a in answers.values())
    assert any(a is not None and a["warnings"] for a in answers.values())


@pytest.fixture
def ehr_server(cli: tuple[list[Chart], dict[str, Answer]]) -> Iterator[tuple[str, list[str]]]:
    """A FHIR server on loopback holding every chart; yields its base URL and the queries it
    will have answered."""
    everything = [r for chart in cli[0] for r in chart.resources]
    app = fhir_app(everything)
    served = run_in_thread(app)
    yield next(served) + "/fhir", app.state.queries
    for _ in served:
        pass


def test_data_read_from_fhir_server_gives_the_clis_card_for_every_chart(
    serve: ServerFactory,
    cli: tuple[list[Chart], dict[str, Answer]],
    ehr_server: tuple[str, list[str]],
) -> None:
    all_charts, answers = cli
    base, queries = ehr_server
    server = serve(evaluate=evaluate_with_library, rulesets=[RULESET])
    templates = prefetch_templates(RULESET, server.config.fhir.page_size)
    found: list[str] = []
    for n, chart in enumerate(all_charts):
        # every other chart: its Observations prefetched, the rest read from fhirServer
        given = prefetch(templates, chart.patient, chart.resources)
        mixed = {k: v for k, v in given.items() if templates[k].startswith("Observation?")}
        body = hook_request(
            chart.patient, **fhir_server(base), **({"prefetch": mixed} if n % 2 else {})
        )
        found += [
            f"{chart.name}: {d}"
            for d in differences(answers[chart.patient], answered(post(server, body)))
        ]
    assert not found, "\n".join(found)
    read = [k for k, t in templates.items() if not t.startswith("Observation?")]
    assert len(queries) == len(all_charts) * len(templates) - len(all_charts) // 2 * (
        len(templates) - len(read)
    )
    assert "Patient/s0" in queries


def test_discovery_lists_the_hyperkalaemia_service_asking_for_each_kind_of_data(
    serve: ServerFactory,
) -> None:
    server = serve(rulesets=[RULESET])
    [service] = httpx.get(server.url + "/cds-services", timeout=20).json()["services"]
    assert (service["id"], service["hook"]) == ("hyperkalaemia", "patient-view")
    prefetch = service["prefetch"]
    assert set(prefetch) == {
        "patient",
        "observations",
        "potassium",
        "conditions",
        "procedures",
        "service-requests",
        "medication-requests",
        "medication-statements",
    }
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    observations = prefetch["observations"]
    # a BP panel's systolic component and an ECG report's coded answer are found by code
    assert "&combo-code=" in observations and "http://loinc.org|8480-6" in observations
    assert "http://loinc.org|8601-7" in observations
    assert prefetch["potassium"].endswith("&_include=Observation:specimen")
    assert "http://snomed.info/sct|302497006" in prefetch["procedures"]
    assert "http://loinc.org|24362-6" in prefetch["service-requests"]  # orders already placed
    assert prefetch["medication-requests"].endswith(
        "&_include=MedicationRequest:medication&_count=100"
    )
    for template in prefetch.values():  # each one a FHIR server can answer as it is
        answer(
            template.replace("{{context.patientId}}", "p1"),
            [{"resourceType": "Patient", "id": "p1"}],
        )


def test_a_blood_pressure_panels_systolic_component_is_fetched_and_read(
    serve: ServerFactory,
) -> None:
    # the example without its heart rate: the panel's systolic 84 alone is "unwell"
    [chart] = [c for c in charts(datetime.now(UTC), 0) if c.name.startswith("issue-example")]
    resources = [r for r in chart.resources if not r["id"].endswith("-o3")]
    [panel] = [r for r in resources if r.get("component")]
    server = serve(evaluate=evaluate_with_library, rulesets=[RULESET])
    templates = prefetch_templates(RULESET, server.config.fhir.page_size)
    body = hook_request(chart.patient, prefetch=prefetch(templates, chart.patient, resources))
    card = answered(post(server, body))
    assert card is not None and ("hyperkalaemia-unwell", True) in card["rules"]
    assert any(f"Observation/{panel['id']}" in p[5] for p in card["proposals"])
