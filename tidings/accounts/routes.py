"""GET /api/accounts and GET /api/accounts/{id}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tidings.accounts import service
from tidings.accounts.tables import Account
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, resource, single

router = APIRouter(prefix="/api", tags=["Accounts"])


def account_resource(ctx: ApiContext, account: Account) -> dict[str, Any]:
    return resource(
        "account",
        account.id,
        service.account_attributes(account),
        ctx.urls.resource("accounts", account.id),
        fields=ctx.params.fields.get("account"),
    )


@router.get("/accounts", operation_id="get_accounts")
def get_accounts(ctx: ApiContext = api("get_accounts")) -> JSONAPIResponse:
    account = service.get_own_account(ctx.session, ctx.account_id, ctx.account_id)
    return JSONAPIResponse(collection([account_resource(ctx, account)], ctx.urls))


@router.get("/accounts/{id}", operation_id="get_account")
def get_account(id: str, ctx: ApiContext = api("get_account")) -> JSONAPIResponse:
    account = service.get_own_account(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single(account_resource(ctx, account), ctx.urls.current()))
