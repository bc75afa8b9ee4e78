"""The double opt-in confirmation email: delivery's listener on `consent.hooks.DOUBLE_OPTIN_REQUESTED`.

Subscribing through a double opt-in list leaves consent pending; in that same transaction this
listener plans a transactional email to the profile (so it is sent if and only if the request
committed) with a built-in template: Klaviyo's subject "Confirm your subscription", the account's
name, and a button to `/p/confirm?t=...`, a signed link carrying the account, the profile and the
list. That page asks for one press (a POST) before it confirms: mail scanners fetch every link in
a message, and a GET that confirmed would subscribe people who never read it.

The send's key is `doi:{list_id}:{profile_id}:{hour}` (hours since the epoch, UTC): a retried or
repeated request within the hour plans nothing new, and a request in a later hour sends a fresh
email. At most one confirmation per list, profile and clock hour also keeps a form from being used
to flood someone's inbox with confirmation emails.
"""

from __future__ import annotations

import datetime as dt
import re

import structlog
from sqlalchemy.orm import Session

from tidings.accounts.repository import get_account
from tidings.config import get_settings
from tidings.db.base import utcnow
from tidings.delivery import transactional
from tidings.delivery.messages import EmailDefinition
from tidings.delivery.page_render import render
from tidings.jsonapi.errors import Conflict
from tidings.lists.tables import List
from tidings.templates.links import LinkSigner, instance_secret

SUBJECT = "Confirm your subscription"
WINDOW_SECONDS = 3600
MESSAGE_NAME = "Double Opt-In Confirmation"

log = structlog.get_logger("tidings.delivery")


def confirmation_key(list_id: str | None, profile_id: str, now: dt.datetime) -> str:
    return f"doi:{list_id or '-'}:{profile_id}:{int(now.timestamp()) // WINDOW_SECONDS}"


def _literal(text: str) -> str:
    """Text that Klaviyo's template language (the renderer of every email) renders as itself."""
    return re.sub(
        r"[{}]",
        lambda m: "{% templatetag openbrace %}" if m.group() == "{" else "{% templatetag closebrace %}",
        text,
    )


def confirmation_email(url: str, account_name: str, list_name: str | None) -> EmailDefinition:
    """The built-in template (page_templates/doi_email.html), with the link and names written
    in as literal text for the message renderer."""
    name = account_name or "us"
    what = f"{name} ({list_name})" if list_name else name
    body = render("doi_email.html", {"subject": SUBJECT, "sender": name, "list_name": list_name, "url": url})
    text = (
        f"{SUBJECT}\n\nYou asked to receive email from {what}. Confirm your subscription here:\n\n{url}\n\n"
        "If you did not ask for this, ignore this email: you will not be subscribed.\n"
    )
    return EmailDefinition(
        transactional=True,  # the person has not consented to marketing yet; this is the request
        smart_sending=False,
        subject=SUBJECT,
        html=_literal(body),
        text=_literal(text),
        track_opens=False,
        track_clicks=False,  # the link goes straight to the confirmation page
        context={"$message": MESSAGE_NAME, "Subject": SUBJECT},
    )


def request_confirmation(session: Session, account_id: str, profile_id: str, list_id: str | None) -> None:
    """Plan the confirmation email of one pending subscription, in the subscribing transaction."""
    settings = get_settings()
    signer = LinkSigner(instance_secret(session, settings.secret_key), settings.public_url)
    url = signer.url("confirm", account_id, profile_id, None, list_id=list_id)
    account = get_account(session, account_id)
    found = session.get(List, (account_id, list_id)) if list_id else None
    definition = confirmation_email(url, account.name if account else "", found.name if found else None)
    try:
        transactional.send_message(
            session,
            account_id,
            profile_id=profile_id,
            definition=definition,
            key=confirmation_key(list_id, profile_id, utcnow()),
            default_from=settings.default_from_email,
        )
    except Conflict:
        # This hour's email went out before the account or the list was renamed: it stands.
        log.info("delivery.doi_already_sent", account=account_id, profile=profile_id, list=list_id)
