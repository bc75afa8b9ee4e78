"""Subscription endpoints: bulk subscribe and unsubscribe (202, applied by a job), and
/client/subscriptions (202, applied at once)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from tidings.consent import bulk
from tidings.consent.schemas import BulkSubscribeQuery, BulkUnsubscribeQuery, ClientSubscriptionQuery, dump
from tidings.http import ApiContext, ClientContext, api, client
from tidings.jobs import queue
from tidings.profiles import service as profiles
from tidings.profiles.identity import Source
from tidings.profiles.schemas import sent

router = APIRouter(prefix="/api", tags=["Profiles"])
client_router = APIRouter(prefix="/client", tags=["Client"])
ACCEPTED = 202


@router.post(
    "/profile-subscription-bulk-create-jobs", operation_id="bulk_subscribe_profiles", status_code=ACCEPTED
)
def bulk_subscribe_profiles(
    document: BulkSubscribeQuery = Body(...), ctx: ApiContext = api("bulk_subscribe_profiles")
) -> Response:
    data = document.data
    relationships = data.relationships
    payload = bulk.check_subscribe(
        ctx.session,
        ctx.account_id,
        [dump(p) for p in data.attributes.profiles.data],
        list_id=relationships.list.data.id if relationships and relationships.list else None,
        custom_source=data.attributes.custom_source,
        historical_import=bool(data.attributes.historical_import),
    )
    queue.enqueue(ctx.session, "consent.bulk_subscribe", payload, account_id=ctx.account_id)
    return Response(status_code=ACCEPTED)


@router.post(
    "/profile-subscription-bulk-delete-jobs", operation_id="bulk_unsubscribe_profiles", status_code=ACCEPTED
)
def bulk_unsubscribe_profiles(
    document: BulkUnsubscribeQuery = Body(...), ctx: ApiContext = api("bulk_unsubscribe_profiles")
) -> Response:
    data = document.data
    relationships = data.relationships
    payload = bulk.check_unsubscribe(
        ctx.session,
        ctx.account_id,
        [dump(p) for p in data.attributes.profiles.data],
        list_id=relationships.list.data.id if relationships and relationships.list else None,
    )
    queue.enqueue(ctx.session, "consent.bulk_unsubscribe", payload, account_id=ctx.account_id)
    return Response(status_code=ACCEPTED)


@client_router.post("/subscriptions", operation_id="create_client_subscription", status_code=ACCEPTED)
def create_client_subscription(
    document: ClientSubscriptionQuery = Body(...), ctx: ClientContext = client("create_client_subscription")
) -> Response:
    data = document.data
    block = data.attributes.profile.data
    attributes = sent(block.attributes)
    subscriptions = attributes.pop("subscriptions", None)
    attributes.pop("age_gated_date_of_birth", None)
    # The profile block is an upsert (a public key never changes identifiers), then the consent.
    result = profiles.resolve_block(
        ctx.session,
        ctx.account.id,
        attributes,
        profile_id=block.id,
        meta=sent(block.meta) if block.meta else None,
        source=Source.CLIENT,
        pointer="/data/attributes/profile/data/attributes",
    )
    wanted: dict[str, Any] = {
        k: attributes[k] for k in ("email", "phone_number") if attributes.get(k) is not None
    }
    if subscriptions is not None:
        wanted["subscriptions"] = dump(block.attributes.subscriptions)
    item = {"type": "profile", "id": result.profile_id, "attributes": wanted}
    payload = bulk.check_subscribe(
        ctx.session,
        ctx.account.id,
        [item],
        list_id=data.relationships.list.data.id,
        custom_source=data.attributes.custom_source,
        historical_import=False,
    )
    bulk.apply_subscribe(ctx.session, ctx.account.id, payload, client=True)
    return Response(status_code=ACCEPTED)
