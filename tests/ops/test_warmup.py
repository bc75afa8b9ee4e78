"""The app warms itself in its lifespan (tidings/ops/warmup.py), before the first request."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.conftest import make_account
from tidings.app import create_app
from tidings.db.session import Database


def test_the_lifespan_warms_the_app_before_the_first_request(settings, db: Database) -> None:
    app = create_app(settings.model_copy(update={"key_check_interval": 600.0}), db=db, workers=0)
    assert app.state.warm_up is None and app.state.runtime.authority.keys.revision is None
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    account = make_account(db)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with TestClient(app) as client:
            warmed = app.state.warm_up
            assert warmed is not None and warmed.database
            assert warmed.routes == len(app.router.routes)
            assert app.state.runtime.authority.keys.revision is not None  # the key revision, read at start-up
            assert any("FROM api_key_changes" in s for s in statements)
            statements.clear()
            assert client.get("/api/accounts", headers=account.headers()).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert not any("api_key_changes" in s for s in statements)  # the first request did not read it


def test_an_unreachable_database_does_not_stop_the_start(settings, tmp_path) -> None:
    """/healthz says the database is away; the warm-up does not turn that into a failed start."""
    away = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/no/such/dir/tidings.db"})
    app = create_app(away, workers=0)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.warm_up is not None and not app.state.warm_up.database
        assert client.get("/healthz").status_code == 503
