"""A ruleset given to `vigil evaluate --ruleset` is input from people: whatever it holds, one line
and exit 2, never a traceback, a hang or all the memory."""

from __future__ import annotations

from pathlib import Path

from tests.vigil.test_evaluate_command import EXAMPLES, vigil

ALIAS_BOMB = "\n".join(
    [
        'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]',
        *(
            f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]"
            for n in range(1, 10)  # 9**10 values once expanded
        ),
    ]
)


def test_a_yaml_alias_bomb_is_refused_in_one_line(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)

    run = vigil("evaluate", EXAMPLES, "--ruleset", bomb)

    assert run.returncode == 2
    assert run.stderr.count("\n") == 1, run.stderr
    assert "expands to more than 250,000 values" in run.stderr
    assert str(bomb) in run.stderr


def test_a_ruleset_file_too_large_to_be_one_is_refused_in_one_line(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("w") as file:
        file.write("id: huge\ndescription: |\n")
        for _ in range(100_000):
            file.write("  " + "x" * 60 + "\n")

    run = vigil("evaluate", EXAMPLES, "--ruleset", huge)

    assert run.returncode == 2
    assert run.stderr.strip() == (
        f"vigil evaluate: {huge}: the file is larger than 4 MiB: split the ruleset"
    )
