"""Templates, template rendering and cloning, and universal content."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from tidings.accounts.repository import get_account
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, resource, single
from tidings.jsonapi.errors import Conflict
from tidings.jsonapi.pagination import paginate
from tidings.templates import repository, service
from tidings.templates.limits import RenderLimits
from tidings.templates.schemas import (
    TemplateClone,
    TemplateCreate,
    TemplateRender,
    TemplateUpdate,
    UniversalContentCreate,
    UniversalContentUpdate,
)
from tidings.templates.tables import Template, UniversalContent

router = APIRouter(prefix="/api", tags=["Templates"])


def template_resource(
    ctx: ApiContext,
    template: Template,
    attributes: dict[str, Any] | None = None,
    fields: list[str] | None = None,
) -> dict:
    return resource(
        "template",
        template.id,
        attributes
        if attributes is not None
        else service.template_attributes(
            template, definition="definition" in ctx.params.additional_fields.get("template", [])
        ),
        ctx.urls.resource("templates", template.id),
        fields=fields or ctx.params.fields.get("template"),
    )


def universal_resource(ctx: ApiContext, content: UniversalContent) -> dict:
    return resource(
        "template-universal-content",
        content.id,
        service.universal_attributes(content),
        ctx.urls.resource("template-universal-content", content.id),
        fields=ctx.params.fields.get("template-universal-content"),
    )


def _same_id(path_id: str, body_id: str) -> None:
    if path_id != body_id:
        raise Conflict("The id in the body does not match the id in the path.", pointer="/data/id")


# ---------------------------------------------------------------------------- templates


@router.get("/templates", operation_id="get_templates")
def get_templates(ctx: ApiContext = api("get_templates")) -> JSONAPIResponse:
    sort_field = ctx.params.sort_field or "id"
    page = paginate(
        ctx.session,
        repository.templates_query(ctx.account_id, ctx.params.filter),
        operation="get_templates",
        sort_column=repository.TEMPLATE_SORTS[sort_field],
        id_column=Template.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    data = [template_resource(ctx, template) for template in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get("/templates/{id}", operation_id="get_template")
def get_template(id: str, ctx: ApiContext = api("get_template")) -> JSONAPIResponse:
    template = service.get_template(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single(template_resource(ctx, template), ctx.urls.current()))


@router.post("/templates", operation_id="create_template", status_code=201)
def create_template(
    document: TemplateCreate = Body(...), ctx: ApiContext = api("create_template")
) -> JSONAPIResponse:
    template = service.create_template(ctx.session, ctx.account_id, document.data.attributes)
    body = single(template_resource(ctx, template), ctx.urls.resource("templates", template.id))
    return JSONAPIResponse(body, status_code=201)


@router.patch("/templates/{id}", operation_id="update_template")
def update_template(
    id: str, document: TemplateUpdate = Body(...), ctx: ApiContext = api("update_template")
) -> JSONAPIResponse:
    service.get_template(ctx.session, ctx.account_id, id)  # 404 before 409
    _same_id(id, document.data.id)
    template = service.update_template(ctx.session, ctx.account_id, id, document.data.attributes)
    return JSONAPIResponse(single(template_resource(ctx, template), ctx.urls.current()))


@router.delete("/templates/{id}", operation_id="delete_template", status_code=204)
def delete_template(id: str, ctx: ApiContext = api("delete_template")) -> Response:
    service.delete_template(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.post("/template-clone", operation_id="clone_template", status_code=201)
def clone_template(
    document: TemplateClone = Body(...), ctx: ApiContext = api("clone_template")
) -> JSONAPIResponse:
    clone = service.clone_template(
        ctx.session, ctx.account_id, document.data.id, document.data.attributes.name
    )
    body = single(template_resource(ctx, clone), ctx.urls.resource("templates", clone.id))
    return JSONAPIResponse(body, status_code=201)


@router.post("/template-render", operation_id="render_template", status_code=201)
def render_template(
    document: TemplateRender = Body(...), ctx: ApiContext = api("render_template")
) -> JSONAPIResponse:
    settings = ctx.runtime.settings
    account = get_account(ctx.session, ctx.account_id)
    signer = service.link_signer(ctx.session, settings.secret_key, settings.public_url)
    template, rendered = service.render_template(
        ctx.session,
        ctx.account_id,
        document.data.id,
        document.data.attributes.context,
        signer=signer,
        currency=account.preferred_currency if account else "USD",
        timezone=account.timezone if account else "UTC",
        limits=RenderLimits.from_settings(settings),
    )
    attributes = {
        **service.template_attributes(template),
        "html": rendered.html,
        "text": rendered.text,
        "amp": rendered.amp,
    }
    fields: list[str] | None = [
        str(f) for f in document.data.attributes.return_fields or [] if f != "id"
    ] or None
    resource_ = template_resource(ctx, template, attributes, fields)
    return JSONAPIResponse(single(resource_, ctx.urls.resource("templates", template.id)), status_code=201)


# ---------------------------------------------------------------------------- universal content


@router.get("/template-universal-content", operation_id="get_all_universal_content")
def get_all_universal_content(ctx: ApiContext = api("get_all_universal_content")) -> JSONAPIResponse:
    sort_field = ctx.params.sort_field or "id"
    page = paginate(
        ctx.session,
        repository.universal_query(ctx.account_id, ctx.params.filter),
        operation="get_all_universal_content",
        sort_column=repository.UNIVERSAL_SORTS[sort_field],
        id_column=UniversalContent.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    data = [universal_resource(ctx, content) for content in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get("/template-universal-content/{id}", operation_id="get_universal_content")
def get_universal_content(id: str, ctx: ApiContext = api("get_universal_content")) -> JSONAPIResponse:
    content = service.get_universal(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single(universal_resource(ctx, content), ctx.urls.current()))


@router.post("/template-universal-content", operation_id="create_universal_content", status_code=201)
def create_universal_content(
    document: UniversalContentCreate = Body(...), ctx: ApiContext = api("create_universal_content")
) -> JSONAPIResponse:
    content = service.create_universal(ctx.session, ctx.account_id, document.data.attributes)
    url = ctx.urls.resource("template-universal-content", content.id)
    return JSONAPIResponse(single(universal_resource(ctx, content), url), status_code=201)


@router.patch("/template-universal-content/{id}", operation_id="update_universal_content")
def update_universal_content(
    id: str,
    document: UniversalContentUpdate = Body(...),
    ctx: ApiContext = api("update_universal_content"),
) -> JSONAPIResponse:
    service.get_universal(ctx.session, ctx.account_id, id)
    _same_id(id, document.data.id)
    content = service.update_universal(ctx.session, ctx.account_id, id, document.data.attributes)
    return JSONAPIResponse(single(universal_resource(ctx, content), ctx.urls.current()))


@router.delete("/template-universal-content/{id}", operation_id="delete_universal_content", status_code=204)
def delete_universal_content(id: str, ctx: ApiContext = api("delete_universal_content")) -> Response:
    service.delete_universal(ctx.session, ctx.account_id, id)
    return Response(status_code=204)
