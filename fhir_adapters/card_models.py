"""The CDS Hooks 2.0 card, as Pydantic models: what `cards` builds from an evaluation.

Outgoing documents forbid unknown members, so a typo in Vigil's own output fails loudly;
serialise them with `dump()`, which omits null fields. The service's other documents
(discovery, requests, feedback) are in `cds_hooks.models`, built on `Outgoing`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "Action",
    "Card",
    "Coding",
    "Indicator",
    "Link",
    "NonEmpty",
    "Outgoing",
    "SelectionBehavior",
    "Source",
    "Suggestion",
]

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Indicator = Literal["info", "warning", "critical"]
SelectionBehavior = Literal["at-most-one", "any"]


class Outgoing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def dump(self) -> dict[str, Any]:
        """JSON-ready form without null fields."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


class Coding(Outgoing):
    code: NonEmpty
    system: NonEmpty
    display: NonEmpty | None = None


class Source(Outgoing):
    label: NonEmpty
    url: AnyHttpUrl | None = None
    icon: AnyHttpUrl | None = None
    topic: Coding | None = None


class Action(Outgoing):
    type: Literal["create", "update", "delete"]
    description: NonEmpty
    resource: dict[str, Any] | None = None
    resourceId: list[NonEmpty] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _resource_for_type(self) -> Action:
        if self.type in ("create", "update") and not self.resource:
            raise ValueError(f"a {self.type} action needs a resource")
        return self


class Suggestion(Outgoing):
    label: NonEmpty
    uuid: NonEmpty | None = None
    isRecommended: bool | None = None
    actions: list[Action] | None = Field(default=None, min_length=1)


class Link(Outgoing):
    label: NonEmpty
    url: AnyHttpUrl
    type: Literal["absolute", "smart"]
    appContext: NonEmpty | None = None


class Card(Outgoing):
    uuid: NonEmpty | None = None
    summary: Annotated[str, StringConstraints(min_length=1, max_length=139)]
    detail: NonEmpty | None = None
    indicator: Indicator
    source: Source
    suggestions: list[Suggestion] | None = Field(default=None, min_length=1)
    selectionBehavior: SelectionBehavior | None = None
    overrideReasons: list[Coding] | None = Field(default=None, min_length=1)
    links: list[Link] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _selection_with_suggestions(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("selectionBehavior is required when a card has suggestions")
        return self
