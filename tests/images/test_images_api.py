"""Image endpoints through the official SDK: upload from a file and from a data URI, list, rename,
and the public address email recipients load."""

from __future__ import annotations

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from openapi_client.exceptions import ApiException, BadRequestException, NotFoundException
from PIL import Image as PILImage

from tidings.images import service
from tidings.jsonapi.errors import InvalidInput


def _png(width: int = 3, height: int = 2, color: str = "red") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def _gif() -> bytes:
    out = io.BytesIO()
    PILImage.new("P", (1, 1)).save(out, format="GIF")
    return out.getvalue()


def _data_uri(data: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


def _import(sdk, uri: str, name: str | None = None, hidden: bool = False):  # type: ignore[no-untyped-def]
    attributes = {"import_from_url": uri, "hidden": hidden}
    if name is not None:
        attributes["name"] = name
    return sdk.Images.upload_image_from_url({"data": {"type": "image", "attributes": attributes}}).data


def test_upload_from_a_file_and_load_it_from_its_address(sdk, http, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = _png()
    (tmp_path / "logo.png").write_bytes(data)
    image = sdk.Images.upload_image_from_file(file=str(tmp_path / "logo.png")).data
    assert image.attributes.name == "logo.png"
    assert image.attributes.format == "png"
    assert image.attributes.size == len(data)
    assert image.attributes.hidden is False
    url = image.attributes.image_url
    assert url.endswith(f"/images/{url.split('/images/')[1]}") and url.endswith(f"{image.id}.png")
    served = http.get("/images/" + url.split("/images/")[1])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.content == data
    assert "immutable" in served.headers["cache-control"]
    assert sdk.Images.get_image(image.id).data.attributes.name == "logo.png"


def test_data_uri_names_suffixes_and_updates(sdk) -> None:  # type: ignore[no-untyped-def]
    first = _import(sdk, _data_uri(_png()), name="banner.png")
    second = _import(sdk, _data_uri(_png(color="blue")), name="banner.png")
    third = _import(sdk, _data_uri(_gif(), "gif"), name="banner.png", hidden=True)
    assert [first.attributes.name, second.attributes.name, third.attributes.name] == [
        "banner.png",
        "banner (2).png",
        "banner (3).png",
    ]
    assert third.attributes.format == "gif" and third.attributes.hidden is True
    patch = {"data": {"type": "image", "id": second.id, "attributes": {"name": "hero.png", "hidden": True}}}
    updated = sdk.Images.update_image(second.id, patch).data
    assert updated.attributes.name == "hero.png" and updated.attributes.hidden is True
    listed = sdk.Images.get_images(filter="equals(hidden,true)", sort="name")
    assert [i.attributes.name for i in listed.data] == ["banner (3).png", "hero.png"]
    gifs = sdk.Images.get_images(filter="equals(format,'gif')")
    assert [i.id for i in gifs.data] == [third.id]


def test_what_is_not_an_image_is_refused(sdk, client, account) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequestException) as text:
        _import(sdk, _data_uri(b"this is not a picture"))
    error = json.loads(text.value.body)["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/import_from_url"}
    assert "not a JPEG, PNG or GIF" in error["detail"]
    bmp = io.BytesIO()
    PILImage.new("RGB", (1, 1)).save(bmp, format="BMP")
    with pytest.raises(BadRequestException) as unsupported:
        _import(sdk, _data_uri(bmp.getvalue(), "bmp"))
    assert "this one is BMP" in unsupported.value.body
    with pytest.raises(BadRequestException):
        _import(sdk, "data:image/png;base64,@@@")
    upload = client.post(
        "/api/image-upload", files={"file": ("x.png", b"\x89PNG garbage")}, headers=account.headers()
    )
    assert upload.status_code == 400
    assert upload.json()["errors"][0]["source"] == {"parameter": "file"}
    too_big = client.post(
        "/api/image-upload",
        files={"file": ("big.png", b"\0" * (5 * 1024 * 1024 + 1))},
        headers=account.headers(),
    )
    assert too_big.status_code == 413
    nul = client.post(
        "/api/image-upload",
        files={"file": ("a\x00.png", _png())},
        data={"name": "bad\x00name"},
        headers=account.headers(),
    )
    assert nul.status_code == 400 and nul.json()["errors"][0]["source"] == {"parameter": "name"}
    raw = (
        b'--X\r\nContent-Disposition: form-data; name="file"; filename="a\x00.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + _png() + b"\r\n--X--\r\n"
    )
    unnamed = client.post(
        "/api/image-upload",
        content=raw,
        headers={**account.headers(), "Content-Type": "multipart/form-data; boundary=X"},
    )
    assert unnamed.status_code in (201, 400), unnamed.text  # never a 500, never a NUL kept
    if unnamed.status_code == 201:
        assert "\x00" not in unnamed.json()["data"]["attributes"]["name"]
    with pytest.raises(NotFoundException):
        sdk.Images.get_image("01HZZZZZZZZZZZZZZZZZZZZZZZ")


def test_an_image_address_never_reaches_outside_the_folder(http) -> None:  # type: ignore[no-untyped-def]
    for path in (
        "/images/..%2F..%2Fetc/passwd.png",
        "/images/abc/../../x.png",
        "/images/a/b.exe",
        "/images/a/b",
    ):
        assert http.get(path).status_code == 404, path


def test_another_account_sees_none_of_them(sdk, other_account, server) -> None:  # type: ignore[no-untyped-def]
    from klaviyo_api import KlaviyoAPI

    mine = _import(sdk, _data_uri(_png()))
    theirs = KlaviyoAPI(api_key=other_account.private_key, test_host=server.url, max_retries=0)
    with pytest.raises(ApiException) as hidden:
        theirs.Images.get_image(mine.id)
    assert hidden.value.status == 404
    assert theirs.Images.get_images().data == []


@pytest.fixture
def picture_server():  # type: ignore[no-untyped-def]
    """A local web server with one PNG at /pics/shop-logo.png (and a page that is not one)."""
    png = _png(5, 5)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = (
                (png, "image/png") if self.path == "/pics/shop-logo.png" else (b"<html></html>", "text/html")
            )
            self.send_response(200 if self.path != "/missing.png" else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", png
    server.shutdown()


def test_import_from_a_url_goes_through_the_guard(sdk, picture_server) -> None:  # type: ignore[no-untyped-def]
    base, png = picture_server
    image = _import(sdk, f"{base}/pics/shop-logo.png")  # loopback: the suite allows private URLs
    assert image.attributes.name == "shop-logo.png"
    assert image.attributes.size == len(png)
    with pytest.raises(BadRequestException) as page:
        _import(sdk, f"{base}/index.html")
    assert "not a JPEG, PNG or GIF" in page.value.body
    with pytest.raises(BadRequestException) as missing:
        _import(sdk, f"{base}/missing.png")
    assert "answered 404" in missing.value.body


def test_a_private_address_is_refused_without_the_setting(picture_server) -> None:  # type: ignore[no-untyped-def]
    base, _png_bytes = picture_server
    for url in (f"{base}/pics/shop-logo.png", "https://127.0.0.1/x.png", "https://10.0.0.1/x.png"):
        with pytest.raises(InvalidInput) as refused:
            service.fetch(url, "/data/attributes/import_from_url", allow_private=False)
        assert refused.value.pointer == "/data/attributes/import_from_url"
        assert "cannot be used" in refused.value.detail
