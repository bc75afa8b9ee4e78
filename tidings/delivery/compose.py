"""Rendering a ledger row into the bytes its provider is given: once per row, at its first claim.

    email: the template for the recipient → links tracked → MIME (Message-ID of the row,
           List-Unsubscribe for marketing) → DKIM-signed when the account has a key for the
           From domain; the recipient is the profile's address, the sender the return path;
    sms:   the body rendered as plain text; the recipient is the profile's phone number;
    push:  title and body rendered, as JSON (`PushPayload`); the recipient is the profile's
           newest enabled device token, the sender its platform.

A template that fails for one recipient skips that row with the reason ("Email Syntax Error",
"Catalog Item Unavailable"); the batch goes on. A `Composer` lives for one claim batch and
keeps what its rows share (the account, the link signer, compiled templates).
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.accounts.repository import get_account
from tidings.config import Settings
from tidings.coupons import service as coupons
from tidings.db.base import utcnow
from tidings.delivery import dkim, tracking, tracking_settings, verp
from tidings.delivery.messages import EmailDefinition, MessageDefinition, PushDefinition, PushPayload
from tidings.delivery.mime import EmailParts, build_email, clean_header
from tidings.delivery.service import Rendered, Skip, SkipReason
from tidings.delivery.tables import MessageSend, SourceKind
from tidings.jsonapi.errors import NotFound
from tidings.profiles.tables import PushToken
from tidings.templates import service as templates
from tidings.templates.context import (
    CatalogLookup,
    EventView,
    FeedLookup,
    Recommender,
    catalog_lookup,
    feed_lookup,
    recommender,
)
from tidings.templates.errors import MessageSkipped, RenderError, TemplateError
from tidings.templates.limits import RenderLimits
from tidings.templates.links import LinkSigner, instance_secret
from tidings.templates.messages import (
    AccountView,
    MessageContent,
    Recipient,
    RenderedMessage,
    SkippedMessage,
    account_view,
    render_message,
    render_plain,
)
from tidings.templates.recipients import recipient as load_recipient
from tidings.templates.recipients import recipients as load_recipients
from tidings.templates.tables import Template

UTM_KIND: dict[str, Literal["campaign", "flow"]] = {
    SourceKind.CAMPAIGN_MESSAGE: "campaign",
    SourceKind.FLOW_ACTION: "flow",
}
MAX_EMAIL_BYTES = 10 * 1024 * 1024  # what relays commonly accept; a larger message is skipped
ENABLED_PUSH = ("AUTHORIZED", "PROVISIONAL")
CATALOG_SKIP = "Catalog Item Unavailable"
COUPON_SKIP = "Coupon Unavailable"


class Composer:
    """Renders the rows of one claim batch; `definitions` maps a row id to its definition."""

    def __init__(
        self, session: Session, settings: Settings, definitions: Mapping[str, MessageDefinition]
    ) -> None:
        self.session = session
        self.settings = settings
        self.definitions = definitions
        self.limits = RenderLimits.from_settings(settings)
        self._signer: LinkSigner | None = None
        self._accounts: dict[str, AccountView] = {}
        self._senders: dict[str, tuple[str, str]] = {}
        self._catalogs: dict[str, CatalogLookup] = {}
        self._feeds: dict[str, FeedLookup] = {}
        self._recommenders: dict[str, Recommender] = {}
        self._universal: dict[str, Callable[[str], Any]] = {}
        self._templates: dict[tuple[str, str], Template | None] = {}
        self._recipients: dict[str | None, Recipient] = {}
        self._tracking: dict[str, dict[str, Any]] = {}
        self._tracking_signer: tracking.TrackingSigner | None = None
        self._coupons_handed: set[str] = set()  # rows that took a coupon code

    def prefetch(self, rows: Sequence[MessageSend]) -> None:
        """Load the recipients of the rows about to be rendered, a few queries per account."""
        by_account: dict[str, list[tuple[str, str | None, str | None]]] = defaultdict(list)
        for row in rows:
            by_account[row.account_id].append((row.profile_id, row.event_id, row.id))
        for account_id, wanted in by_account.items():
            self._recipients.update(load_recipients(self.session, account_id, wanted))

    def __call__(self, row: MessageSend) -> Rendered | Skip:
        definition = self.definitions.get(row.id)
        if definition is None:
            return Skip(SkipReason.EMAIL_CANCELLED, "the message no longer exists")
        recipient = self._recipients.get(row.id)
        if recipient is None:
            try:
                recipient = load_recipient(
                    self.session, row.account_id, row.profile_id, event_id=row.event_id, message_id=row.id
                )
            except NotFound:
                return Skip(SkipReason.PERSON_DELETED)
        if definition.event_properties is not None:
            recipient = dataclasses.replace(recipient, event=_handed_event(recipient.event, definition))
        result: Rendered | Skip
        try:
            if isinstance(definition, EmailDefinition):
                result = self._email(row, definition, recipient)
            elif isinstance(definition, PushDefinition):
                result = self._push(row, definition, recipient)
            else:
                result = self._sms(row, definition.body, recipient, definition.context)
        except (TemplateError, RenderError) as error:
            result = Skip(SkipReason.TEMPLATE_ERROR, str(error)[:500])
        if isinstance(result, Skip) and row.id in self._coupons_handed:
            coupons.give_back(self.session, row.account_id, row.id)  # not sent: the codes go back
        return result

    def coupon(self, row: MessageSend) -> Callable[[str], str]:
        """`{% coupon_code %}` for this message: its own code of each coupon, taken once."""

        def issue(coupon_id: str) -> str:
            try:
                code = coupons.hand_out(
                    self.session, row.account_id, coupon_id, row.profile_id, row.id, utcnow()
                )
            except (coupons.CouponsExhausted, coupons.UnknownCoupon) as error:
                raise MessageSkipped(COUPON_SKIP) from error
            self._coupons_handed.add(row.id)
            return code

        return issue

    # ------------------------------------------------------------------ shared

    @property
    def signer(self) -> LinkSigner:
        if self._signer is None:
            secret = instance_secret(self.session, self.settings.secret_key)
            self._signer = _BatchLinkSigner(secret, self.settings.public_url)
        return self._signer

    def account(self, account_id: str) -> AccountView:
        if account_id not in self._accounts:
            self._accounts[account_id] = account_view(self.session, account_id)
        return self._accounts[account_id]

    def universal(self, account_id: str) -> Callable[[str], Any]:
        """The account's universal content, each block looked up once per batch, not per message."""
        if account_id not in self._universal:
            self._universal[account_id] = templates.universal_resolver(self.session, account_id)
        return self._universal[account_id]

    def catalog(self, account_id: str) -> CatalogLookup:
        if account_id not in self._catalogs:
            self._catalogs[account_id] = catalog_lookup(self.session, account_id)
        return self._catalogs[account_id]

    def feeds(self, account_id: str) -> FeedLookup:
        """The account's web feeds, each read from the database once per batch (never fetched)."""
        if account_id not in self._feeds:
            self._feeds[account_id] = feed_lookup(self.session, account_id)
        return self._feeds[account_id]

    def recommend(self, account_id: str) -> Recommender:
        """`{% recommended_products %}`: one query per person of the batch, items in three."""
        if account_id not in self._recommenders:
            self._recommenders[account_id] = recommender(self.session, account_id)
        return self._recommenders[account_id]

    def _tracked(self, row: MessageSend, definition: EmailDefinition, html: str) -> str:
        """Links made trackable and the open pixel added, as the message asks; UTM parameters
        from the account's tracking settings for campaign and flow messages."""
        kind = UTM_KIND.get(row.source_kind)
        utm = None
        if kind is not None:
            if row.account_id not in self._tracking:
                self._tracking[row.account_id] = tracking_settings.get_settings(self.session, row.account_id)
            values = {"profile_id": row.profile_id, **definition.utm_values}
            utm = tracking_settings.utm_parameters(
                self._tracking[row.account_id],
                kind=kind,
                values=values,
                enabled=definition.add_tracking_params,
            )
        if not (definition.track_opens or definition.track_clicks or utm):
            return html
        if self._tracking_signer is None:
            self._tracking_signer = tracking.signer_for(self.session, self.settings)
        links = tracking.TrackingLinks(self._tracking_signer, row.account_id, row.id)
        return tracking.instrument(
            html, links=links, opens=definition.track_opens, clicks=definition.track_clicks, utm=utm
        )

    def return_path(self, row: MessageSend, from_email: str) -> str:
        """The envelope sender: a VERP address naming the send when TIDINGS_BOUNCE_DOMAIN is
        set (a bounce then finds its send even when the report is mangled), else From."""
        if not self.settings.bounce_domain:
            return from_email
        secret = instance_secret(self.session, self.settings.secret_key)
        return verp.return_path(row.account_id, row.id, secret, domain=self.settings.bounce_domain)

    def template(self, account_id: str, template_id: str) -> Template | None:
        key = (account_id, template_id)
        if key not in self._templates:
            try:
                self._templates[key] = templates.get_template(self.session, account_id, template_id)
            except NotFound:
                self._templates[key] = None
        return self._templates[key]

    def default_sender(self, account_id: str) -> tuple[str, str]:
        """The account's default From address and name (its contact information)."""
        if account_id not in self._senders:
            account = get_account(self.session, account_id)
            contact = (account.contact_information or {}) if account is not None else {}
            email = str(contact.get("default_sender_email") or "") or self.settings.default_from_email
            name = str(contact.get("default_sender_name") or "") or (account.name if account else "")
            self._senders[account_id] = (email, name)
        return self._senders[account_id]

    @staticmethod
    def _skipped(result: SkippedMessage) -> Skip:
        if result.reason == CATALOG_SKIP:
            return Skip(SkipReason.CATALOG_ITEM_UNAVAILABLE, result.detail)
        if result.reason == COUPON_SKIP:
            return Skip(SkipReason.COUPON_UNAVAILABLE, "no unassigned, unexpired code of the coupon is left")
        return Skip(SkipReason.TEMPLATE_ERROR, result.detail or result.reason)

    # ------------------------------------------------------------------ email

    def _email(self, row: MessageSend, definition: EmailDefinition, recipient: Any) -> Rendered | Skip:
        address = recipient.profile.get("email")
        if not address:
            return Skip(SkipReason.MISSING_EMAIL)
        if definition.template_id is None and not definition.html:
            return Skip(SkipReason.MESSAGE_DRAFT, "the message has no content (no template, no html)")
        marketing = not definition.transactional
        result = self._render_email(row, definition, recipient, marketing)
        if isinstance(result, SkippedMessage):
            return self._skipped(result)
        from_email, from_name = self.default_sender(row.account_id)
        from_email = definition.from_email or from_email
        from_name = definition.from_label if definition.from_label is not None else from_name
        html = self._tracked(row, definition, _with_preview(result.html, result.preview_text))
        unsubscribe = (
            self.signer.url("unsubscribe", row.account_id, row.profile_id, row.id) if marketing else None
        )
        subject = clean_header(result.subject or definition.subject or "")
        try:
            content = build_email(
                EmailParts(
                    message_id=row.message_id,
                    from_email=from_email,
                    from_name=from_name or None,
                    to_email=str(address),
                    reply_to=definition.reply_to_email,
                    subject=subject,
                    html=html,
                    text=result.text,
                    date=row.created,
                    list_unsubscribe_url=unsubscribe,
                    headers={
                        "X-Tidings-Send-Id": row.id,
                        "Feedback-ID": f"{row.source_id or row.source_kind}:{row.account_id}:tidings",
                    },
                )
            )
        except (ValueError, IndexError) as error:  # an address the email package cannot write
            return Skip(SkipReason.MISSING_EMAIL, f"invalid address: {error}"[:500])
        signer = dkim.signer_for(self.session, row.account_id, from_email.rpartition("@")[2])
        if signer is not None:  # the account has a key for the From domain (tidings dkim create)
            content = signer.sign(content)
        if len(content) > MAX_EMAIL_BYTES:
            return Skip(SkipReason.TEMPLATE_ERROR, f"message too large: {len(content)} bytes")
        context = {
            **definition.context,
            "Subject": subject,
            "Email Domain": str(address).rpartition("@")[2].lower(),
        }
        return Rendered(
            content, recipient=str(address), sender=self.return_path(row, from_email), context=context
        )

    def _render_email(
        self, row: MessageSend, definition: EmailDefinition, recipient: Any, marketing: bool
    ) -> RenderedMessage | SkippedMessage:
        if definition.template_id is not None:
            template = self.template(row.account_id, definition.template_id)
            if template is None:
                return SkippedMessage("template error", f"template {definition.template_id} not found")
            content = MessageContent(
                html=template.html or "",
                text=template.text,
                amp=template.amp,
                subject=definition.subject,
                preview_text=definition.preview_text,
            )
        else:
            content = MessageContent(
                html=definition.html or "",
                text=definition.text,
                subject=definition.subject,
                preview_text=definition.preview_text,
            )
        return render_message(
            content,
            recipient,
            self.account(row.account_id),
            signer=self.signer,
            catalog=self.catalog(row.account_id),
            universal=self.universal(row.account_id),
            coupon=self.coupon(row),
            recommend=self.recommend(row.account_id),
            marketing=marketing,
            limits=self.limits,
            feeds=self.feeds(row.account_id),
        )

    # ------------------------------------------------------------------ sms and push

    def _plain(
        self, row: MessageSend, parts: Mapping[str, str | None], recipient: Any
    ) -> dict[str, Any] | Skip:
        result = render_plain(
            parts,
            recipient,
            self.account(row.account_id),
            signer=self.signer,
            catalog=self.catalog(row.account_id),
            universal=self.universal(row.account_id),
            coupon=self.coupon(row),
            recommend=self.recommend(row.account_id),
            limits=self.limits,
            feeds=self.feeds(row.account_id),
        )
        if isinstance(result, SkippedMessage):
            return self._skipped(result)
        return result

    def _sms(
        self, row: MessageSend, body: str, recipient: Any, context: Mapping[str, Any]
    ) -> Rendered | Skip:
        phone = recipient.profile.get("phone_number")
        if not phone:
            return Skip(SkipReason.MISSING_PHONE_NUMBER)
        parts = self._plain(row, {"body": body}, recipient)
        if isinstance(parts, Skip):
            return parts
        text = (parts["body"] or "").strip()
        if not text:
            return Skip(SkipReason.TEMPLATE_ERROR, "the message is empty")
        return Rendered(text.encode(), recipient=str(phone), context=dict(context))

    def _push(self, row: MessageSend, definition: PushDefinition, recipient: Any) -> Rendered | Skip:
        token = self.session.execute(
            select(PushToken.token, PushToken.platform)
            .where(
                PushToken.account_id == row.account_id,
                PushToken.profile_id == row.profile_id,
                PushToken.enablement_status.in_(ENABLED_PUSH),
            )
            .order_by(PushToken.recorded_date.desc(), PushToken.id.desc())
            .limit(1)
        ).first()
        if token is None:
            return Skip(SkipReason.MISSING_PUSH_TOKEN)
        parts = self._plain(row, {"title": definition.title, "body": definition.body}, recipient)
        if isinstance(parts, Skip):
            return parts
        payload = PushPayload(
            title=parts["title"],
            body=parts["body"] or "",
            data=definition.data,
            sound=definition.sound,
            badge=definition.badge,
        )
        content = json.dumps(payload.model_dump(exclude_none=True), separators=(",", ":")).encode()
        return Rendered(
            content, recipient=token.token, sender=token.platform, context=dict(definition.context)
        )


