"""Image endpoints through the official SDK: upload from a file and from a data URI, list, rename,
and the public address email recipients load."""

from __future__ import annotations

import base64
import io
import json

import pytest
from openapi_client.exceptions import ApiException, BadRequestException, NotFoundException
from PIL import Image as PILImage


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
    with pytest.raises(BadRequestException) as remote:
        _import(sdk, "https://example.com/a.png")
    assert "not available yet" in remote.value.body
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
