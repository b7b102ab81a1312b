"""`vigil explain`: why each patient got their escalation, in plain words.

`explain` evaluates each patient once and explains that evaluation: the summary of every
concept the rules read (with source resources and units), each rule that fired with what it
matched, and each rule that did not fire with the first condition that failed and by how
much. `to_text` (rich), `to_markdown` and `to_dict` render it; `nearest_miss` names the rule
closest to firing among some, for a scenario's failure.
"""

from .build import PatientNotFound, explain, explain_examined, explain_result
from .markdown import to_markdown
from .model import (
    ConceptSummary,
    Explanation,
    FiredRule,
    MatchedFact,
    NotFired,
    PatientExplanation,
    Value,
    to_dict,
)
from .nearest import nearest_miss
from .text import to_text

__all__ = [
    "ConceptSummary",
    "Explanation",
    "FiredRule",
    "MatchedFact",
    "NotFired",
    "PatientExplanation",
    "PatientNotFound",
    "Value",
    "explain",
    "explain_examined",
    "explain_result",
    "nearest_miss",
    "to_dict",
    "to_markdown",
    "to_text",
]
