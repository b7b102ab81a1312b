"""`new_ruleset` fills the template: the id and title in, every file written, nothing left
unfilled; an empty folder may be filled, a file in the way is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from authoring.new import NewRulesetError, new_ruleset, title_of


def test_the_template_is_filled_with_the_id_and_a_title(tmp_path: Path) -> None:
    folder = new_ruleset("calf-cramp", tmp_path / "deep" / "er")

    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    text = (folder / "ruleset.yaml").read_text()

    assert written == [
        "README.md",
        "ruleset.yaml",
        "scenarios/normal-potassium-quiet.yaml",
        "scenarios/raised-potassium-fires.yaml",
    ]
    assert "id: calf-cramp " in text and "title: Calf cramp\n" in text
    assert not any("{{" in p.read_text() for p in folder.rglob("*") if p.is_file())


def test_an_empty_folder_is_filled_and_a_file_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("")

    assert new_ruleset("empty", tmp_path) == tmp_path / "empty"
    with pytest.raises(NewRulesetError, match="already exists"):
        new_ruleset("file", tmp_path)


def test_titles_read_from_the_id() -> None:
    assert title_of("calf-cramp") == "Calf cramp"