class _BatchLinkSigner(LinkSigner):
    """A claim batch's link signer: a link asked for twice for one message (the unsubscribe link
    of the footer and of `List-Unsubscribe`) is signed once."""

    def __init__(self, secret: str, public_url: str | None) -> None:
        super().__init__(secret, public_url)
        self._urls: dict[tuple[str, str, str | None, str | None, str | None], str] = {}

    def url(
        self,
        kind: str,
        account_id: str,
        profile_id: str | None,
        message_id: str | None,
        *,
        list_id: str | None = None,
    ) -> str:
        key = (kind, account_id, profile_id, message_id, list_id)
        found = self._urls.get(key)
        if found is None:
            found = self._urls[key] = super().url(kind, account_id, profile_id, message_id, list_id=list_id)
        return found


def _with_preview(html: str, preview: str | None) -> str:
    """The preview text as the hidden first text of the body, where mail clients read it."""
    if not preview:
        return html
    hidden = f'<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">{_escape(preview)}</div>'
    lower = html.lower()
    at = lower.find("<body")
    if at >= 0:
        end = html.find(">", at)
        if end >= 0:
            return html[: end + 1] + hidden + html[end + 1 :]
    return hidden + html


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _handed_event(stored: Any, definition: MessageDefinition) -> EventView:
    """The event the source handed over (`event_properties`), keeping what the row's stored
    event says of itself (metric, time, value, id) when there is one."""
    properties = dict(definition.event_properties or {})
    if isinstance(stored, EventView):
        return dataclasses.replace(stored, properties=properties)
    return EventView(properties=properties)
