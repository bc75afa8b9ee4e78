"""The recipient pages: unsubscribe, manage preferences, web view, double opt-in confirmation.

    GET  /p/unsubscribe?t=   a confirmation page; changes nothing (link scanners fetch URLs)
    POST /p/unsubscribe?t=   unsubscribes: RFC 8058 one-click (`List-Unsubscribe=One-Click`,
                             no cookies) or the page's button; idempotent
    GET  /p/preferences?t=   lists and channels, with a form; POST applies it
    GET  /p/web-view?t=      the HTML part of the email as sent, without the open pixel
    GET  /p/confirm?t=       double opt-in: a page with a button; POST confirms

A forged, altered or foreign token gets a page saying the link is not valid (400), a profile or
message that is gone one saying it is not available (404); never a 500. Every page is plain
HTML and CSS without script (page_render.py), and its forms post back to the same URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tidings.delivery import recipients
from tidings.delivery.page_render import PAGE_HEADERS, WEB_VIEW_HEADERS, render
from tidings.http import runtime_of
from tidings.templates.links import PAGES, LinkClaims, LinkSigner, instance_secret

MAX_FORM_BYTES = 64 * 1024
log = structlog.get_logger("tidings.delivery")

router = APIRouter(tags=["Recipient pages"], include_in_schema=False)


class PageError(Exception):
    def __init__(self, status: int, title: str, message: str) -> None:
        self.status, self.title, self.message = status, title, message


def _invalid() -> PageError:
    return PageError(
        400, "This link is not valid", "This link is not valid. It may have been cut short or altered."
    )


def _gone() -> PageError:
    return PageError(404, "Not available", "What this link points to is no longer available.")


def _page(name: str, context: dict[str, Any], status: int = 200, account_name: str = "") -> HTMLResponse:
    body = render(name, {"account_name": account_name, **context})
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


def _error(error: PageError) -> HTMLResponse:
    return _page(
        "message.html", {"title": error.title, "message": error.message, "error": True}, error.status
    )


def _claims(request: Request, session: Session, kind: str) -> LinkClaims:
    token = request.query_params.get("t")
    if not token or len(token) > 2048:
        raise _invalid()
    settings = runtime_of(request).settings
    signer = LinkSigner(instance_secret(session, settings.secret_key), settings.public_url)
    claims = signer.verify(token, kind)
    if claims is None or not claims.profile_id:
        raise _invalid()
    return claims


def _action(request: Request, kind: str) -> str:
    """The form's target: this page, with its token (relative, so it follows the host used)."""
    return f"{PAGES[kind]}?{request.url.query}"


Form = dict[str, list[str]]
Work = Callable[[Session, Form], Response]


async def _form(request: Request) -> Form:
    """A posted form (application/x-www-form-urlencoded; anything else reads as empty)."""
    if request.method != "POST":
        return {}
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise PageError(413, "Too large", "The form sent was too large.")
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=1000)
    except (UnicodeDecodeError, ValueError):
        return {}


async def _run(request: Request, work: Work) -> Response:
    """Run a page's work in one unit of work (a POST's is committed before the answer), off the
    event loop."""
    db = runtime_of(request).db
    try:
        form = await _form(request)
    except PageError as error:
        return _error(error)

    def run() -> Response:
        try:
            if request.method == "POST":
                with db.write() as session:
                    return work(session, form)
            with db.read() as session:
                return work(session, form)
        except PageError as error:
            return _error(error)
        except SQLAlchemyError:
            log.exception("pages.database_error", path=request.url.path)
            return _error(
                PageError(
                    503, "Try again later", "This page is not available right now. Please try again later."
                )
            )

    try:
        return await run_in_threadpool(run)
    except Exception:  # a recipient page never answers 500
        log.exception("pages.error", path=request.url.path)
        return _error(PageError(503, "Try again later", "Something went wrong. Please try again later."))


# ---------------------------------------------------------------------------- unsubscribe


@router.api_route("/p/unsubscribe", methods=["GET", "HEAD"])
async def unsubscribe_page(request: Request) -> Response:
    def work(session: Session, form: Form) -> Response:
        claims = _claims(request, session, "unsubscribe")
        who = recipients.person(session, claims)
        if who is None:
            raise _gone()
        return _page(
            "unsubscribe.html",
            {
                "title": "Unsubscribe",
                "email": who.email,
                "done": recipients.is_unsubscribed(session, who),
                "action": _action(request, "unsubscribe"),
                "preferences_url": _sibling(request, session, claims, "preferences"),
            },
            account_name=who.account_name,
        )

    return await _run(request, work)


