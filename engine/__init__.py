"""Vigil's engine: clinician-written rulesets, compiled to durable_rules, evaluated per patient.

import engine
ruleset = engine.load_ruleset("calf-fasciculation")
evaluation = engine.Evaluator(ruleset).evaluate(records, as_of=when)
evaluation.escalation, evaluation.suggestions, evaluation.trace
"""

from .codes import Code, parse_code
from .errors import (
    ArgumentError,
    CodeError,
    EngineError,
    EvaluationError,
    FactError,
    Problem,
    RulesetError,
    RulesetNotFound,
    VigilError,
)
from .evaluation import (
    DataWarning,
    Evaluation,
    Finding,
    Firing,
    Matched,
    RedFlagCheck,
    RulesetIdentity,
    Suggestion,
)
from .evaluator import Evaluator
from .loader import load_text
from .model import Concept, Ruleset
from .records import Quantity, Record
from .registry import load_ruleset, packaged_rulesets

__all__ = [
    "ArgumentError",
    "Code",
    "CodeError",
    "Concept",
    "DataWarning",
    "EngineError",
    "Evaluation",
    "EvaluationError",
    "Evaluator",
    "FactError",
    "Finding",
    "Firing",
    "Matched",
    "Problem",
    "Quantity",
    "Record",
    "RedFlagCheck",
    "Ruleset",
    "RulesetError",
    "RulesetIdentity",
    "RulesetNotFound",
    "Suggestion",
    "VigilError",
    "load_ruleset",
    "load_text",
    "packaged_rulesets",
    "parse_code",
]
