"""Searching folders for FHIR files: nothing found is passed over without a word."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fhir_adapters.errors import FhirInputError
from fhir_adapters.folders import Found, find_files


def messages(found: Found) -> list[tuple[str | None, str]]:
    return [(w.source, w.message) for w in found.warnings]


def test_files_are_found_in_subfolders_and_through_linked_folders(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "labs.json").write_text("{}")
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "a.NDJSON").write_text("")
    (data / "linked").symlink_to(elsewhere)

    found = find_files([data])

    assert found.files == (data / "linked" / "labs.json", data / "sub" / "a.NDJSON")
    assert found.warnings == ()


def test_a_link_loop_is_followed_once_and_named(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path)

    found = find_files([tmp_path])

    assert found.files == (tmp_path / "a.json",)
    assert messages(found) == [
        (f"{tmp_path}/sub/up", f"a link back to {tmp_path}, which holds it: not followed")
    ]


def test_a_folder_or_file_reached_twice_is_read_once_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.json").write_text("{}")
    (tmp_path / "twin").symlink_to(tmp_path / "data")
    (tmp_path / "z.json").symlink_to(tmp_path / "data" / "a.json")

    found = find_files([tmp_path])

    assert found.files == (tmp_path / "data" / "a.json",)
    assert messages(found) == [
        (f"{tmp_path}/twin", f"the same folder as {tmp_path}/data, read once"),
        (f"{tmp_path}/z.json", f"the same file as {tmp_path}/data/a.json, read once"),
    ]


def test_a_link_to_nothing_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "labs").symlink_to(tmp_path / "moved")

    with pytest.raises(FhirInputError) as caught:
        find_files([tmp_path])

    assert str(caught.value) == (
        f"{tmp_path}/labs: a symbolic link to {tmp_path}/moved, which does not exist:"
        " the data in it would be left out"
    )


def test_a_folder_that_cannot_be_listed_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # chmod 000 does not stop root, who runs the tests in CI: the refusal is simulated
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "labs").mkdir()
    listdir = os.listdir

    def refuse(path: Path) -> list[str]:
        if Path(path).name == "labs":
            raise PermissionError(13, "Permission denied")
        return listdir(path)

    monkeypatch.setattr(os, "listdir", refuse)
    with pytest.raises(FhirInputError) as caught:
        find_files([tmp_path])

    assert str(caught.value) == (
        f"{tmp_path}/labs: folder cannot be read (Permission denied):"
        " the data in it would be left out"
    )


def test_a_fifo_named_like_fhir_is_not_opened_but_named(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    os.mkfifo(tmp_path / "pipe.json")

    found = find_files([tmp_path])

    assert found.files == (tmp_path / "a.json",)
    assert messages(found) == [
        (f"{tmp_path}/pipe.json", "a FIFO (named pipe) named like a FHIR file: not read")
    ]


def test_other_files_are_counted_and_the_first_named(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    for name in ("b.json.gz", "c.JSON~", "d.txt", "e", "f.xml", "g.csv", ".h"):
        (tmp_path / name).write_text("")

    found = find_files([tmp_path])

    assert messages(found) == [
        (
            str(tmp_path),
            "7 files not read, as only names ending .json or .ndjson are:"
            " .h, b.json.gz, c.JSON~, d.txt, e and 2 more",
        )
    ]


def test_a_folder_without_fhir_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("")

    with pytest.raises(FhirInputError) as caught:
        find_files([tmp_path])

    assert str(caught.value) == f"{tmp_path}: no .json or .ndjson files in this folder"


def test_a_folder_given_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")

    found = find_files([tmp_path, tmp_path])

    assert found.files == (tmp_path / "a.json",)
    assert messages(found) == [(str(tmp_path), f"the same folder as {tmp_path}, read once")]
