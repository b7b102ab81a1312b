"""A worker is warmed up along the path a call takes, and its long-lived heap is frozen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import engine
from fhir_adapters import evaluate_bundle
from fhir_adapters.cards import build_cards
from fhir_adapters.cds_hooks.warmup import PATIENT, THRESHOLDS, warm_up_bundle


def test_the_made_up_patient_reaches_every_concept_and_a_card() -> None:
    ruleset = engine.load_ruleset("calf-fasciculation")
    bundle = warm_up_bundle(ruleset)
    codes = {e["resource"]["code"]["coding"][0]["code"] for e in bundle["entry"]}
    assert codes == {concept.codes[0].code for concept in ruleset.concepts.values()}

    [result] = evaluate_bundle(bundle, ruleset)
    assert result.patient == PATIENT
    assert build_cards(result.evaluation, result.patient)  # the card path is warmed too


WORKER = """
import gc, json
from fhir_adapters.cds_hooks.app import app_from_environment
app_from_environment()
print(json.dumps({"frozen": gc.get_freeze_count(), "thresholds": gc.get_threshold()}))
"""


def test_the_worker_factory_freezes_the_heap_it_starts_with(tmp_path: Path) -> None:
    config = tmp_path / "vigil.toml"
    config.write_text(f'database = "{tmp_path / "vigil.sqlite3"}"\n')
    env = {**os.environ, "VIGIL_CDS_CONFIG": str(config), "VIGIL_CDS_INSECURE_DEV": "1"}
    run = subprocess.run(
        [sys.executable, "-c", WORKER], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    state = json.loads(run.stdout.splitlines()[-1])
    assert state["frozen"] > 50_000  # modules, models and the ruleset
    assert tuple(state["thresholds"]) == THRESHOLDS
