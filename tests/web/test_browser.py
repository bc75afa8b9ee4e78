"""The web app in Debian's Chromium (Playwright), with axe-core on every page: sign in, the shell,
Home, Profiles (search, a profile's page), switching account, signing out.

The app is built first (scripts/build_web.sh, when web/dist is missing or older than its sources);
the tests skip, saying why, only when no Node can be had or Chromium is not installed (.ci/run
installs it). One browser and the suite's one server are shared; the pages run as one journey, so
the browser work stays a few seconds per database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, make_account
from tests.web.helpers import PASSWORD, make_user
from tidings.jobs.worker import drain

WEB = ROOT / "web"
DIST_INDEX = WEB / "dist" / "index.html"
SEVERE = ("serious", "critical")


def _stale() -> bool:
    if not DIST_INDEX.exists():
        return True
    built = DIST_INDEX.stat().st_mtime
    sources = [
        *(WEB / "src").rglob("*"),
        WEB / "index.html",
        WEB / "package-lock.json",
        WEB / "vite.config.ts",
    ]
    return any(path.is_file() and path.stat().st_mtime > built for path in sources)


@pytest.fixture(scope="module")
def built() -> None:
    if not _stale():
        return
    env = {**os.environ, "VENV_BIN": str(Path(sys.executable).parent)}
    result = subprocess.run(
        [str(ROOT / "scripts" / "build_web.sh")], env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode == 3:
        pytest.skip(f"the web app cannot be built here: {result.stderr.strip()}")
    assert result.returncode == 0, (
        f"building the web app failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    )


@pytest.fixture(scope="module")
def chromium(built: None) -> Iterator[object]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def _axe(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """axe-core on the page as it is; with TIDINGS_WEB_SCREENSHOTS=folder, a screenshot of it too
    (docs/screenshots/ holds the ones the README links)."""
    from axe_playwright_python.sync_playwright import Axe

    folder = os.environ.get("TIDINGS_WEB_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    results = Axe().run(page)
    severe = [v for v in results.response["violations"] if v.get("impact") in SEVERE]
    summary = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in severe]
    assert not severe, f"{name}: accessibility violations {summary}"


def test_sign_in_home_profiles_switch_and_sign_out(chromium, server, db, client) -> None:  # type: ignore[no-untyped-def]
    shop = make_account(db, name="Aaa Browser shop")
    other = make_account(db, name="Zzz Second shop")
    email = make_user(db, shop.id, "owner")
    make_user(db, other.id, "analyst", email=email)
    profile = client.post(
        "/api/profiles",
        headers=shop.headers(),
        json={
            "data": {
                "type": "profile",
                "attributes": {
                    "email": "ada@example.com",
                    "external_id": "ext-ada",
                    "first_name": "Ada",
                    "properties": {"Plan": "Gold"},
                },
            }
        },
    )
    assert profile.status_code == 201, profile.text
    profile_id = profile.json()["data"]["id"]
    event = {
        "data": {
            "type": "event",
            "attributes": {
                "properties": {"Item": "Tea"},
                "metric": {"data": {"type": "metric", "attributes": {"name": "Placed Order"}}},
                "profile": {"data": {"type": "profile", "attributes": {"email": "ada@example.com"}}},
            },
        }
    }
    assert client.post("/api/events", headers=shop.headers(), json=event).status_code == 202
    drain(db)

    context = chromium.new_context(viewport={"width": 1280, "height": 800}, base_url=server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # Sign in: a wrong password is said so; the right one opens Home.
        page.goto("/app/")
        page.get_by_role("heading", name="Sign in to Tidings").wait_for()
        _axe(page, "sign-in")
        page.get_by_label("Email").fill(email)
        page.get_by_role("textbox", name="Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("alert").wait_for()
        page.get_by_role("textbox", name="Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Home", level=1).wait_for()
        page.get_by_role("heading", name="Events over time").wait_for()
        page.get_by_text("No email campaigns yet.").wait_for()
        _axe(page, "home")

        # Profiles: search by email with the keyboard, open the profile.
        page.get_by_role("link", name="Profiles").click()
        page.get_by_role("heading", name="Profiles", level=1).wait_for()
        search = page.get_by_label("Find a profile")
        search.fill("ADA@example.com")
        search.press("Enter")
        page.get_by_role("link", name="Ada").click()
        page.get_by_role("heading", name="Ada", level=1).wait_for()
        page.get_by_text(profile_id).wait_for()
        page.get_by_text("Placed Order").wait_for()
        page.get_by_role("cell", name="Gold").wait_for()
        _axe(page, "profile")
        page.go_back()
        page.get_by_role("heading", name="Profiles", level=1).wait_for()
        _axe(page, "profiles")
        page.get_by_label("Find a profile").fill("ext-ada")
        page.get_by_role("button", name="Search").click()
        page.get_by_text("external id is “ext-ada”").wait_for()
        page.get_by_role("link", name="Ada").wait_for()

        # The account switcher: the other account's profiles are not this one's.
        page.get_by_role("combobox", name="Account").click()
        page.get_by_role("option", name="Zzz Second shop").click()
        page.get_by_text("Analyst").wait_for()
        page.get_by_role("link", name="Profiles").click()
        page.get_by_text("No profile found.").wait_for()

        # A tablet's width (768 px): the navigation is still there.
        page.set_viewport_size({"width": 768, "height": 1024})
        page.get_by_role("link", name="Home").click()
        page.get_by_role("heading", name="Home", level=1).wait_for()

        # Sign out: back to the sign-in page, and the API no longer answers this browser.
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="Sign in to Tidings").wait_for()
        status = page.evaluate(
            "fetch('/api/accounts', {headers: {revision: '2026-10-15'}}).then(r => r.status)"
        )
        assert status == 401
        assert not errors, errors
    finally:
        context.close()


def test_app_pages_carry_security_headers_and_fall_back_to_index(client, built) -> None:  # type: ignore[no-untyped-def]
    for path in ("/app/", "/app/profiles/01HZZZZZZZZZZZZZZZZZZZZZZZ"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["x-frame-options"] == "DENY"
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert '<div id="root">' in response.text
    assert client.get("/app/assets/missing.js").status_code == 404
    assert client.get("/app/../pyproject.toml").status_code in (404, 200)  # never outside web/dist
    assert "tidings" not in client.get("/app/..%2f..%2fpyproject.toml").text.split("<")[0]
