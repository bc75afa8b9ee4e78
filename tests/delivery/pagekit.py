"""Small factories for the recipient pages' tests: profiles, signed links, ledger rows, events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from tests.delivery.fakes import DOMAIN
from tidings.db.session import Database
from tidings.delivery import service
from tidings.delivery.mime import EmailParts, build_email
from tidings.delivery.tables import Channel
from tidings.events.tables import Event, Metric
from tidings.lists.tables import ListMember
from tidings.templates.links import LinkSigner, instance_secret


def make_profile(sdk: Any, email: str, phone_number: str | None = None) -> str:
    attributes: dict[str, Any] = {"email": email}
    if phone_number:
        attributes["phone_number"] = phone_number
    return str(sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": attributes}}).data.id)


def link(
    db: Database,
    kind: str,
    account_id: str,
    profile_id: str | None,
    message_id: str | None = None,
    *,
    list_id: str | None = None,
) -> str:
    """The page's path and query, as a message would carry it."""
    with db.read() as session:
        signer = LinkSigner(instance_secret(session, None))
        url = signer.url(kind, account_id, profile_id, message_id, list_id=list_id)
    return url.removeprefix(signer.base)


def email_marketing(sdk: Any, profile_id: str) -> Any:
    profile = sdk.Profiles.get_profile(profile_id, additional_fields_profile=["subscriptions"])
    return profile.data.attributes.subscriptions.email.marketing


def events(db: Database, account_id: str, profile_id: str, metric: str) -> list[dict[str, Any]]:
    with db.read() as session:
        rows = session.execute(
            select(Event.properties)
            .join(Metric, (Metric.account_id == Event.account_id) & (Metric.id == Event.metric_id))
            .where(Event.account_id == account_id, Event.profile_id == profile_id, Metric.name == metric)
        ).scalars()
        return [dict(p) for p in rows]


def is_member(db: Database, account_id: str, list_id: str, profile_id: str) -> bool:
    with db.read() as session:
        return session.get(ListMember, (account_id, list_id, profile_id)) is not None


def sent_email(
    db: Database, account_id: str, profile_id: str, html: str, *, context: dict[str, Any] | None = None
) -> str:
    """A ledger row as the worker leaves it after sending: its MIME bytes stored. Its send id."""
    with db.write() as session:
        planned = service.plan(
            session,
            account_id,
            source=service.ApiSource(f"pages-{profile_id}-{len(html)}"),
            profile_id=profile_id,
            channel=Channel.EMAIL,
            domain=DOMAIN,
        )
        row = planned.send
        row.content = build_email(
            EmailParts(
                message_id=row.message_id,
                from_email="news@shop.example.test",
                to_email="reader@example.test",
                subject="Hello",
                html=html,
                text="Hello in plain text",
                date=dt.datetime(2026, 12, 6, tzinfo=dt.UTC),
            )
        )
        row.status = "sent"
        row.context = context or {"$message": "MSG1", "Campaign Name": "Winter"}
        return row.id
