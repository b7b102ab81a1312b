"""`vigil check`: everything loading a ruleset rejects, all at once, as located findings.

`check` reads a ruleset (a packaged id, a folder or its ruleset.yaml), loads it as the engine
does (its shape, its meaning and the compiling of its rules for durable_rules) and returns
every problem as an error `Finding`; it never raises for anything in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine import (
    Problem,
    Ruleset,
    RulesetError,
    RulesetNotFound,
    load_ruleset,
    load_text,
    packaged_rulesets,
)
from engine.compiler import compile_ruleset
from engine.conditions import suppressed_rule
from engine.loader import MAX_RULESET_BYTES
from engine.registry import RULESET_FILE

from .findings import Finding, exit_code, in_file_order
from .release import previous_release, release_findings
from .source import ruleset_file

UNREADABLE = "unreadable"  # the code of a finding about a file that cannot be read at all


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What checking a ruleset found: its findings in file order, and the ruleset when it
    loads (None when it has errors)."""

    file: str
    findings: list[Finding]
    ruleset: Ruleset | None
    release: bool = False  # whether what a release needs was checked too

    @property
    def unreadable(self) -> bool:
        """Whether the file could not be read at all (missing, not UTF-8, too large)."""
        return any(f.code == UNREADABLE for f in self.findings)

    @property
    def exit_code(self) -> int:
        """2 for a file that cannot be read, 1 for errors (or, checking a release, anything
        the release still needs), else 0."""
        if self.unreadable:
            return 2
        return 1 if self.release and self.findings else exit_code(self.findings)

    def summary(self) -> str:
        """One line: the ruleset and its size when clean, else the count of errors."""
        errors = sum(f.level == "error" for f in self.findings)
        if self.release and self.ruleset is not None and not errors:
            needs = len(self.findings)
            ready = "ready to release" if not needs else f"{needs} thing(s) to do before a release"
            return f"{self.ruleset.id} {self.ruleset.version}: {ready}"
        if self.ruleset is not None and not errors:
            rules = self.ruleset
            compiled = len(compile_ruleset(rules).branches)
            written = sum(suppressed_rule(rule.id) is None for rule in rules.rules)
            return f"{rules.id} {rules.version}: no problems; {written} rules, {compiled} compiled"
        plural = "s" if errors != 1 else ""
        return f"{self.file}: {errors} error{plural}"

    def to_dict(self) -> dict[str, object]:
        """The JSON `vigil check --format json` prints."""
        return {
            "ruleset": self.ruleset.id if self.ruleset is not None else None,
            "version": self.ruleset.version if self.ruleset is not None else None,
            "findings": [f.to_dict() for f in self.findings],
        }


def check(
    ref: str | Path, *, release: bool = False, against: str | Path | None = None
) -> CheckReport:
    """Check the ruleset `ref` names; every problem found is an error finding. With `release`,
    a ruleset that loads is also checked for what a release needs (`release_findings`) against
    the ruleset `against` names, else the copy committed at git HEAD."""
    report = check_file(ref)
    if not release or report.ruleset is None:
        return report
    path = ruleset_file(ref)
    previous = previous_release(path) if against is None else load_ruleset(against)
    needs = release_findings(report.ruleset, path, previous=previous)
    return CheckReport(report.file, in_file_order([*report.findings, *needs]), report.ruleset, True)


def check_file(ref: str | Path) -> CheckReport:
    """Check the ruleset `ref` names, as loading does."""
    name = str(ref)
    try:
        path = ruleset_file(ref)
    except RulesetNotFound:
        known = ", ".join(packaged_rulesets(every=True))
        message = f"no packaged ruleset, folder with {RULESET_FILE} or file named {name!r}"
        return _unreadable(name, f"{message} (packaged rulesets: {known})")
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        return _unreadable(name, f"cannot read the file: {error.strerror}")
    if len(raw) > MAX_RULESET_BYTES:
        limit = MAX_RULESET_BYTES // 2**20
        return _unreadable(name, f"the file is larger than {limit} MiB: split the ruleset")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _unreadable(name, "the file is not UTF-8 text")
    return check_text(text, name, source=path)


def check_text(text: str, file: str = "<ruleset>", *, source: Path | None = None) -> CheckReport:
    """Check a ruleset's YAML text, named `file` in the findings; value sets and product
    files are read relative to `source`."""
    try:
        ruleset = load_text(text, file, source=source)
    except RulesetError as error:
        return CheckReport(file, in_file_order(map(_finding, error.problems)), None)
    return CheckReport(file, [], ruleset)


def _finding(problem: Problem) -> Finding:
    return Finding.from_problem(problem, problem.code or "invalid")


def _unreadable(file: str, message: str) -> CheckReport:
    return CheckReport(file, [Finding(file, 0, 0, "error", message, UNREADABLE)], None)
