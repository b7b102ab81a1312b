"""Fixtures the command tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_adapters.cds_hooks.storage import SqliteStore


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """An empty Vigil database for `vigil audit` and `vigil feedback report` to read."""
    path = tmp_path / "vigil.sqlite3"
    SqliteStore(path).close()
    return path
