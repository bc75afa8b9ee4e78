"""Start-up warm-up: what the first request would otherwise pay for, paid before serving.

Measured with bench/first_call.py (a fresh `tidings serve` per route, SQLite, 2 cores): the
first call to a route took 70 to 350 ms, the second 3 to 35 ms. The first request paid for:

- FastAPI building each route's handler (its dependency graph and pydantic fields) lazily, at
  the first attempt to match it: every route listed before the one that matches, every route
  for a 404. Most of the cost (0.4 to 0.7 s for all 163 routes).
- SQLAlchemy configuring the ORM mappers, at the first ORM query (30 to 90 ms).
- anyio importing its thread backend and starting its first worker thread, at the first sync
  dependency or route (about 40 ms).
- Python's tokenizer compiling its patterns when FastAPI first reads an endpoint's source lines
  (for error messages; about 10 ms once, then under a millisecond per endpoint).
- The first database connection, the key revision and compiling the key lookup.

The lifespan runs this before the server accepts connections. What a first call still pays is
compiling its own SQL statements: a few milliseconds.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import configure_mappers
from starlette.concurrency import run_in_threadpool

from tidings.runtime import Runtime

log = structlog.get_logger("tidings")

# A request no route matches, so that matching it tries (and so builds) every route.
UNMATCHED: dict[str, Any] = {
    "type": "http",
    "method": "GET",
    "path": "/\x00warm-up",
    "root_path": "",
    "headers": [],
    "query_string": b"",
}


@dataclass(frozen=True)
class WarmUp:
    routes: int  # entries of the app's route table tried (each included router, with its routes)
    database: bool  # whether the database part ran (False: it was unreachable; start-up goes on)
    seconds: float


async def warm_up(app: FastAPI, runtime: Runtime) -> WarmUp:
    started = time.perf_counter()
    routes = build_routes(app)
    _compile_tokenizer()
    database = await run_in_threadpool(_prepare_database, runtime)
    done = WarmUp(routes, database, time.perf_counter() - started)
    log.info("warmed_up", routes=routes, database=database, ms=round(done.seconds * 1000, 1))
    return done


def build_routes(app: FastAPI) -> int:
    for route in app.router.routes:
        route.matches(dict(UNMATCHED))
    return len(app.router.routes)


def _compile_tokenizer() -> None:
    inspect.getsourcelines(warm_up)  # any function: the patterns are compiled once per process


def _prepare_database(runtime: Runtime) -> bool:
    configure_mappers()
    try:
        with runtime.db.read() as session:
            runtime.authority.prepare(session)
    except SQLAlchemyError as error:  # /healthz will say so; serving starts anyway
        log.warning("warm_up.database_unavailable", error=repr(error)[:200])
        return False
    return True
