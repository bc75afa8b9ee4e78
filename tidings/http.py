"""HTTP plumbing shared by every domain's routes: the per-operation request context.

`api("get_profiles")` is a dependency that authenticates the private key, checks the
revision header, the operation's scopes and rate limit, parses the query parameters the
operation allows, and opens the unit of work, which commits before the response is sent.
Its signature declares the operation's query parameters so the app's own OpenAPI document
describes them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.types import Scope

from tidings.jsonapi.documents import Urls
from tidings.jsonapi.errors import Throttled
from tidings.jsonapi.filters import FilterField, compile_filter
from tidings.jsonapi.hosts import link_base
from tidings.jsonapi.pagination import Page, paginate
from tidings.jsonapi.params import QueryParams, parse_query
from tidings.jsonapi.revision import check_revision
from tidings.jsonapi.spec import Operation, operation
from tidings.jsonapi.text import refuse_unstorable_text
from tidings.runtime import Principal, Runtime

T = TypeVar("T")
log = structlog.get_logger("tidings.http")


@dataclass
class ApiContext:
    request: Request
    session: Session
    account_id: str
    op: Operation
    params: QueryParams
    urls: Urls
    revision: dt.date
    runtime: Runtime
    principal: Any = None  # who: a key's principal, or a signed-in person's (the web app)

    def page(
        self,
        stmt: Select[Any],
        *,
        sort_column: Any,
        id_column: Any,
        filters: dict[str, FilterField] | None = None,
        descending: bool | None = None,
        key_of: Any = None,
    ) -> Page:
        """One page of `stmt` as the request asks: its `filter` (over `filters`), its sort's
        direction (unless `descending` says), its page size and cursor."""
        if filters is not None and self.params.filter is not None:
            stmt = stmt.where(compile_filter(self.params.filter, filters))
        return paginate(
            self.session,
            stmt,
            operation=self.op.operation_id,
            sort_column=sort_column,
            id_column=id_column,
            descending=self.params.descending if descending is None else descending,
            size=self.params.page_size,
            cursor=self.params.cursor,
            sort=self.params.sort,
            filter_text=self.params.filter_text,
            key_of=key_of,
        )


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def client_address(scope: Scope) -> str | None:
    """The caller's address: the connection's, or its X-Forwarded-For when the connection comes
    from a proxy uvicorn trusts (FORWARDED_ALLOW_IPS)."""
    client = scope.get("client")
    return str(client[0]) if client else None


def urls_for(request: Request, runtime: Runtime) -> Urls:
    settings = runtime.settings
    base = link_base(request.scope, settings.public_url, settings.allowed_hosts)
    return Urls(base, request.url.path, list(request.query_params.multi_items()))


def rate_limit(runtime: Runtime, account_id: str, op: Operation) -> dict[str, str] | None:
    """Count the request; raise 429 when over the limit, else the RateLimit-* headers to send."""
    decision = runtime.limiter.hit(account_id, op.operation_id, op.burst, op.steady)
    if decision is None:
        return None
    if not decision.allowed:
        raise Throttled(
            f"Request was throttled. Expected available in {decision.retry_after} second(s).",
            headers=decision.headers(),
        )
    return decision.headers()


def _rate_limit(request: Request, runtime: Runtime, account_id: str, op: Operation) -> None:
    headers = rate_limit(runtime, account_id, op)
    if headers is not None:
        request.state.rate_limit_headers = headers


def _query_parameters(op: Operation) -> list[inspect.Parameter]:
    """Declare the operation's query parameters (documentation only; parse_query reads them)."""
    names: list[tuple[str, str]] = []
    if op.filters:
        names.append(("filter", "filter"))
    if op.sorts:
        names.append(("sort", "sort"))
    if op.cursor:
        names.append(("page_cursor", "page[cursor]"))
    if op.page_max:
        names.append(("page_size", "page[size]"))
    if op.includes:
        names.append(("include", "include"))
    for kind in op.fields:
        names.append((f"fields_{kind.replace('-', '_')}", f"fields[{kind}]"))
    for kind in op.additional_fields:
        names.append((f"additional_fields_{kind.replace('-', '_')}", f"additional-fields[{kind}]"))
    return [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[str | None, Query(alias=alias)],
        )
        for name, alias in names
    ]