@router.post("/p/unsubscribe")
async def unsubscribe(request: Request) -> Response:
    def work(session: Session, form: Form) -> Response:
        claims = _claims(request, session, "unsubscribe")
        # The page's form says `confirm`; anything else is a mail client's one-click POST (RFC 8058:
        # `List-Unsubscribe=One-Click`, form-encoded or multipart), and unsubscribes just the same.
        one_click = "confirm" not in form
        who = recipients.unsubscribe(session, claims, one_click=one_click)
        if who is None:
            raise _gone()
        return _page(
            "unsubscribe.html",
            {"title": "You are unsubscribed", "email": who.email, "done": True},
            account_name=who.account_name,
        )

    return await _run(request, work)


def _sibling(request: Request, session: Session, claims: LinkClaims, kind: str) -> str:
    settings = runtime_of(request).settings
    signer = LinkSigner(instance_secret(session, settings.secret_key), settings.public_url)
    token = signer.token(kind, claims.account_id, claims.profile_id, claims.message_id)
    return f"{PAGES[kind]}?{urlencode({'t': token})}"


# ---------------------------------------------------------------------------- preferences


def _preferences_page(request: Request, prefs: recipients.Preferences, saved: bool) -> HTMLResponse:
    who = prefs.person
    return _page(
        "preferences.html",
        {
            "title": "Manage preferences",
            "saved": saved,
            "email": who.email,
            "phone_number": who.phone_number,
            "email_marketing": prefs.email_marketing,
            "email_blocked": prefs.email_blocked,
            "sms_shown": bool(who.phone_number),
            "sms_marketing": prefs.sms_marketing,
            "lists": prefs.lists,
            "action": _action(request, "preferences"),
        },
        account_name=who.account_name,
    )


@router.api_route("/p/preferences", methods=["GET", "HEAD"])
async def preferences_page(request: Request) -> Response:
    def work(session: Session, form: Form) -> Response:
        prefs = recipients.preferences(session, _claims(request, session, "preferences"))
        if prefs is None:
            raise _gone()
        return _preferences_page(request, prefs, saved=False)

    return await _run(request, work)


@router.post("/p/preferences")
async def update_preferences(request: Request) -> Response:
    def work(session: Session, form: Form) -> Response:
        result = recipients.update_preferences(
            session,
            _claims(request, session, "preferences"),
            email_marketing=form.get("email_marketing") == ["on"],
            sms_marketing=form.get("sms_marketing") == ["on"],
            list_ids=set(form.get("list", [])),
        )
        if result is None:
            raise _gone()
        return _preferences_page(request, result[0], saved=True)

    return await _run(request, work)


# ---------------------------------------------------------------------------- web view


@router.api_route("/p/web-view", methods=["GET", "HEAD"])
async def web_view(request: Request) -> Response:
    def work(session: Session, form: Form) -> Response:
        content = recipients.web_view(session, _claims(request, session, "web-view"))
        if content is None:
            raise PageError(404, "Not available", "This message is not available to view online.")
        return HTMLResponse(content, headers=WEB_VIEW_HEADERS)

    return await _run(request, work)


# ---------------------------------------------------------------------------- double opt-in


def _confirm_page(request: Request, state: recipients.Confirmation) -> HTMLResponse:
    if not state.pending and not state.subscribed:
        raise PageError(
            404,
            "Link expired",
            "This confirmation link has expired or was already used. Subscribe again to get a new one.",
        )
    return _page(
        "confirm.html",
        {
            "title": "Subscription confirmed" if not state.pending else "Confirm your subscription",
            "done": not state.pending,
            "email": state.person.email,
            "list_name": state.list_name,
            "action": _action(request, "confirm"),
        },
        account_name=state.person.account_name,
    )


@router.api_route("/p/confirm", methods=["GET", "HEAD"])
async def confirm_page(request: Request) -> Response:
    def work(session: Session, form: Form) -> Response:
        state = recipients.confirmation(session, _claims(request, session, "confirm"))
        if state is None:
            raise _gone()
        return _confirm_page(request, state)

    return await _run(request, work)


@router.post("/p/confirm")
async def confirm(request: Request) -> Response:
    def work(session: Session, form: Form) -> Response:
        state = recipients.confirm(session, _claims(request, session, "confirm"))
        if state is None:
            raise _gone()
        return _confirm_page(request, state)

    return await _run(request, work)
