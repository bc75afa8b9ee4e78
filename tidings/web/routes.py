"""The web app's own endpoints, under /api/x-tidings/app: sign in and out, who am I, switch
account, invitations, users and roles, API keys (read-only), and the home page's figures.

Signing in, out, switching and `me` are for people (a session cookie); managing users and
invitations also accepts a full-access private key (`users:manage` is a scope no key can be
given, so only a key with every scope has it). Every unsafe request made with the cookie passes
the cross-site check (`csrf.check`), signing in included (login CSRF)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from tidings.accounts import service as accounts_service
from tidings.accounts.authority import UserPrincipal
from tidings.http import ApiContext, api, client_address, rate_limit, runtime_of
from tidings.jsonapi.documents import JSONAPIResponse, iso
from tidings.jsonapi.errors import AuthenticationFailed, NotAuthenticated, PermissionDenied
from tidings.jsonapi.spec import Operation
from tidings.jsonapi.text import refuse_unstorable_text
from tidings.web import csrf, repository, roles, service, summary
from tidings.web.schemas import AcceptInvitation, CreateInvitation, PatchUser, SignIn, SwitchAccount
from tidings.web.sessions import PLAIN_COOKIE, SECURE_COOKIE, cookie_token, lifetimes, principal_of
from tidings.web.tables import User

PREFIX = "/api/x-tidings/app"
router = APIRouter(prefix=PREFIX, tags=["Web app"])


def _op(operation_id: str, method: str, path: str, scopes: tuple[str, ...] = ()) -> Operation:
    return Operation(operation_id, method, PREFIX + path, "Web app", scopes, 10, 150)


GET_ME = _op("get_app_me", "GET", "/me")
GET_HOME = _op("get_app_home", "GET", "/home", ("accounts:read",))
GET_USERS = _op("get_app_users", "GET", "/users", (roles.USERS_MANAGE,))
UPDATE_USER = _op("update_app_user", "PATCH", "/users/{id}", (roles.USERS_MANAGE,))
DELETE_USER = _op("delete_app_user", "DELETE", "/users/{id}", (roles.USERS_MANAGE,))
GET_INVITATIONS = _op("get_app_invitations", "GET", "/invitations", (roles.USERS_MANAGE,))
CREATE_INVITATION = _op("create_app_invitation", "POST", "/invitations", (roles.USERS_MANAGE,))
DELETE_INVITATION = _op("delete_app_invitation", "DELETE", "/invitations/{id}", (roles.USERS_MANAGE,))
GET_API_KEYS = _op("get_app_api_keys", "GET", "/api-keys", (roles.API_KEYS_MANAGE,))
SWITCH_ACCOUNT = _op("switch_app_account", "POST", "/session/account")
# Served without a principal (they make one): listed for the fuzz test and the docs.
SIGN_IN = _op("create_app_session", "POST", "/session")
SIGN_OUT = _op("delete_app_session", "DELETE", "/session")
ACCEPT_INVITATION = _op("accept_app_invitation", "POST", "/invitations/accept")
SIGN_IN_LIMIT = Operation("sign_in", "POST", PREFIX + "/session", "Web app", (), 5, 30)

OPERATIONS = (
    GET_ME,
    GET_HOME,
    GET_USERS,
    UPDATE_USER,
    DELETE_USER,
    GET_INVITATIONS,
    CREATE_INVITATION,
    DELETE_INVITATION,
    GET_API_KEYS,
    SWITCH_ACCOUNT,
    SIGN_IN,
    SIGN_OUT,
    ACCEPT_INVITATION,
)


def _person(ctx: ApiContext) -> UserPrincipal:
    if not isinstance(ctx.principal, UserPrincipal):
        raise PermissionDenied("This endpoint is for people signed in to the web app, not API keys.")
    return ctx.principal


def _actor_role(ctx: ApiContext) -> str:
    return ctx.principal.role if isinstance(ctx.principal, UserPrincipal) else "owner"  # a full-access key


def _set_cookie(request: Request, response: Response, token: str) -> None:
    setting = runtime_of(request).settings.web_cookie_secure
    secure = setting == "true" or (setting == "auto" and request.url.scheme == "https")
    response.set_cookie(
        SECURE_COOKIE if secure else PLAIN_COOKIE,
        token,
        max_age=int(lifetimes(runtime_of(request).settings).absolute.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def _clear_cookies(response: Response) -> None:
    response.delete_cookie(SECURE_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    response.delete_cookie(PLAIN_COOKIE, path="/", httponly=True, samesite="lax")


def _me_document(session: Any, user_id: str, account_id: str) -> dict[str, Any]:
    accounts = repository.memberships_of(session, user_id)
    user = session.get(User, user_id)
    role = next((m.role for m, _a in accounts if m.account_id == account_id), None)
    principal = principal_of(role, account_id, user_id) if role else None
    return {
        "data": {
            "type": "user",
            "id": user_id,
            "attributes": {
                "email": user.email if user else "",
                "name": user.name if user else "",
                "account_id": account_id,
                "role": role,
                "scopes": sorted(principal.scopes) if principal else [],
                "denied_operations": sorted(principal.denied) if principal else [],
                "accounts": [
                    {"id": a.id, "name": a.name, "role": m.role, "role_label": roles.ROLE_LABELS[m.role]}
                    for m, a in accounts
                ],
            },
        }
    }


@router.post("/session", operation_id=SIGN_IN.operation_id, status_code=201)
def sign_in(
    body: SignIn, request: Request, _text: Annotated[None, Depends(refuse_unstorable_text)] = None
) -> JSONAPIResponse:
    runtime = runtime_of(request)
    csrf.check(request.method, request.headers)
    rate_limit(runtime, "signin:" + (client_address(request.scope) or "-"), SIGN_IN_LIMIT)
    attrs = body.data.attributes
    times = lifetimes(runtime.settings)
    try:
        with runtime.db.write() as session:
            done = service.sign_in(
                session, attrs.email, attrs.password, times, old_token=cookie_token(request.cookies)
            )
            doc = _me_document(session, done.user.id, done.account_id)
    except AuthenticationFailed:
        with runtime.db.write() as session:  # the failure counts although the sign-in rolled back
            service.record_failure(session, attrs.email)
        raise
    response = JSONAPIResponse(doc, status_code=201)
    _set_cookie(request, response, done.token)
    return response


@router.delete("/session", operation_id=SIGN_OUT.operation_id, status_code=204)
def sign_out(request: Request) -> Response:
    token = cookie_token(request.cookies)
    response = Response(status_code=204)
    if token is not None:
        csrf.check(request.method, request.headers)
        with runtime_of(request).db.write() as session:
            service.sign_out(session, token)
    _clear_cookies(response)
    return response


@router.get("/me", operation_id=GET_ME.operation_id)
def get_me(ctx: ApiContext = api(GET_ME)) -> JSONAPIResponse:
    person = _person(ctx)
    return JSONAPIResponse(_me_document(ctx.session, person.user_id, person.account_id))


@router.post("/session/account", operation_id=SWITCH_ACCOUNT.operation_id)
def switch_account(body: SwitchAccount, ctx: ApiContext = api(SWITCH_ACCOUNT, write=True)) -> JSONAPIResponse:
    person = _person(ctx)
    token = cookie_token(ctx.request.cookies)
    if token is None:
        raise NotAuthenticated("Sign in first.")
    service.switch_account(ctx.session, token, body.data.id, lifetimes(ctx.runtime.settings))
    return JSONAPIResponse(_me_document(ctx.session, person.user_id, body.data.id))


@router.post("/invitations/accept", operation_id=ACCEPT_INVITATION.operation_id, status_code=201)
def accept_invitation(
    body: AcceptInvitation, request: Request, _text: Annotated[None, Depends(refuse_unstorable_text)] = None
) -> JSONAPIResponse:
    runtime = runtime_of(request)
    csrf.check(request.method, request.headers)
    rate_limit(runtime, "signin:" + (client_address(request.scope) or "-"), SIGN_IN_LIMIT)
    attrs = body.data.attributes
    with runtime.db.write() as session:
        done = service.accept(session, attrs.token, attrs.password, attrs.name, lifetimes(runtime.settings))
        doc = _me_document(session, done.user.id, done.account_id)
    response = JSONAPIResponse(doc, status_code=201)
    _set_cookie(request, response, done.token)
    return response


def _member(ctx: ApiContext, member: Any, user: Any) -> dict[str, Any]:
    return {
        "type": "user",
        "id": user.id,
        "attributes": {
            "email": user.email,
            "name": user.name,
            "role": member.role,
            "created": iso(member.created),
        },
        "links": {"self": ctx.urls.resource("x-tidings/app/users", user.id)},
    }


@router.get("/users", operation_id=GET_USERS.operation_id)
def get_users(ctx: ApiContext = api(GET_USERS)) -> JSONAPIResponse:
    rows = repository.members(ctx.session, ctx.account_id)
    return JSONAPIResponse(
        {"data": [_member(ctx, m, u) for m, u in rows], "links": {"self": ctx.urls.current()}}
    )


@router.patch("/users/{id}", operation_id=UPDATE_USER.operation_id)
def update_user(id: str, body: PatchUser, ctx: ApiContext = api(UPDATE_USER)) -> JSONAPIResponse:
    member = service.change_role(ctx.session, ctx.account_id, id, body.data.attributes.role, _actor_role(ctx))
    user = ctx.session.get(User, member.user_id)
    return JSONAPIResponse({"data": _member(ctx, member, user)})


@router.delete("/users/{id}", operation_id=DELETE_USER.operation_id, status_code=204)
def delete_user(id: str, ctx: ApiContext = api(DELETE_USER)) -> Response:
    service.remove_member(ctx.session, ctx.account_id, id, _actor_role(ctx))
    return Response(status_code=204)


def _invitation(ctx: ApiContext, inv: Any, token: str | None = None) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "email": inv.email,
        "role": inv.role,
        "created": iso(inv.created),
        "expires": iso(inv.expires),
    }
    if token is not None:  # shown once, when made
        attributes["token"] = token
        attributes["accept_path"] = f"/app/invitations/{token}"
    return {"type": "invitation", "id": inv.id, "attributes": attributes}


@router.get("/invitations", operation_id=GET_INVITATIONS.operation_id)
def get_invitations(ctx: ApiContext = api(GET_INVITATIONS)) -> JSONAPIResponse:
    found = repository.invitations(ctx.session, ctx.account_id)
    return JSONAPIResponse(
        {"data": [_invitation(ctx, i) for i in found], "links": {"self": ctx.urls.current()}}
    )


@router.post("/invitations", operation_id=CREATE_INVITATION.operation_id, status_code=201)
def create_invitation(body: CreateInvitation, ctx: ApiContext = api(CREATE_INVITATION)) -> JSONAPIResponse:
    attrs = body.data.attributes
    if attrs.role == "owner" and _actor_role(ctx) != "owner":
        raise PermissionDenied("Only an owner can invite an owner.")
    by = ctx.principal.user_id if isinstance(ctx.principal, UserPrincipal) else None
    inv, token = service.invite(ctx.session, ctx.account_id, attrs.email, attrs.role, by)
    return JSONAPIResponse({"data": _invitation(ctx, inv, token)}, status_code=201)


@router.delete("/invitations/{id}", operation_id=DELETE_INVITATION.operation_id, status_code=204)
def delete_invitation(id: str, ctx: ApiContext = api(DELETE_INVITATION)) -> Response:
    service.revoke_invitation(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.get("/api-keys", operation_id=GET_API_KEYS.operation_id)
def get_api_keys(ctx: ApiContext = api(GET_API_KEYS)) -> JSONAPIResponse:
    keys = accounts_service.active_keys(ctx.session, ctx.account_id)
    data = [
        {
            "type": "api-key",
            "id": key.id,
            "attributes": {
                "label": key.label,
                "prefix": key.key_prefix,
                "scopes": key.scopes,
                "created": iso(key.created),
            },
        }
        for key in keys
    ]
    return JSONAPIResponse({"data": data, "links": {"self": ctx.urls.current()}})


@router.get("/home", operation_id=GET_HOME.operation_id)
def get_home(ctx: ApiContext = api(GET_HOME)) -> JSONAPIResponse:
    attributes = {
        "events_per_day": summary.events_per_day(ctx.session, ctx.account_id),
        "queue": summary.queue_health(ctx.session, ctx.account_id),
    }
    return JSONAPIResponse({"data": {"type": "app-home", "id": ctx.account_id, "attributes": attributes}})
