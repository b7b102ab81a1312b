"""bench/calf_properties_soak.py, the long run of the calf property test, still runs: it
compares random patients with the oracle and exits 1, saying so, at a disagreement."""

from __future__ import annotations

from typing import Any

import pytest

from bench import calf_properties_soak


def test_a_few_random_patients_agree_with_the_oracle(capsys: pytest.CaptureFixture[str]) -> None:
    assert calf_properties_soak.main(["--examples", "3", "--seed", "1"]) == 0
    assert capsys.readouterr().out.startswith(
        "3 random patients: the engine agrees with the oracle"
    )


def test_a_disagreement_exits_1_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def engine_answer(resources: list[dict[str, Any]], as_of: object) -> dict[str, Any]:
        return {"p": ("none", set())}

    def oracle_answer(resources: list[dict[str, Any]], as_of: object) -> tuple[str, set[str]]:
        return ("urgent", set())

    monkeypatch.setattr(calf_properties_soak, "engine_answer", engine_answer)
    monkeypatch.setattr(calf_properties_soak, "oracle_answer", oracle_answer)

    assert calf_properties_soak.main(["--examples", "2"]) == 1
    assert capsys.readouterr().out.startswith("the engine and the oracle disagree")
