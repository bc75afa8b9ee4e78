"""Request bodies of the template and universal content operations (Klaviyo's shapes)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# SYSTEM_DRAGGABLE needs Klaviyo's drag-and-drop definition, which Tidings does not render.
EditorType = Literal["CODE", "USER_DRAGGABLE", "SIMPLE"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateCreateAttributes(_Strict):
    name: str = Field(min_length=1, max_length=255)
    editor_type: EditorType
    html: str | None = None
    text: str | None = None
    amp: str | None = None
    # Only for SYSTEM_DRAGGABLE, which Tidings refuses; Klaviyo ignores it for the other types.
    definition: dict[str, Any] | None = None


class TemplateCreateData(_Strict):
    type: Literal["template"]
    attributes: TemplateCreateAttributes


class TemplateCreate(_Strict):
    data: TemplateCreateData


class TemplateUpdateAttributes(_Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    html: str | None = None
    text: str | None = None
    amp: str | None = None
    definition: dict[str, Any] | None = None  # "not allowed for CODE/USER_DRAGGABLE": null only


class TemplateUpdateData(_Strict):
    type: Literal["template"]
    id: str
    attributes: TemplateUpdateAttributes


class TemplateUpdate(_Strict):
    data: TemplateUpdateData


class TemplateRenderAttributes(_Strict):
    context: dict[str, Any]


class TemplateRenderData(_Strict):
    type: Literal["template"]
    id: str
    attributes: TemplateRenderAttributes


class TemplateRender(_Strict):
    data: TemplateRenderData


class TemplateCloneAttributes(_Strict):
    name: str | None = Field(None, min_length=1, max_length=255)


class TemplateCloneData(_Strict):
    type: Literal["template"]
    id: str
    attributes: TemplateCloneAttributes = Field(default_factory=TemplateCloneAttributes)


class TemplateClone(_Strict):
    data: TemplateCloneData


# ---------------------------------------------------------------------------- universal content


class BlockData(BaseModel):
    """A block's `data`; Klaviyo's block schemas carry more (styles, display options), kept as sent."""

    model_config = ConfigDict(extra="allow")

    content: str | None = None


class BlockDefinition(_Strict):
    content_type: Literal["block"]
    type: Literal["button", "drop_shadow", "horizontal_rule", "html", "image", "spacer", "text"]
    data: BlockData | None = None


class UniversalContentCreateAttributes(_Strict):
    name: str = Field(min_length=1, max_length=255)
    definition: BlockDefinition


class UniversalContentCreateData(_Strict):
    type: Literal["template-universal-content"]
    attributes: UniversalContentCreateAttributes


class UniversalContentCreate(_Strict):
    data: UniversalContentCreateData


class UniversalContentUpdateAttributes(_Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    definition: BlockDefinition | None = None


class UniversalContentUpdateData(_Strict):
    type: Literal["template-universal-content"]
    id: str
    attributes: UniversalContentUpdateAttributes


class UniversalContentUpdate(_Strict):
    data: UniversalContentUpdateData