def api(operation_id: str | Operation, *, write: bool | None = None) -> Any:
    """`operation_id`: one of Klaviyo's operations, or an `Operation` Tidings adds (x-tidings)."""
    op = operation(operation_id) if isinstance(operation_id, str) else operation_id
    writes = op.method != "GET" if write is None else write

    def dependency(
        request: Request,
        revision: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
        _text: Annotated[None, Depends(refuse_unstorable_text)] = None,
        **_query: Any,
    ) -> Iterator[ApiContext]:
        runtime = runtime_of(request)
        authority = runtime.authority
        token = authority.session_token(authorization, request.cookies)
        principal: Principal
        if token is not None:  # the web app: a session cookie (and no Authorization header)
            with runtime.db.read() as session:
                principal = authority.session_principal(session, token, request.method, request.headers)
        else:
            credential = authority.credential(authorization)
            with runtime.db.read() as session:
                principal = authority.authenticate(session, credential, client_address(request.scope))
        request.state.account_id = principal.account_id  # in the log line, a throttled request's too
        when = check_revision(revision)
        authority.permit(principal, op)
        _rate_limit(request, runtime, principal.account_id, op)
        params = parse_query(op, request.query_params)
        unit = runtime.db.write() if writes else runtime.db.read()
        with unit as session:
            yield ApiContext(
                request=request,
                session=session,
                account_id=principal.account_id,
                op=op,
                params=params,
                urls=urls_for(request, runtime),
                revision=when,
                runtime=runtime,
                principal=principal,
            )

    base = inspect.signature(dependency)
    fixed = [p for p in base.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    dependency.__signature__ = base.replace(parameters=[*fixed, *_query_parameters(op)])  # type: ignore[attr-defined]
    dependency.__name__ = f"api_{op.operation_id}"
    return Depends(dependency, scope="function")


@dataclass
class ClientContext:
    request: Request
    session: Session
    account_id: str
    op: Operation
    revision: dt.date
    runtime: Runtime


def client(operation_id: str) -> Any:
    """Dependency for `/client/*`: the public key arrives as `company_id`; no Authorization."""
    op = operation(operation_id)

    def dependency(
        request: Request,
        company_id: Annotated[str | None, Query()] = None,
        revision: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
        _text: Annotated[None, Depends(refuse_unstorable_text)] = None,
    ) -> Iterator[ClientContext]:
        runtime = runtime_of(request)
        runtime.authority.refuse_private_key(authorization)
        with runtime.db.read() as session:
            account_id = runtime.authority.public_account_id(session, company_id)
        request.state.account_id = account_id  # in the log line, a throttled request's too
        when = check_revision(revision)
        _rate_limit(request, runtime, account_id, op)
        with runtime.db.write() as session:
            yield ClientContext(request, session, account_id, op, when, runtime)

    dependency.__name__ = f"client_{operation_id}"
    return Depends(dependency, scope="function")


@dataclass
class IngestContext:
    """For the ingestion endpoints: who is writing, with no database session of their own
    (the inbox writer commits for many requests at once)."""

    request: Request
    account_id: str
    op: Operation
    runtime: Runtime


_lookups: dict[tuple[asyncio.AbstractEventLoop, str, str], asyncio.Future[Any]] = {}


async def _once(kind: str, key: str, lookup: Callable[[], Awaitable[T]]) -> T:
    """Requests that miss the same cache entry at the same time share one lookup: after a start
    or an expiry, a burst of them would otherwise each take a thread and a connection for it."""
    slot = (asyncio.get_running_loop(), kind, key)
    pending = _lookups.get(slot)
    if pending is None:
        pending = asyncio.ensure_future(lookup())
        _lookups[slot] = pending
        pending.add_done_callback(lambda _done: _lookups.pop(slot, None))
    return await asyncio.shield(pending)


def _public_account_sync(runtime: Runtime, company_id: str | None) -> str:
    with runtime.db.read() as session:
        return runtime.authority.public_account_id(session, company_id)


async def public_account_id(runtime: Runtime, company_id: str | None) -> str:
    if (cached := runtime.authority.cached_public(company_id)) is not None:
        return cached
    return await _once(
        "public", company_id or "", lambda: run_in_threadpool(_public_account_sync, runtime, company_id)
    )


def _principal_sync(runtime: Runtime, credential: str, client: str | None) -> Principal:
    with runtime.db.read() as session:
        return runtime.authority.authenticate(session, credential, client)


def _refresh_keys(runtime: Runtime) -> None:
    try:
        with runtime.db.read() as session:
            runtime.authority.refresh(session)
    except SQLAlchemyError as error:
        # The database is away: the kept keys go on serving (the inbox answers 503 if it stays
        # away), and the revision is read again at the next interval.
        log.warning("keys.revision_unreadable", error=repr(error)[:200])


async def ingest_account(
    runtime: Runtime,
    op: Operation,
    authorization: str | None,
    revision: str | None,
    *,
    scope: Scope,
) -> tuple[str, dict[str, str] | None]:
    """An ingestion request on `/api`: the private key's account and the rate-limit headers.
    Keys are cached, so the usual request touches no database here: the key revision is read
    at most once a second per process (one request does it; the others of the moment wait for
    it), and a wrong key is refused from memory. The account id goes into the request's state
    as soon as it is known, for the log line (a throttled request's too)."""
    authority = runtime.authority
    credential = authority.credential(authorization)
    if authority.revision_due():
        await _once("keys", "revision", lambda: run_in_threadpool(_refresh_keys, runtime))
    principal = authority.cached(credential)
    if principal is None:
        client = client_address(scope)
        principal = await _once(
            "key", credential, lambda: run_in_threadpool(_principal_sync, runtime, credential, client)
        )
    scope.setdefault("state", {})["account_id"] = principal.account_id
    check_revision(revision)
    authority.require_scopes(principal, op.scopes)
    return principal.account_id, rate_limit(runtime, principal.account_id, op)


async def ingest_client_account(
    runtime: Runtime,
    op: Operation,
    company_id: str | None,
    authorization: str | None,
    revision: str | None,
    *,
    scope: Scope,
) -> tuple[str, dict[str, str] | None]:
    """An ingestion request on `/client`: the public key (`company_id`); a private key is refused."""
    runtime.authority.refuse_private_key(authorization)
    account_id = await public_account_id(runtime, company_id)
    scope.setdefault("state", {})["account_id"] = account_id
    check_revision(revision)
    return account_id, rate_limit(runtime, account_id, op)


def _ingest_context(request: Request, runtime: Runtime, op: Operation, who: tuple[str, Any]) -> IngestContext:
    account_id, headers = who
    request.state.account_id = account_id
    if headers is not None:
        request.state.rate_limit_headers = headers
    return IngestContext(request, account_id, op, runtime)


def ingest(operation_id: str) -> Any:
    """Like `api()`, for endpoints that only accept a payload into the inbox (async, no session)."""
    op = operation(operation_id)

    async def dependency(
        request: Request,
        revision: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> IngestContext:
        runtime = runtime_of(request)
        who = await ingest_account(runtime, op, authorization, revision, scope=request.scope)
        return _ingest_context(request, runtime, op, who)

    dependency.__name__ = f"ingest_{operation_id}"
    return Depends(dependency)


def ingest_client(operation_id: str) -> Any:
    """`/client/*` ingestion: the public key is `company_id`; a private key is refused."""
    op = operation(operation_id)

    async def dependency(
        request: Request,
        company_id: Annotated[str | None, Query()] = None,
        revision: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> IngestContext:
        runtime = runtime_of(request)
        who = await ingest_client_account(
            runtime, op, company_id, authorization, revision, scope=request.scope
        )
        return _ingest_context(request, runtime, op, who)

    dependency.__name__ = f"ingest_client_{operation_id}"
    return Depends(dependency)
