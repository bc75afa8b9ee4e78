"""Isolation cases for the image routes: a key of account B never reads or renames A's images."""

from __future__ import annotations

import base64
import io

from PIL import Image as PILImage

from tests.isolation import Case, Env, Listing


def an_image(env: Env) -> dict[str, str]:
    out = io.BytesIO()
    PILImage.new("RGB", (1, 1)).save(out, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    body = {"data": {"type": "image", "attributes": {"import_from_url": uri, "name": "A's"}}}
    response = env.as_a("POST", "/api/images", json=body)
    assert response.status_code == 201, response.text
    return {"id": response.json()["data"]["id"]}


def unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/images/{params['id']}")
    assert response.status_code == 200 and response.json()["data"]["attributes"]["name"] == "A's"


CASES = [
    Case("GET", "/api/images/{id}", an_image),
    Case(
        "PATCH",
        "/api/images/{id}",
        an_image,
        body=lambda p: {"data": {"type": "image", "id": p["id"], "attributes": {"name": "B"}}},
        unchanged=unchanged,
    ),
]

LISTINGS = [Listing("/api/images", lambda env: [an_image(env)["id"]])]

EXEMPT = {
    ("POST", "/api/images"): "creates an image in the caller's own account",
    ("POST", "/api/image-upload"): "creates an image in the caller's own account",
}
