"""Paths to FHIR input: files read as they are, folders searched for the files to read.

A folder is searched, subfolders too, for files whose names end `.json` or `.ndjson` in any
case. Nothing found there is passed over in silence, since a file left out can change a
patient's answer from urgent to self-care:

- a symbolic link is followed, to a folder too; a link back to a folder being searched (a
  loop), or to a folder or file already read, is not followed again, with a warning naming it;
- a folder that cannot be listed, and a link whose target cannot be reached (missing, a loop
  of links, no permission), is a `FhirInputError`: its data would be lost;
- a FIFO, socket or device named like a FHIR file is not opened (a FIFO would wait forever
  for a writer): a warning names it;
- other files are not read: one warning per folder counts them and names the first few.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.evaluation import DataWarning

from .errors import FhirInputError

__all__ = ["FHIR_SUFFIXES", "Found", "find_files", "is_fhir_name", "shown_path"]

FHIR_SUFFIXES = (".json", ".ndjson")
_SHOWN_OTHERS = 5
_FileId = tuple[int, int]  # (st_dev, st_ino): one file or folder, whatever path leads to it


@dataclass(frozen=True, slots=True)
class Found:
    """The files to read, in a stable order, and warnings about what was found and not read."""

    files: tuple[Path, ...] = ()
    warnings: tuple[DataWarning, ...] = ()


def find_files(paths: Iterable[Path]) -> Found:
    """The files `paths` name: a file (or FIFO, device) as it is, a folder searched as the
    module says. A file is read once however many paths lead to it.

    Raises `FhirInputError` (one line naming the path) for a folder without FHIR files, or a
    folder or link found inside one that cannot be read.
    """
    search = _Search()
    for path in paths:
        if path.is_dir():
            search.top_folder(path)
        else:
            search.given_file(path)
    return Found(tuple(search.files), tuple(search.warnings))


def is_fhir_name(path: Path) -> bool:
    """Whether a folder search reads a file of this name: .json or .ndjson in any case."""
    return path.suffix.lower() in FHIR_SUFFIXES


def shown_path(path: Path) -> str:
    """`path` as printable text: a byte of the file name that is not UTF-8 (Linux allows any)
    is written \\xff, the same in every output and message."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


@dataclass
class _Search:
    files: list[Path] = field(default_factory=list)
    warnings: list[DataWarning] = field(default_factory=list)
    seen: dict[_FileId, Path] = field(default_factory=dict)  # folders and files, where first met
    met: int = 0  # FHIR files met, read or already read

    def top_folder(self, folder: Path) -> None:
        key = _identity(folder.stat())
        met, others, again = self.met, list[Path](), key in self.seen
        self.folder(folder, key, (), others)
        if self.met == met and not again:
            raise FhirInputError(f"{shown_path(folder)}: no .json or .ndjson files in this folder")
        if others:
            self.warnings.append(DataWarning(_others_message(folder, others), shown_path(folder)))

    def folder(
        self, folder: Path, key: _FileId, ancestors: tuple[_FileId, ...], others: list[Path]
    ) -> None:
        if key in self.seen:
            if key in ancestors:
                why = f"a link back to {shown_path(self.seen[key])}, which holds it: not followed"
            else:
                why = f"the same folder as {shown_path(self.seen[key])}, read once"
            self.warnings.append(DataWarning(why, shown_path(folder)))
            return
        self.seen[key] = folder
        try:
            names = sorted(os.listdir(folder), key=os.fsencode)
        except OSError as error:
            raise _unreadable(folder, "folder", error) from None
        for name in names:
            path = folder / name
            try:
                info = path.stat()  # follows a symbolic link
            except OSError as error:
                raise _unreadable(path, "link" if path.is_symlink() else "file", error) from None
            if stat.S_ISDIR(info.st_mode):
                self.folder(path, _identity(info), (*ancestors, key), others)
            elif not is_fhir_name(path):
                others.append(path)
            elif stat.S_ISREG(info.st_mode):
                self.file(path, _identity(info))
            else:
                message = f"{_special_kind(info.st_mode)} named like a FHIR file: not read"
                self.warnings.append(DataWarning(message, shown_path(path)))

    def given_file(self, path: Path) -> None:
        """A path named as a file: read once, like a file a folder holds, when it is one."""
        try:
            info = path.stat()
        except OSError:
            info = None  # missing or unreadable: the reader says so, naming it
        if info is not None and stat.S_ISREG(info.st_mode):
            self.file(path, _identity(info))
        else:
            self.files.append(path)  # a pipe or device (/dev/stdin) gives new data each time

    def file(self, path: Path, key: _FileId) -> None:
        self.met += 1
        first = self.seen.setdefault(key, path)
        if first is path:
            self.files.append(path)
        else:
            message = f"the same file as {shown_path(first)}, read once"
            self.warnings.append(DataWarning(message, shown_path(path)))


def _identity(info: os.stat_result) -> _FileId:
    return info.st_dev, info.st_ino


def _unreadable(path: Path, kind: str, error: OSError) -> FhirInputError:
    if kind == "link" and isinstance(error, FileNotFoundError):
        reason = f"a symbolic link to {shown_path(path.readlink())}, which does not exist"
    else:
        reason = f"{kind} cannot be read ({error.strerror or error})"
    return FhirInputError(f"{shown_path(path)}: {reason}: the data in it would be left out")


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _others_message(folder: Path, others: list[Path]) -> str:
    shown = ", ".join(shown_path(p.relative_to(folder)) for p in others[:_SHOWN_OTHERS])
    more = len(others) - _SHOWN_OTHERS
    tail = f" and {more} more" if more > 0 else ""
    plural = "s" if len(others) > 1 else ""
    return (
        f"{len(others)} file{plural} not read, as only names ending .json or .ndjson are:"
        f" {shown}{tail}"
    )
