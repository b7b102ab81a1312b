"""calf-fasciculation 1.0.0, frozen as a test vehicle: engine tests of loading, large rulesets,
threads and runtime failures read a realistic ruleset whose content never changes under them
(the packaged calf ruleset follows its specification; 2.1.0 replaced 1.0.0)."""

from __future__ import annotations

from pathlib import Path

CALF_1 = Path(__file__).parent / "calf_1_0_0" / "ruleset.yaml"
