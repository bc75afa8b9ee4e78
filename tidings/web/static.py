"""The single-page app at /app: the built files (web/dist), index.html for every client route,
and the security headers of a page that holds a signed-in session.

Files under /app/assets/ have content hashes in their names, so they are cached for a year;
index.html is never cached, so a new build is picked up at once."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from tidings.http import runtime_of

router = APIRouter(include_in_schema=False)

CHECKOUT_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
PACKAGE_DIST = Path(__file__).resolve().parent / "dist"  # a release wheel carries the build here

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tidings</title></head>
<body><main><h1>The web app is not built</h1><p>Run <code>make run</code> (it builds the app), or
<code>make web</code>, then reload this page.</p></main></body></html>"""


def dist_dir(configured: str | None) -> Path | None:
    for candidate in [Path(configured)] if configured else [CHECKOUT_DIST, PACKAGE_DIST]:
        if (candidate / "index.html").is_file():
            return candidate
    return None


def _headers(extra: dict[str, str]) -> dict[str, str]:
    return {**SECURITY_HEADERS, **extra}


@router.get("/app")
def app_root(request: Request) -> Response:
    return app_files("", request)


@router.get("/app/{path:path}")
def app_files(path: str, request: Request) -> Response:
    dist = dist_dir(runtime_of(request).settings.web_dist_dir)
    if dist is None:
        return HTMLResponse(NOT_BUILT, status_code=503, headers=_headers({"Cache-Control": "no-store"}))
    root = dist.resolve()
    if path:
        wanted = (root / path).resolve()
        if wanted.is_relative_to(root) and wanted.is_file():
            cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
            media = mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
            return FileResponse(wanted, media_type=media, headers=_headers({"Cache-Control": cache}))
        if path.startswith("assets/"):  # a missing asset is a 404, not the page
            return Response(status_code=404, headers=_headers({}))
    return FileResponse(
        root / "index.html", media_type="text/html", headers=_headers({"Cache-Control": "no-cache"})
    )
