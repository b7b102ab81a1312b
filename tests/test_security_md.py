"""SECURITY.md's promises, checked: every test and script it names as covering a threat exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
SECURITY = (ROOT / "SECURITY.md").read_text()
TESTS = ROOT / "tests"


def named_files() -> list[Path]:
    """Every test file SECURITY.md names, as `tests/x/test_y.py` or by its bare file name."""
    names = set(re.findall(r"`(?:tests/[\w/]+/)?(test_\w+\.py)", SECURITY))
    found = []
    for name in sorted(names):
        matches = list(TESTS.rglob(name))
        assert matches, f"SECURITY.md names {name}, which is no test file"
        found.extend(matches)
    return found


def test_every_test_security_md_names_exists() -> None:
    files = named_files()
    defined = {
        node.name
        for path in files
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef)
    }
    named = set(re.findall(r"::(test_\w+)", SECURITY))
    assert named, "SECURITY.md names no test"
    assert named <= defined, f"SECURITY.md names tests that do not exist: {named - defined}"


def test_every_script_security_md_names_exists() -> None:
    scripts = set(re.findall(r"`(bench/\w+\.py)", SECURITY))
    assert scripts
    assert all((ROOT / script).is_file() for script in scripts), scripts
