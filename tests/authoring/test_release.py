"""What a release needs: each finding at the line of the key it concerns, and the previous
release read from git HEAD."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import pytest

import engine
from authoring import Finding
from authoring.release import bumps, previous_release, release_findings, version_key
from engine.loader import check_text

RELEASED = """\
id: tiny
version: 1.0.0
status: active
reviewers: [A. Reviewer]
title: Tiny
value-sets: [valuesets/potassium.json]
concepts:
  potassium: {kind: quantity, codes: ['valueset:https://example.org/vs/k'], unit: mmol/L}
levels:
  - {id: none, title: No action, indicator: info}
  - {id: act, title: Act, indicator: warning}
rules:
  - id: high
    when: potassium > 6 mmol/L
    then: {suggest: act, summary: High}
"""
VALUE_SET = {
    "resourceType": "ValueSet",
    "url": "https://example.org/vs/k",
    "status": "active",
    "compose": {"include": [{"system": "http://loinc.org", "concept": [{"code": "2823-3"}]}]},
}


def folder(where: Path, text: str = RELEASED) -> Path:
    (where / "valuesets").mkdir(parents=True, exist_ok=True)
    (where / "valuesets" / "potassium.json").write_text(json.dumps(VALUE_SET))
    path = where / "ruleset.yaml"
    path.write_text(text)
    return path


def findings(
    path: Path, previous: engine.Ruleset | None = None, today: date | None = None
) -> list[Finding]:
    ruleset = check_text(path.read_text(), str(path), source=path)
    return release_findings(ruleset, path, previous=previous, today=today or date(2026, 3, 1))


def test_a_reviewed_active_ruleset_needs_nothing(tmp_path: Path) -> None:
    assert findings(folder(tmp_path)) == []


def test_a_draft_without_reviewers_is_told_at_status_and_reviewers(tmp_path: Path) -> None:
    text = RELEASED.replace("status: active", "status: draft").replace("[A. Reviewer]", "[]")
    path = folder(tmp_path, text)

    found = findings(path)

    assert [str(f) for f in found] == [
        f"{path}:3:1: warning: status is draft: a release is active (status: active)",
        f"{path}:4:1: warning: no reviewers: a release names who reviewed it "
        "(reviewers: [name, ...])",
    ]
    assert [f.code for f in found] == ["release-status", "release-reviewers"]


def test_reviewers_left_out_are_told_at_the_status(tmp_path: Path) -> None:
    path = folder(tmp_path, RELEASED.replace("reviewers: [A. Reviewer]\n", ""))

    [found] = findings(path)

    assert (found.line, found.code) == (3, "release-reviewers")


@pytest.mark.parametrize(
    ("effective", "message"),
    [
        (
            "{from: 2026-01-01, until: 2025-12-31}",
            "ends (2025-12-31) before it starts (2026-01-01)",
        ),
        ("{until: 2026-02-28}", "the effective period ended on 2026-02-28"),
    ],
)
def test_an_effective_period_that_cannot_be_used(
    tmp_path: Path, effective: str, message: str
) -> None:
    path = folder(tmp_path, RELEASED.replace("title: Tiny", f"title: Tiny\neffective: {effective}"))

    [found] = findings(path)

    assert found.line == 6 and message in found.message


def test_an_effective_period_ending_today_is_fine(tmp_path: Path) -> None:
    path = folder(
        tmp_path, RELEASED.replace("title: Tiny", "title: Tiny\neffective: {until: 2026-03-01}")
    )

    assert findings(path) == []


def test_changed_content_needs_a_new_version(tmp_path: Path) -> None:
    previous = check_text(RELEASED, source=folder(tmp_path / "old"))
    changed = folder(tmp_path / "new", RELEASED.replace("> 6 mmol/L", "> 6.5 mmol/L"))

    [found] = findings(changed, previous)

    assert str(found) == (
        f"{changed}:2:1: warning: the content changed since version 1.0.0 but the version did "
        "not: bump it (1.0.1, 1.1.0 or 2.0.0)"
    )
    assert found.code == "release-version-unchanged"


def test_a_bumped_or_unchanged_ruleset_is_fine_and_a_lower_version_is_not(
    tmp_path: Path,
) -> None:
    previous = check_text(RELEASED, source=folder(tmp_path / "old"))
    same = folder(tmp_path / "same")
    bumped = folder(tmp_path / "bumped", RELEASED.replace("1.0.0", "1.1.0").replace("> 6 ", "> 7 "))
    lower = folder(tmp_path / "lower", RELEASED.replace("1.0.0", "0.9.0"))

    assert findings(same, previous) == []
    assert findings(bumped, previous) == []
    [found] = findings(lower, previous)
    assert found.code == "release-version-lower" and found.line == 2
    assert "0.9.0 is lower than the previous release's 1.0.0" in found.message


def test_versions_sort_semantically() -> None:
    assert version_key("1.10.0") > version_key("1.9.0")
    assert version_key("2.0.0-rc.1") < version_key("2.0.0")
    assert bumps("2.1.0") == ("2.1.1", "2.2.0", "3.0.0")


def git(where: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.org", *args],
        cwd=where,
        check=True,
        capture_output=True,
    )


def test_the_previous_release_is_the_copy_committed_at_head(tmp_path: Path) -> None:
    path = folder(tmp_path / "repo" / "rulesets" / "tiny")
    repo = tmp_path / "repo"
    git(repo, "init", "-q")
    assert previous_release(path) is None  # not committed yet
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Release tiny 1.0.0")
    path.write_text(RELEASED.replace("> 6 mmol/L", "> 6.5 mmol/L"))

    previous = previous_release(path.parent)

    assert previous is not None and previous.version == "1.0.0"
    assert previous.concepts["potassium"].codes  # its value set resolved beside the file
    [found] = findings(path, previous)
    assert found.code == "release-version-unchanged"


def test_outside_a_git_repository_there_is_no_previous_release(tmp_path: Path) -> None:
    path = folder(tmp_path / "plain")

    assert previous_release(path) is None
