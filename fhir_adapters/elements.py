"""Elements already validated, kept by type and exact content, so that validating a resource
does not validate again the codings, references and ranges it shares with others.

fhir.resources validates every nested element of a resource through Python validators (about 14
an Observation), and most of them recur: the same LOINC code, category, subject, performer and
reference range arrive on resource after resource. A nested element's validation depends only on
its type and its content, so `prepare` hands fhir.resources the model validated before for an
identical element (fhir.resources accepts model instances for nested fields), and validates the
elements not seen yet. The resource itself is still validated by its model every time. An
element is kept once it has been met twice (`admission`): the values and timestamps met once are
not worth the collector's time.

The models built from shared elements share those element instances: they are read by the
normaliser and dropped, never changed and never handed to callers.
"""

from __future__ import annotations

import contextlib
import marshal
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any

from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase, FhirElementOrResourceBase

from .admission import SeenOnce

__all__ = ["ValidatedElements"]

ModelClass = type[FHIRAbstractModel]


class ValidatedElements:
    """A bounded map from (element type, exact content) to its validated model, for the
    elements met at least twice.

    Safe to share between threads: each lookup and insertion is one dict operation, atomic
    under the GIL; a race costs at most an element validated twice. When full, the oldest
    entries go first (the recurring ones come straight back).
    """

    def __init__(self, size: int = 5_000, *, keep_first_met: bool = False) -> None:
        """`keep_first_met` for a map that lives as long as one Bundle: nothing churns there,
        and waiting for a second sight would only validate elements twice (+15% for a Bundle of
        10 Observations)."""
        self.size = size
        self.hits = 0
        self.misses = 0
        self._models: dict[tuple[ModelClass, bytes], FHIRAbstractModel] = {}
        self._seen = None if keep_first_met else SeenOnce(size * 4)

    def prepare(self, model_class: ModelClass, data: Mapping[str, Any]) -> dict[str, Any]:
        """`data` with each nested element replaced by its validated model. Raises pydantic's
        ValidationError when a nested element is invalid (validate `data` itself to learn where).
        """
        plan = _nested_elements(model_class)
        out: dict[str, Any] = {}
        for key, value in data.items():
            element = plan.get(key)
            if element is None:
                out[key] = value
                continue
            element_class, repeats = element
            if repeats and isinstance(value, list):
                out[key] = [
                    self._model(element_class, item) if isinstance(item, dict) else item
                    for item in value
                ]
            elif not repeats and isinstance(value, dict):
                out[key] = self._model(element_class, value)
            else:
                out[key] = value
        return out

    def _model(self, element_class: ModelClass, value: dict[str, Any]) -> Any:
        try:
            key = (element_class, marshal.dumps(value))
        except ValueError:  # not JSON-shaped (a caller's own Mapping types): validate, keep not
            return element_class.model_validate(value)
        found = self._models.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        model = element_class.model_validate(value)
        if self._seen is not None and not self._seen.again(hash(key)):
            return model
        if len(self._models) >= self.size:
            self._drop_oldest()
        self._models[key] = model
        return model

    def _drop_oldest(self) -> None:
        # another thread changing the map meanwhile made room itself, or will
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):
            del self._models[next(iter(self._models))]

    def __len__(self) -> int:
        return len(self._models)


@cache
def _nested_elements(model_class: ModelClass) -> dict[str, tuple[ModelClass, bool]]:
    """JSON key (alias and field name) -> (element model, whether the element repeats), for the
    fields holding a complex element. Contained resources are left out: their model depends on
    their resourceType, not on the field."""
    plan: dict[str, tuple[ModelClass, bool]] = {}
    for name, field in model_class.model_fields.items():
        found = _element_type(field.annotation)
        if found is not None:
            plan[name] = found
            if field.alias:
                plan[field.alias] = found
    return plan


def _element_type(annotation: Any, repeats: bool = False) -> tuple[ModelClass, bool] | None:
    if isinstance(annotation, type) and issubclass(annotation, FhirBase):
        if issubclass(annotation, FhirElementOrResourceBase):
            return None
        return annotation.get_model_klass(), repeats
    origin = typing.get_origin(annotation)
    for argument in typing.get_args(annotation):
        found = _element_type(argument, repeats or origin is list)
        if found is not None:
            return found
    return None
