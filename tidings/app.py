"""The application factory: routers, middleware, error rendering, in-process workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tidings import domains
from tidings.config import Settings, get_settings
from tidings.db.session import Database
from tidings.delivery.listener import start_listener
from tidings.delivery.tracking_routes import TrackingFastPath
from tidings.events.ingest.fastpath import IngestFastPath
from tidings.events.ingest.intakes import INTAKES
from tidings.events.ingest.routes import router as ingest_router
from tidings.jsonapi.documents import JSONAPIResponse, error_response
from tidings.jsonapi.errors import (
    APIError,
    ErrorList,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServerError,
)
from tidings.jsonapi.validation import validation_errors
from tidings.ops import gc_tuning
from tidings.ops.logs import configure_logging
from tidings.ops.metrics import Metrics
from tidings.ops.middleware import NUL_DETAIL, BodyTooLarge, NulInBody, TidingsMiddleware
from tidings.ops.warmup import warm_up

log = structlog.get_logger("tidings")


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    workers: int | None = None,
    tune_gc: bool = False,
) -> FastAPI:
    settings = settings or get_settings()
    runtime = domains.build_runtime(settings, db)
    worker_count = settings.workers if workers is None else workers

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.warm_up = await warm_up(app, runtime)  # before the first request, not in it
        pool = domains.background_workers(runtime.db, settings, worker_count)
        for worker in pool:
            worker.start()
        bounces = None
        if settings.bounce_smtp_port and settings.bounce_domain:
            try:
                bounces = start_listener(
                    runtime.db, settings.bounce_domain, settings.bounce_smtp_host, settings.bounce_smtp_port
                )
            except Exception as exc:  # with --processes, the first process holds the port
                log.warning("delivery.listener_not_started", port=settings.bounce_smtp_port, error=str(exc))
        if tune_gc:
            gc_tuning.tune_gc()
        try:
            yield
        finally:
            if bounces is not None:
                bounces.stop()
            runtime.stop()
            for worker in pool:
                worker.stop()

    app = FastAPI(
        title="Tidings",
        version="0.1.0",
        description="Self-hosted customer data and marketing automation that speaks Klaviyo's API.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.warm_up = None
    app.state.metrics = Metrics(runtime.db)
    for router in domains.ROUTERS:
        app.include_router(router)
    _install_error_handlers(app)
    # The last middleware added runs first: Tidings' (limits, metrics, logs) wraps the lean path.
    app.add_middleware(IngestFastPath, runtime=runtime, routes=ingest_router.routes)
    app.add_middleware(TrackingFastPath, runtime=runtime)  # the open pixel and click redirect
    app.add_middleware(
        TidingsMiddleware,
        metrics=app.state.metrics,
        max_body_bytes=settings.max_body_bytes,
        upload_limits=domains.UPLOAD_LIMITS,
    )
    return app


def serving_app() -> FastAPI:
    """The application as `tidings serve` runs it (the factory each server process calls). With
    `--processes`, each process is started afresh and configures its own logs here; otherwise
    structlog's development defaults (coloured text on stdout) would be what it writes."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings, tune_gc=True)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def api_error(_request: Request, exc: APIError) -> JSONAPIResponse:
        return error_response([exc], exc.status, exc.headers)

    @app.exception_handler(ErrorList)
    async def error_list(_request: Request, exc: ErrorList) -> JSONAPIResponse:
        return error_response(exc.errors, exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONAPIResponse:
        errors = validation_errors(exc.errors())
        route = request.scope.get("route")
        intake = INTAKES.get(getattr(route, "operation_id", None) or "")
        if intake is not None and exc.body is not None:
            errors += intake.item_errors(exc.body)
        return error_response(errors, 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONAPIResponse:
        error: APIError
        if isinstance(exc.__cause__, BodyTooLarge):
            error = PayloadTooLarge("The request body is too large.")
        elif isinstance(exc.__cause__, NulInBody):
            error = InvalidInput(NUL_DETAIL, pointer="/")
        elif exc.status_code == 404:
            error = NotFound(f"No route for {request.method} {request.url.path}.")
        elif exc.status_code == 405:
            error = MethodNotAllowed(f"Method {request.method} is not allowed on {request.url.path}.")
        elif exc.status_code == 400:
            error = InvalidInput(str(exc.detail), pointer="/")
        else:
            error = APIError(str(exc.detail))
            error.status = exc.status_code
        return error_response([error], error.status, dict(exc.headers or {}))

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError) -> JSONAPIResponse:
        # A value the database cannot store (a string too long for its column, say): the caller's
        # input, not our failure. Validation should have caught it; the log says which, to add a
        # check. The database's own words stay in the log: they describe the schema.
        log.warning("data_error", method=request.method, path=request.url.path, error=str(exc.orig)[:500])
        return error_response([InvalidInput("A value in the request cannot be stored.", pointer="/")], 400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONAPIResponse:
        if isinstance(exc, BodyTooLarge):
            return error_response([PayloadTooLarge("The request body is too large.")], 413)
        if isinstance(exc, NulInBody):
            return error_response([InvalidInput(NUL_DETAIL, pointer="/")], 400)
        log.exception("unhandled_error", method=request.method, path=request.url.path)
        return error_response([ServerError("An unexpected error occurred; it has been logged.")], 500)


def served_operations(app: FastAPI) -> list[tuple[str, str, str]]:
    """(METHOD, path, operationId) of every documented route, read from the app's OpenAPI."""
    served = []
    for path, methods in app.openapi().get("paths", {}).items():
        for method, spec in methods.items():
            served.append((method.upper(), path, spec.get("operationId", "")))
    return sorted(served)
