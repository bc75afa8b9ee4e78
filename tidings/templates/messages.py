"""Rendering one message for one recipient: the entry point campaigns and flows call.

    result = render_message(content, recipient, env_inputs)
    if isinstance(result, SkippedMessage): record "Skipped: <reason>" and send nothing
    else: send result.html / result.text / result.subject

Nothing is half-rendered: a `{% catalog ... unpublished="cancel" %}` item that is missing or
unpublished, in any part, skips the whole message; so does a render over its budget (its
parts share one: tidings/templates/limits.py), with the reason "template error: <limit> limit".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tidings.accounts.repository import get_account
from tidings.accounts.schemas import ContactInformation
from tidings.templates import service
from tidings.templates.context import (
    CatalogLookup,
    EventView,
    FeedLookup,
    Recommender,
    catalog_lookup,
    feed_lookup,
    message_context,
    recommender,
)
from tidings.templates.email import email_parts, plain_enough, text_template
from tidings.templates.engine import MessageSkipped, RenderError, compile_cached
from tidings.templates.limits import DEFAULT_LIMITS, RenderLimits, shared_budget
from tidings.templates.links import LinkBuilder, LinkSigner
from tidings.templates.sandbox import RenderEnv


@dataclass(frozen=True)
class MessageContent:
    """The template parts of a message; each is Django template source."""

    html: str
    text: str | None = None
    amp: str | None = None
    subject: str | None = None
    preview_text: str | None = None


@dataclass(frozen=True)
class Recipient:
    account_id: str
    profile: Mapping[str, Any]  # Klaviyo's profile attributes plus "id"
    event: EventView | Mapping[str, Any] | None = None
    message_id: str | None = None  # the send's id, carried in the signed links


@dataclass(frozen=True)
class AccountView:
    contact_information: ContactInformation
    timezone: str = "UTC"
    currency: str = "USD"
    locale: str = "en_US"


@dataclass(frozen=True)
class RenderedMessage:
    html: str
    text: str
    amp: str | None
    subject: str | None
    preview_text: str | None


@dataclass(frozen=True)
class SkippedMessage:
    reason: str  # e.g. "Catalog Item Unavailable", "template error: output limit"
    detail: str | None = None  # what went over the limit, for the send's log


def _render_env(
    recipient: Recipient,
    account: AccountView,
    signer: LinkSigner,
    catalog: CatalogLookup | None,
    universal: Callable[[str], Any] | None,
    coupon: Callable[[str], str] | None = None,
    recommend: Recommender | None = None,
) -> tuple[LinkBuilder, RenderEnv]:
    links = LinkBuilder(
        signer, recipient.account_id, str(recipient.profile.get("id") or "") or None, recipient.message_id
    )
    env = RenderEnv(
        universal=universal,
        catalog=catalog,
        recommend=recommend,
        coupon=coupon,
        links=links,
        currency=account.currency,
        locale=account.locale.replace("-", "_"),
        timezone=account.timezone,
    )
    return links, env


def _render_parts(
    parts: Mapping[str, tuple[str | None, bool]],
    recipient: Recipient,
    account: AccountView,
    env: RenderEnv,
    now: dt.datetime | None,
    limits: RenderLimits,
    feeds: FeedLookup | None = None,
) -> dict[str, str | None] | SkippedMessage:
    """Each part (name -> (source, autoescape)) rendered within one shared budget."""
    context = message_context(
        recipient.profile,
        recipient.event,
        account.contact_information,
        timezone=account.timezone,
        now=now,
        feeds=feeds,
    )
    out: dict[str, str | None] = {}
    try:
        with shared_budget(limits):
            for name, (source, autoescape) in parts.items():
                out[name] = (
                    None
                    if source is None
                    else compile_cached(source).render(context, env=env, autoescape=autoescape)
                )
    except MessageSkipped as skipped:
        return SkippedMessage(skipped.reason)
    except RenderError as error:
        if error.limit is None:
            raise
        return SkippedMessage(f"template error: {error.limit} limit", detail=str(error))
    return out


def render_message(
    content: MessageContent,
    recipient: Recipient,
    account: AccountView,
    *,
    signer: LinkSigner,
    catalog: CatalogLookup | None = None,
    universal: Callable[[str], Any] | None = None,
    coupon: Callable[[str], str] | None = None,
    recommend: Recommender | None = None,
    marketing: bool = True,
    now: dt.datetime | None = None,
    limits: RenderLimits = DEFAULT_LIMITS,
    feeds: FeedLookup | None = None,
) -> RenderedMessage | SkippedMessage:
    """Render every part for one recipient, within one budget.

    A render over its budget skips the message; other RenderErrors and TemplateError propagate.
    """
    links, env = _render_env(recipient, account, signer, catalog, universal, coupon, recommend)
    derived = text_template(content.html) if content.text is None and content.html else None
    parts = _render_parts(
        {
            "html": (content.html, True),
            "text": (content.text if content.text is not None else derived, False),
            "amp": (content.amp, True),
            "subject": (content.subject, False),
            "preview": (content.preview_text, False),
        },
        recipient,
        account,
        env,
        now,
        limits,
        feeds,
    )
    if isinstance(parts, SkippedMessage):
        return parts
    if derived is not None and not plain_enough(parts["text"] or ""):
        parts["text"] = None  # markup came in through a value: convert the rendered HTML instead
    html, text_part = email_parts(
        parts["html"] or "", parts["text"], unsubscribe_url=links.unsubscribe(), marketing=marketing
    )
    return RenderedMessage(
        html=html, text=text_part, amp=parts["amp"], subject=parts["subject"], preview_text=parts["preview"]
    )


def render_plain(
    parts: Mapping[str, str | None],
    recipient: Recipient,
    account: AccountView,
    *,
    signer: LinkSigner,
    catalog: CatalogLookup | None = None,
    universal: Callable[[str], Any] | None = None,
    coupon: Callable[[str], str] | None = None,
    recommend: Recommender | None = None,
    now: dt.datetime | None = None,
    limits: RenderLimits = DEFAULT_LIMITS,
    feeds: FeedLookup | None = None,
) -> dict[str, str | None] | SkippedMessage:
    """Plain-text parts (an SMS body, a push title and body) rendered for one recipient, without
    HTML escaping or any of an email's additions, within one budget."""
    _links, env = _render_env(recipient, account, signer, catalog, universal, coupon, recommend)
    return _render_parts(
        {name: (source, False) for name, source in parts.items()}, recipient, account, env, now, limits, feeds
    )


