"""`vigil evaluate` uses a draft, retired or out-of-period ruleset only when it is named, and
then says so on stderr in one line; its default ruleset is used only when it is in force.
`vigil test` finds a packaged draft's folder by its id."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import registry
from fhir_adapters.cds_hooks import workers
from tests.vigil.test_evaluate_command import EXAMPLES, vigil
from vigil.cli import main
from vigil.commands import evaluate, testing

DRAFT = """\
id: calf-x
version: 0.1.0
status: draft
title: A draft
concepts:
  potassium: {kind: quantity, codes: ['loinc#2823-3'], unit: mmol/L}
levels: [{id: none, title: No action, indicator: info}, {id: act, title: Act, indicator: warning}]
rules:
  - id: high
    when: potassium > 6 mmol/L
    then: {suggest: act, summary: High}
"""


def test_a_named_draft_is_used_with_a_one_line_warning(tmp_path: Path) -> None:
    (tmp_path / "ruleset.yaml").write_text(DRAFT)

    run = vigil("evaluate", EXAMPLES, "--as-of", "2026-03-01", "--ruleset", tmp_path)

    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines() == [
        "vigil evaluate: warning: calf-x 0.1.0 is a draft: used because it was named"
    ]


def test_the_default_ruleset_is_refused_when_not_in_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ruleset.yaml").write_text(DRAFT.replace("status: draft", "status: retired"))
    monkeypatch.setattr(evaluate, "DEFAULT_RULESET", str(tmp_path))

    with pytest.raises(evaluate.UsageError, match=r"calf-x 0\.1\.0 is retired; name a ruleset"):
        evaluate.chosen_ruleset(None, datetime(2026, 3, 1, tzinfo=UTC))
    assert evaluate.chosen_ruleset(str(tmp_path), None).status == "retired"


def test_vigil_test_finds_a_packaged_drafts_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "calf_x").mkdir()
    (tmp_path / "calf_x" / "ruleset.yaml").write_text(DRAFT)
    monkeypatch.setattr(registry, "_packaged_root", lambda: tmp_path)

    assert testing.ruleset_folder("calf-x") == tmp_path / "calf_x"


def test_vigil_serve_says_which_configured_rulesets_it_does_not_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ruleset.yaml").write_text(DRAFT)
    config = tmp_path / "vigil.toml"
    config.write_text(f'database = "{tmp_path / "vigil.sqlite3"}"\nrulesets = ["{tmp_path}"]\n')
    monkeypatch.setattr(workers, "serve", lambda *_: 0)  # no server: only what it says first

    code = main(["serve", "--config", str(config), "--insecure-dev"])

    assert code == 0
    assert capsys.readouterr().err.splitlines()[0] == (
        "vigil serve: warning: calf-x 0.1.0 is a draft: not served now"
    )
