"""Isolation cases for templates and universal content."""

from __future__ import annotations

from tests.isolation import EXEMPT, Case, Env, Listing

HTML = "<p>Hello {{ first_name }}</p>"
BLOCK = {"content_type": "block", "type": "html", "data": {"content": "<p>Footer</p>", "display_options": {}}}

# Creation routes name no existing resource; what they may reference (universal content in an
# include) is checked by test_templates_api.test_include_of_another_accounts_content_is_refused.
EXEMPT[("POST", "/api/templates")] = "creates a template; takes no other resource"
EXEMPT[("POST", "/api/template-universal-content")] = "creates universal content; takes no other resource"


def make_template(env: Env) -> dict[str, str]:
    body = {"data": {"type": "template", "attributes": {"name": "A's", "editor_type": "CODE", "html": HTML}}}
    response = env.as_a("POST", "/api/templates", json=body)
    assert response.status_code == 201, response.text
    return {"id": response.json()["data"]["id"]}


def make_universal(env: Env) -> dict[str, str]:
    body = {
        "data": {"type": "template-universal-content", "attributes": {"name": "A's", "definition": BLOCK}}
    }
    response = env.as_a("POST", "/api/template-universal-content", json=body)
    assert response.status_code == 201, response.text
    return {"id": response.json()["data"]["id"]}


def template_unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/templates/{params['id']}")
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["html"] == HTML
    assert response.json()["data"]["attributes"]["name"] == "A's"


def universal_unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/template-universal-content/{params['id']}")
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["name"] == "A's"


CASES = [
    Case("GET", "/api/templates/{id}", make_template),
    Case(
        "PATCH",
        "/api/templates/{id}",
        make_template,
        body=lambda p: {
            "data": {"type": "template", "id": p["id"], "attributes": {"name": "B", "html": "x"}}
        },
        unchanged=template_unchanged,
    ),
    Case("DELETE", "/api/templates/{id}", make_template, unchanged=template_unchanged),
    Case(
        "POST",
        "/api/template-clone",
        make_template,
        body=lambda p: {"data": {"type": "template", "id": p["id"], "attributes": {"name": "B's copy"}}},
    ),
    Case(
        "POST",
        "/api/template-render",
        make_template,
        body=lambda p: {"data": {"type": "template", "id": p["id"], "attributes": {"context": {}}}},
    ),
    Case("GET", "/api/template-universal-content/{id}", make_universal),
    Case(
        "PATCH",
        "/api/template-universal-content/{id}",
        make_universal,
        body=lambda p: {
            "data": {"type": "template-universal-content", "id": p["id"], "attributes": {"name": "B"}}
        },
        unchanged=universal_unchanged,
    ),
    Case("DELETE", "/api/template-universal-content/{id}", make_universal, unchanged=universal_unchanged),
]

LISTINGS = [
    Listing("/api/templates", lambda env: [make_template(env)["id"]]),
    Listing("/api/template-universal-content", lambda env: [make_universal(env)["id"]]),
]
