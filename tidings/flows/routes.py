"""The flow endpoints of Klaviyo's API: flows, flow actions, flow messages, their relationships."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from tidings.flows import inserts, render, repository, schemas, service
from tidings.flows.tables import Flow, FlowAction, FlowMessage
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.pagination import paginate
from tidings.jsonapi.spec import Operation
from tidings.tags import service as tags
from tidings.tags.render import include_tags, tag_resource

router = APIRouter(prefix="/api", tags=["Flows"])

# In the SDK 25 (revision 2026-10-15), not in stable.json: its models are the contract.
CREATE_FLOW_ACTION = Operation(
    "create_flow_action", "POST", "/api/flow-actions", "Flows", ("flows:write",), 3, 60
)


def _wants_definition(ctx: ApiContext) -> bool:
    return "definition" in ctx.params.additional_fields.get("flow", [])


def _flow(
    ctx: ApiContext, flow: Flow, actions: list[FlowAction], *, definition: bool = False
) -> dict[str, Any]:
    return render.flow_resource(
        ctx.urls, flow, actions, fields=ctx.params.fields.get("flow"), definition=definition
    )


def _actions(ctx: ApiContext, actions: list[FlowAction]) -> list[dict[str, Any]]:
    messages = service.messages_of(ctx.session, ctx.account_id, [a.id for a in actions])
    fields = ctx.params.fields.get("flow-action")
    return [render.action_resource(ctx.urls, a, messages[a.id], fields=fields) for a in actions]


def _flow_document(
    ctx: ApiContext, flow: Flow, status: int = 200, *, definition: bool = False
) -> JSONAPIResponse:
    actions = service.actions_of(ctx.session, ctx.account_id, [flow.id])[flow.id]
    data = _flow(ctx, flow, actions, definition=definition)
    included = _actions(ctx, actions) if "flow-actions" in ctx.params.include else None
    if "tags" in ctx.params.include:
        tagged = include_tags(
            ctx.session, ctx.account_id, ctx.urls, "flow", [data], ctx.params.fields.get("tag")
        )
        included = (included or []) + tagged
    self_url = ctx.urls.current() if ctx.request.method == "GET" else ctx.urls.resource("flows", flow.id)
    body = single(data, self_url, included, include=ctx.params.include)
    return JSONAPIResponse(body, status_code=status)


# --------------------------------------------------------------------------------- flows


@router.get("/flows", operation_id="get_flows")
def get_flows(ctx: ApiContext = api("get_flows")) -> JSONAPIResponse:
    page = paginate(
        ctx.session,
        repository.flows_query(ctx.account_id, ctx.params.filter),
        operation="get_flows",
        sort_column=repository.FLOW_SORTS[ctx.params.sort_field or "id"],
        id_column=Flow.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    flows: list[Flow] = list(page.rows)
    by_flow = service.actions_of(ctx.session, ctx.account_id, [f.id for f in flows])
    data = [_flow(ctx, flow, by_flow[flow.id]) for flow in flows]
    included: list[dict[str, Any]] | None = None
    if ctx.params.include:
        included = []
        if "flow-actions" in ctx.params.include:
            included = _actions(ctx, [a for flow in flows for a in by_flow[flow.id]])
        if "tags" in ctx.params.include:
            included += include_tags(
                ctx.session, ctx.account_id, ctx.urls, "flow", data, ctx.params.fields.get("tag")
            )
    document = collection(
        data, ctx.urls, page.next_cursor, page.prev_cursor, included, include=ctx.params.include
    )
    return JSONAPIResponse(document)


@router.get("/flows/{id}", operation_id="get_flow")
def get_flow(id: str, ctx: ApiContext = api("get_flow")) -> JSONAPIResponse:
    flow = service.get_flow(ctx.session, ctx.account_id, id)
    return _flow_document(ctx, flow, definition=_wants_definition(ctx))


@router.post("/flows", operation_id="create_flow", status_code=201)
def create_flow(body: Any = Body(...), ctx: ApiContext = api("create_flow")) -> JSONAPIResponse:
    document = schemas.parse(schemas.FlowCreate, body)
    attributes = document.data.attributes
    flow = service.create_flow(ctx.session, ctx.account_id, attributes.name, attributes.definition)
    return _flow_document(ctx, flow, 201, definition=True)


@router.patch("/flows/{id}", operation_id="update_flow")
def update_flow(id: str, body: Any = Body(...), ctx: ApiContext = api("update_flow")) -> JSONAPIResponse:
    service.get_flow(ctx.session, ctx.account_id, id)  # 404 before 409
    document = schemas.parse(schemas.FlowUpdate, body)
    service.same_id(id, document.data.id)
    flow = service.update_status(ctx.session, ctx.account_id, id, document.data.attributes.status)
    return _flow_document(ctx, flow, definition=_wants_definition(ctx))


@router.delete("/flows/{id}", operation_id="delete_flow", status_code=204)
def delete_flow(id: str, ctx: ApiContext = api("delete_flow")) -> Response:
    service.delete_flow(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


def _flow_actions_page(ctx: ApiContext, flow_id: str) -> tuple[list[FlowAction], Any]:
    service.get_flow(ctx.session, ctx.account_id, flow_id)
    page = paginate(
        ctx.session,
        repository.actions_query(ctx.account_id, flow_id, ctx.params.filter),
        operation=ctx.op.operation_id,
        sort_column=repository.ACTION_SORTS[ctx.params.sort_field or "id"],
        id_column=FlowAction.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    return list(page.rows), page


@router.get("/flows/{id}/flow-actions", operation_id="get_actions_for_flow")
def get_actions_for_flow(id: str, ctx: ApiContext = api("get_actions_for_flow")) -> JSONAPIResponse:
    actions, page = _flow_actions_page(ctx, id)
    return JSONAPIResponse(collection(_actions(ctx, actions), ctx.urls, page.next_cursor, page.prev_cursor))


@router.get("/flows/{id}/relationships/flow-actions", operation_id="get_action_ids_for_flow")
def get_action_ids_for_flow(id: str, ctx: ApiContext = api("get_action_ids_for_flow")) -> JSONAPIResponse:
    actions, page = _flow_actions_page(ctx, id)
    data = [{"type": "flow-action", "id": a.id} for a in actions]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get("/flows/{id}/tags", operation_id="get_tags_for_flow")
def get_tags_for_flow(id: str, ctx: ApiContext = api("get_tags_for_flow")) -> JSONAPIResponse:
    service.get_flow(ctx.session, ctx.account_id, id)
    found = tags.tags_of(ctx.session, ctx.account_id, "flow", [id]).get(id, [])
    fields = ctx.params.fields.get("tag")
    return JSONAPIResponse(collection([tag_resource(ctx.urls, t, fields) for t in found], ctx.urls))


@router.get("/flows/{id}/relationships/tags", operation_id="get_tag_ids_for_flow")
def get_tag_ids_for_flow(id: str, ctx: ApiContext = api("get_tag_ids_for_flow")) -> JSONAPIResponse:
    service.get_flow(ctx.session, ctx.account_id, id)
    found = tags.tags_of(ctx.session, ctx.account_id, "flow", [id]).get(id, [])
    return JSONAPIResponse(collection([{"type": "tag", "id": t.id} for t in found], ctx.urls))


# ---------------------------------------------------------------------------- flow actions


def _action_document(
    ctx: ApiContext, action: FlowAction, self_url: str, status: int = 200
) -> JSONAPIResponse:
    messages = service.messages_of(ctx.session, ctx.account_id, [action.id])[action.id]
    data = render.action_resource(ctx.urls, action, messages, fields=ctx.params.fields.get("flow-action"))
    included: list[dict[str, Any]] | None = None
    if ctx.params.include:
        included = []
        if "flow" in ctx.params.include:
            flow = service.get_flow(ctx.session, ctx.account_id, action.flow_id)
            actions = service.actions_of(ctx.session, ctx.account_id, [flow.id])[flow.id]
            included.append(_flow(ctx, flow, actions))
        if "flow-messages" in ctx.params.include:
            fields = ctx.params.fields.get("flow-message")
            included += [render.message_resource(ctx.urls, m, action, fields=fields) for m in messages]
    return JSONAPIResponse(single(data, self_url, included), status_code=status)


@router.get("/flow-actions/{id}", operation_id="get_flow_action")
def get_flow_action(id: str, ctx: ApiContext = api("get_flow_action")) -> JSONAPIResponse:
    action = service.get_action(ctx.session, ctx.account_id, id)
    return _action_document(ctx, action, ctx.urls.current())


@router.patch("/flow-actions/{id}", operation_id="update_flow_action")
def update_flow_action(
    id: str, body: Any = Body(...), ctx: ApiContext = api("update_flow_action")
) -> JSONAPIResponse:
    service.get_action(ctx.session, ctx.account_id, id)  # 404 before 409
    document = schemas.parse(schemas.ActionUpdate, body)
    service.same_id(id, document.data.id)
    action = service.update_action(ctx.session, ctx.account_id, id, document.data.attributes.definition)
    return _action_document(ctx, action, ctx.urls.resource("flow-actions", id))


@router.delete("/flow-actions/{id}", operation_id="delete_flow_action", status_code=204)
def delete_flow_action(id: str, ctx: ApiContext = api("delete_flow_action")) -> Response:
    service.delete_action(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.post("/flow-actions", operation_id="create_flow_action", status_code=201)
def create_flow_action(body: Any = Body(...), ctx: ApiContext = api(CREATE_FLOW_ACTION)) -> JSONAPIResponse:
    document = schemas.parse(schemas.ActionInsert, body)
    action = inserts.insert_action(ctx.session, ctx.account_id, document.data)
    return _action_document(ctx, action, ctx.urls.resource("flow-actions", action.id), 201)


@router.get("/flow-actions/{id}/flow", operation_id="get_flow_for_flow_action")
def get_flow_for_flow_action(id: str, ctx: ApiContext = api("get_flow_for_flow_action")) -> JSONAPIResponse:
    action = service.get_action(ctx.session, ctx.account_id, id)
    flow = service.get_flow(ctx.session, ctx.account_id, action.flow_id)
    actions = service.actions_of(ctx.session, ctx.account_id, [flow.id])[flow.id]
    return JSONAPIResponse(single(_flow(ctx, flow, actions), ctx.urls.current()))


@router.get("/flow-actions/{id}/relationships/flow", operation_id="get_flow_id_for_flow_action")
def get_flow_id_for_flow_action(
    id: str, ctx: ApiContext = api("get_flow_id_for_flow_action")
) -> JSONAPIResponse:
    action = service.get_action(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single({"type": "flow", "id": action.flow_id}, ctx.urls.current()))


def _messages_page(ctx: ApiContext, action_id: str) -> tuple[FlowAction, list[FlowMessage], Any]:
    action = service.get_action(ctx.session, ctx.account_id, action_id)
    page = paginate(
        ctx.session,
        repository.messages_query(ctx.account_id, action_id, ctx.params.filter),
        operation=ctx.op.operation_id,
        sort_column=repository.MESSAGE_SORTS[ctx.params.sort_field or "id"],
        id_column=FlowMessage.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    return action, list(page.rows), page


@router.get("/flow-actions/{id}/flow-messages", operation_id="get_flow_action_messages")
def get_flow_action_messages(id: str, ctx: ApiContext = api("get_flow_action_messages")) -> JSONAPIResponse:
    action, messages, page = _messages_page(ctx, id)
    fields = ctx.params.fields.get("flow-message")
    data = [render.message_resource(ctx.urls, m, action, fields=fields) for m in messages]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get("/flow-actions/{id}/relationships/flow-messages", operation_id="get_message_ids_for_flow_action")
def get_message_ids_for_flow_action(
    id: str, ctx: ApiContext = api("get_message_ids_for_flow_action")
) -> JSONAPIResponse:
    _action, messages, page = _messages_page(ctx, id)
    data = [{"type": "flow-message", "id": m.id} for m in messages]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


# --------------------------------------------------------------------------- flow messages


def _message_and_action(ctx: ApiContext, id: str) -> tuple[FlowMessage, FlowAction]:
    message = service.get_message(ctx.session, ctx.account_id, id)
    return message, service.get_action(ctx.session, ctx.account_id, message.action_id)


@router.get("/flow-messages/{id}", operation_id="get_flow_message")
def get_flow_message(id: str, ctx: ApiContext = api("get_flow_message")) -> JSONAPIResponse:
    message, action = _message_and_action(ctx, id)
    data = render.message_resource(ctx.urls, message, action, fields=ctx.params.fields.get("flow-message"))
    included: list[dict[str, Any]] | None = None
    if ctx.params.include:
        included = []
        if "flow-action" in ctx.params.include:
            included += _actions(ctx, [action])
        if "template" in ctx.params.include:
            template = render.template_resource(ctx.urls, message, fields=ctx.params.fields.get("template"))
            included += [template] if template else []
    return JSONAPIResponse(single(data, ctx.urls.current(), included))


@router.get("/flow-messages/{id}/flow-action", operation_id="get_action_for_flow_message")
def get_action_for_flow_message(
    id: str, ctx: ApiContext = api("get_action_for_flow_message")
) -> JSONAPIResponse:
    _message, action = _message_and_action(ctx, id)
    return JSONAPIResponse(single(_actions(ctx, [action])[0], ctx.urls.current()))


@router.get("/flow-messages/{id}/relationships/flow-action", operation_id="get_action_id_for_flow_message")
def get_action_id_for_flow_message(
    id: str, ctx: ApiContext = api("get_action_id_for_flow_message")
) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single({"type": "flow-action", "id": message.action_id}, ctx.urls.current()))


@router.get("/flow-messages/{id}/template", operation_id="get_template_for_flow_message")
def get_template_for_flow_message(
    id: str, ctx: ApiContext = api("get_template_for_flow_message")
) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    data = render.template_resource(ctx.urls, message, fields=ctx.params.fields.get("template"))
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.get("/flow-messages/{id}/relationships/template", operation_id="get_template_id_for_flow_message")
def get_template_id_for_flow_message(
    id: str, ctx: ApiContext = api("get_template_id_for_flow_message")
) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    data = {"type": "template", "id": message.template_id} if message.template_id else None
    return JSONAPIResponse(single(data, ctx.urls.current()))
