"""The request bodies of the flow operations. A definition is taken as sent here and parsed
by `definition.parse` (or `service.parse_action`), so its errors carry pointers into it."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FlowCreateAttributes(_Strict):
    name: str = Field(min_length=1, max_length=255)
    definition: dict[str, Any]


class FlowCreateData(_Strict):
    type: Literal["flow"]
    attributes: FlowCreateAttributes


class FlowCreate(_Strict):
    data: FlowCreateData


class FlowUpdateAttributes(_Strict):
    status: str


class FlowUpdateData(_Strict):
    type: Literal["flow"]
    id: str
    attributes: FlowUpdateAttributes


class FlowUpdate(_Strict):
    data: FlowUpdateData


class ActionUpdateAttributes(_Strict):
    definition: dict[str, Any]


class ActionUpdateData(_Strict):
    type: Literal["flow-action"]
    id: str
    attributes: ActionUpdateAttributes


class ActionUpdate(_Strict):
    data: ActionUpdateData


# create_flow_action (SDK 25, revision 2026-10-15; not in stable.json)


class AnchorAttributes(_Strict):
    definition: dict[str, Any]


class AnchorData(_Strict):
    type: Literal["flow-action"]
    id: str
    attributes: AnchorAttributes


class Anchor(_Strict):
    data: AnchorData


class ActionInsertAttributes(_Strict):
    definition: dict[str, Any]
    allow_live_action: bool = False
    anchor_action: Anchor | None = Field(None, alias="anchor-action")


class FlowRef(_Strict):
    type: Literal["flow"]
    id: str


class FlowRelation(_Strict):
    data: FlowRef


class ActionInsertRelationships(_Strict):
    flow: FlowRelation | None = None


class ActionInsertData(_Strict):
    type: Literal["flow-action"]
    attributes: ActionInsertAttributes
    relationships: ActionInsertRelationships | None = None


class ActionInsert(_Strict):
    data: ActionInsertData


M = TypeVar("M", bound=BaseModel)


def _pointer(loc: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in loc)


def parse(model: type[M], body: Any) -> M:
    """`body` as `model`, or a 400 for each error with the pointer of its value."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        errors: list[APIError] = []
        for item in error.errors():
            loc = tuple(item.get("loc", ()))
            kind = item.get("type", "")
            if kind == "extra_forbidden":
                message = f"'{loc[-1]}' is not a valid field for this resource."
            elif kind == "missing":
                message = f"'{loc[-1]}' is a required field." if loc else "A required field is missing."
            else:
                message = str(item.get("msg", "Invalid value."))
            errors.append(InvalidInput(message, pointer=_pointer(loc)))
        raise ErrorList(errors) from None
