"""What a ruleset needs before it is released, as warnings located in its YAML.

`release_findings` says what stands between a ruleset and a release: a status that is not
active, no reviewers, an effective period that has ended or ends before it starts, content that
changed without a new version, a version lower than the previous release's. `previous_release`
finds that previous release: the copy of the file committed at git HEAD.
"""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

from engine import Ruleset
from engine.lifecycle import today_in
from engine.loader import check_text
from engine.yaml_source import Source, load_yaml

from .findings import Finding, in_file_order

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$")
GIT_TIMEOUT_SECONDS = 30


def release_findings(
    ruleset: Ruleset, source: Path, *, previous: Ruleset | None, today: date | None = None
) -> list[Finding]:
    """Warnings for what a release of `ruleset` (loaded from `source`) still needs, each at
    the line of the key it concerns; `previous` is the last release (or None), `today` the
    date the effective period is judged on (default today in the ruleset's time zone)."""
    marks = _marks(source)
    file = str(source)

    def at(key: tuple[str, ...], fallback: tuple[str, ...], code: str, text: str) -> Finding:
        line, column = _where(marks, key, fallback)
        return Finding(file, line, column, "warning", text, code)

    found: list[Finding] = []
    if ruleset.status != "active":
        found.append(
            at(
                ("status",),
                ("id",),
                "release-status",
                f"status is {ruleset.status}: a release is active (status: active)",
            )
        )
    if not ruleset.reviewers:
        found.append(
            at(
                ("reviewers",),
                ("status",),
                "release-reviewers",
                "no reviewers: a release names who reviewed it (reviewers: [name, ...])",
            )
        )
    start, until = ruleset.effective_from, ruleset.effective_until
    day = today or today_in(ruleset.time_zone)
    if start is not None and until is not None and until < start:
        found.append(
            at(
                ("effective", "until"),
                ("effective",),
                "release-effective",
                f"the effective period ends ({until}) before it starts ({start})",
            )
        )
    elif until is not None and until < day:
        found.append(
            at(
                ("effective", "until"),
                ("effective",),
                "release-effective",
                f"the effective period ended on {until}: it would never be used",
            )
        )
    problem = None if previous is None else version_problem(ruleset, previous)
    if problem is not None:
        found.append(at(("version",), ("id",), *problem))
    return in_file_order(found)


def version_problem(ruleset: Ruleset, previous: Ruleset) -> tuple[str, str] | None:
    """Whether the version moved as the content did against the previous release: None, or
    a finding's code and message."""
    if version_key(ruleset.version) < version_key(previous.version):
        return (
            "release-version-lower",
            f"version {ruleset.version} is lower than the previous release's {previous.version}",
        )
    if ruleset.content_hash != previous.content_hash and ruleset.version == previous.version:
        return (
            "release-version-unchanged",
            f"the content changed since version {previous.version} but the version did not: "
            "bump it ({}, {} or {})".format(*bumps(previous.version)),
        )
    return None


def version_key(version: str) -> tuple[int, int, int, int, str]:
    """A semantic version as a sortable key: a pre-release (`1.0.0-rc.1`) sorts before its
    release; its labels compare as text."""
    matched = _SEMVER.match(version)
    if matched is None:
        return (0, 0, 0, 0, version)
    major, minor, patch, pre = matched.groups()
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre or "")


def bumps(version: str) -> tuple[str, str, str]:
    """The next patch, minor and major versions after `version`."""
    major, minor, patch, _, _ = version_key(version)
    return (f"{major}.{minor}.{patch + 1}", f"{major}.{minor + 1}.0", f"{major + 1}.0.0")


def previous_release(path: Path) -> Ruleset | None:
    """The ruleset as committed at git HEAD (`path`: a ruleset file or its folder); None outside
    a git repository, without git, or for a file not committed. Value-set and product files
    resolve beside `path`, as they do for the working copy. Raises `engine.RulesetError` when
    the committed copy does not load."""
    file = path / "ruleset.yaml" if path.is_dir() else path
    try:
        shown = subprocess.run(
            ["git", "-C", str(file.parent), "show", f"HEAD:./{file.name}"],
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if shown.returncode != 0:
        return None
    try:
        text = shown.stdout.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return check_text(text, f"{file} (HEAD)", source=file)


def _marks(source: Path) -> Source | None:
    try:
        text = source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    parsed, _ = load_yaml(text, str(source))
    return parsed


def _where(
    marks: Source | None, key: tuple[str, ...], fallback: tuple[str, ...]
) -> tuple[int, int]:
    """Line and column of `key`'s name in the file, else of `fallback`'s; (0, 0) when the
    file cannot be read (the finding then names the file as a whole)."""
    if marks is None:
        return (0, 0)
    for path in (key, fallback):
        if path in marks.key_marks:
            return marks.key_marks[path]
    return (1, 1)