def account_view(session: Session, account_id: str) -> AccountView:
    account = get_account(session, account_id)
    if account is None:
        raise LookupError(f"No account {account_id!r}.")
    return AccountView(
        contact_information=ContactInformation.model_validate(account.contact_information or {}),
        timezone=account.timezone,
        currency=account.preferred_currency,
        locale=account.locale.replace("-", "_"),
    )


def render_template_message(
    session: Session,
    template_id: str,
    recipient: Recipient,
    *,
    secret_key: str | None,
    public_url: str | None,
    subject: str | None = None,
    preview_text: str | None = None,
    marketing: bool = True,
    catalog: CatalogLookup | None = None,
    limits: RenderLimits = DEFAULT_LIMITS,
) -> RenderedMessage | SkippedMessage:
    """A stored template rendered for one recipient, with the account's data and catalog."""
    template = service.get_template(session, recipient.account_id, template_id)
    content = MessageContent(
        html=template.html, text=template.text, amp=template.amp, subject=subject, preview_text=preview_text
    )
    return render_message(
        content,
        recipient,
        account_view(session, recipient.account_id),
        signer=service.link_signer(session, secret_key, public_url),
        catalog=catalog if catalog is not None else catalog_lookup(session, recipient.account_id),
        universal=service.universal_resolver(session, recipient.account_id),
        recommend=recommender(session, recipient.account_id),
        marketing=marketing,
        limits=limits,
        feeds=feed_lookup(session, recipient.account_id),
    )
