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

from fastapi import Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from tidings.accounts import service as accounts
from tidings.accounts.tables import Account
from tidings.jsonapi.documents import Urls
from tidings.jsonapi.errors import InvalidInput, Throttled
from tidings.jsonapi.hosts import link_base
from tidings.jsonapi.params import QueryParams, parse_query
from tidings.jsonapi.revision import check_revision
from tidings.jsonapi.spec import Operation, operation
from tidings.jsonapi.text import refuse_unstorable_text
from tidings.runtime import Runtime

T = TypeVar("T")


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


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


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


def api(operation_id: str, *, write: bool | None = None) -> Any:
    op = operation(operation_id)
    writes = op.method != "GET" if write is None else write

    def dependency(
        request: Request,
        revision: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
        _text: Annotated[None, Depends(refuse_unstorable_text)] = None,
        **_query: Any,
    ) -> Iterator[ApiContext]:
        runtime = runtime_of(request)
        credential = accounts.parse_authorization(authorization)
        with runtime.db.read() as session:
            principal = accounts.authenticate(session, credential, runtime.keys)
        when = check_revision(revision)
        accounts.require_scopes(principal, op.scopes)
        _rate_limit(request, runtime, principal.account_id, op)
        params = parse_query(op, request.query_params)
        request.state.account_id = principal.account_id
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
            )

    base = inspect.signature(dependency)
    fixed = [p for p in base.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    dependency.__signature__ = base.replace(parameters=[*fixed, *_query_parameters(op)])  # type: ignore[attr-defined]
    dependency.__name__ = f"api_{operation_id}"
    return Depends(dependency, scope="function")


def _refuse_private_key(authorization: str | None) -> None:
    if authorization and accounts.PRIVATE_PREFIX in authorization:
        # A private key in a browser or app would leak it; refuse it loudly.
        raise InvalidInput(
            "Private API keys must not be used on /client endpoints; send company_id (your public key).",
            parameter="Authorization",
        )


@dataclass
class ClientContext:
    request: Request
    session: Session
    account: Account
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
        _refuse_private_key(authorization)
        with runtime.db.read() as session:
            account = accounts.public_account(session, company_id)
        when = check_revision(revision)
        _rate_limit(request, runtime, account.id, op)
        request.state.account_id = account.id
        with runtime.db.write() as session:
            yield ClientContext(request, session, account, op, when, runtime)

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
        return accounts.public_account(session, company_id).id


async def public_account_id(runtime: Runtime, company_id: str | None) -> str:
    if company_id and (cached := runtime.public_accounts.get(company_id)) is not None:
        return cached
    account_id = await _once(
        "public", company_id or "", lambda: run_in_threadpool(_public_account_sync, runtime, company_id)
    )
    runtime.public_accounts.put(account_id, account_id)
    return account_id


def _principal_sync(runtime: Runtime, credential: str) -> accounts.Principal:
    with runtime.db.read() as session:
        return accounts.authenticate(session, credential, runtime.keys)


async def ingest_account(
    runtime: Runtime, op: Operation, authorization: str | None, revision: str | None
) -> tuple[str, dict[str, str] | None]:
    """An ingestion request on `/api`: the private key's account and the rate-limit headers.
    Keys are cached, so the usual request touches no database here."""
    credential = accounts.parse_authorization(authorization)
    digest = accounts.hash_key(credential)
    principal = runtime.keys.get(digest) if credential.startswith("pk_") else None
    if principal is None:
        principal = await _once(
            "key", digest, lambda: run_in_threadpool(_principal_sync, runtime, credential)
        )
    check_revision(revision)
    accounts.require_scopes(principal, op.scopes)
    return principal.account_id, rate_limit(runtime, principal.account_id, op)


async def ingest_client_account(
    runtime: Runtime, op: Operation, company_id: str | None, authorization: str | None, revision: str | None
) -> tuple[str, dict[str, str] | None]:
    """An ingestion request on `/client`: the public key (`company_id`); a private key is refused."""
    _refuse_private_key(authorization)
    account_id = await public_account_id(runtime, company_id)
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
        who = await ingest_account(runtime, op, authorization, revision)
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
        who = await ingest_client_account(runtime, op, company_id, authorization, revision)
        return _ingest_context(request, runtime, op, who)

    dependency.__name__ = f"ingest_client_{operation_id}"
    return Depends(dependency)
