"""The README's authoring guide, walked as a new author walks it, through the `vigil` command
line only: new, edit, check, lint, test, explain, docs, release, serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.fhir_adapters.cds_hooks.support import free_port, stop, wait_until_serving
from tests.prefetch_search import matches

ROOT = Path(__file__).parents[2]

# The edits the guide makes: a second level, a second threshold, a rule reading it, and the
# band of the first rule closed below it, as `vigil lint` asks.
SECOND_LEVEL = "  - {id: same-day, title: Same-day assessment, indicator: critical}\n"
SECOND_PARAMETER = "  very_high_potassium: 6.5 mmol/L\n"
SECOND_RULE = """
  - id: very-high-potassium
    title: Very high potassium
    when: potassium >= very_high_potassium
    then:
      suggest: same-day
      summary: "Potassium {potassium} is very high: assess today"
      cite: guideline
"""
AT_THE_THRESHOLD = """\
scenario: A potassium of exactly 6.5 mmol/L needs assessing today
now: 2026-03-01T09:00:00Z
data:
  - observation: loinc#2823-3
    id: potassium
    value: 6.5 mmol/L
    at: -2 hours
expect:
  escalation: same-day
  fired exactly: [very-high-potassium]
"""
AT_THE_LOWER_THRESHOLD = (
    AT_THE_THRESHOLD.replace("exactly 6.5", "exactly 6.0")
    .replace("value: 6.5", "value: 6.0")
    .replace("needs assessing today", "is raised")
    .replace(
        "escalation: same-day\n  fired exactly: [very-high-potassium]",
        "escalation: recheck\n  fired exactly: [raised-potassium]",
    )
)


def vigil(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"the template no longer has {old!r}"
    path.write_text(text.replace(old, new, 1))


@contextmanager
def serving(folder: Path, tmp_path: Path) -> Iterator[str]:
    """`vigil serve --insecure-dev` on loopback with the ruleset folder the guide wrote."""
    config = tmp_path / "vigil.toml"
    config.write_text(f'database = "vigil.sqlite3"\nrulesets = ["{folder}"]\n')
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    argv = ["serve", "--insecure-dev", "--config", str(config), "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "vigil", *argv],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url + "/cds-services", process, tmp_path / "serve.log", timeout=90)
        yield url
    finally:
        stop(process, timeout=15)
        log.close()


def patient_view(service: dict[str, Any], resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A patient-view call as an EHR sends it: every prefetch key the service advertises,
    filled by searching the patient's resources."""
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    prefetch: dict[str, Any] = {}
    for key, template in service["prefetch"].items():
        if "?" not in template:
            prefetch[key] = patient
            continue
        found = [{"resource": r} for r in resources if matches(template, r)]
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": found}
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"patientId": patient["id"], "userId": "Practitioner/1"},
        "prefetch": prefetch,
    }


def test_a_new_author_writes_checks_tests_explains_documents_releases_and_serves(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "potassium-watch"
    created = vigil("new", "potassium-watch", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    ruleset = folder / "ruleset.yaml"

    # edit: a second, more urgent level and the rule that suggests it
    text = ruleset.read_text()
    propose_end = text.index("due: 3 days}\n") + len("due: 3 days}\n")
    ruleset.write_text(text[:propose_end] + SECOND_LEVEL + text[propose_end:] + SECOND_RULE)
    edit(
        ruleset,
        "  high_potassium: 6.0 mmol/L\n",
        "  high_potassium: 6.0 mmol/L\n" + SECOND_PARAMETER,
    )

    checked = vigil("check", folder, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    linted = vigil("lint", folder, cwd=tmp_path)
    assert linted.returncode == 0
    assert "[band-overlap very-high-potassium]" in linted.stdout
    # the guide's answer to it: close the lower band below the higher one
    edit(
        ruleset,
        "    when: potassium >= high_potassium\n",
        "    when: [potassium >= high_potassium, potassium < very_high_potassium]\n",
    )
    linted = vigil("lint", folder, cwd=tmp_path)
    assert "band-overlap" not in linted.stdout and "[no-reviewers" in linted.stdout

    tested = vigil("test", folder, cwd=tmp_path)
    assert tested.returncode == 1  # the new rule is checked by no scenario yet
    assert "no scenario expects very-high-potassium to fire" in tested.stdout
    (folder / "scenarios" / "at-the-threshold.yaml").write_text(AT_THE_THRESHOLD)
    (folder / "scenarios" / "at-the-lower-threshold.yaml").write_text(AT_THE_LOWER_THRESHOLD)
    tested = vigil("test", folder, cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout
    assert "potassium-watch: 4 of 4 scenarios passed" in tested.stdout
    assert "no scenario has potassium at" not in tested.stdout  # both boundaries sat on

    shown = vigil("test", folder, "--show-fhir", "at-the-threshold", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    bundle = tmp_path / "patient.json"
    bundle.write_text(shown.stdout)

    explained = vigil(
        "explain", bundle, "--ruleset", folder, "--as-of", "2026-03-01T09:00:00Z", cwd=tmp_path
    )
    assert explained.returncode == 0, explained.stderr
    assert "very-high-potassium (Very high potassium): suggested same-day" in explained.stdout
    assert "is not below 6.5 mmol/L" in explained.stdout  # raised-potassium's band, just missed

    docs = vigil("docs", folder, "-o", tmp_path / "review", cwd=tmp_path)
    assert docs.returncode == 0, docs.stderr
    page = (tmp_path / "review" / "index.html").read_text()
    assert "Very high potassium" in page and "not yet reviewed" in page.lower()

    release = vigil("check", folder, "--release", cwd=tmp_path)
    assert "status is draft" in release.stdout and "no reviewers" in release.stdout
    edit(ruleset, "version: 0.1.0 ", "version: 1.0.0 ")
    edit(ruleset, "status: draft ", "status: active ")
    edit(ruleset, "reviewers: []", "reviewers: [Dr A Reviewer]")
    release = vigil("check", folder, "--release", cwd=tmp_path)
    assert release.returncode == 0 and "warning" not in release.stdout, release.stdout

    # served: today's potassium of 6.5 mmol/L, as the EHR's prefetch sends it
    resources = [e["resource"] for e in json.loads(shown.stdout)["entry"]]
    two_hours_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
    for resource in resources:
        if resource["resourceType"] == "Observation":
            resource["effectiveDateTime"] = two_hours_ago
    with serving(folder, tmp_path) as url:
        [service] = httpx.get(url + "/cds-services").json()["services"]
        assert service["id"] == "potassium-watch"
        body = patient_view(service, resources)
        response = httpx.post(f"{url}/cds-services/potassium-watch", json=body, timeout=60)
    assert response.status_code == 200, response.text
    [card] = response.json()["cards"]
    assert card["indicator"] == "critical" and "is very high" in card["summary"]
