"""The asset library: check an upload is an image, keep it, name it, list and rename it."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from PIL import Image as PILImage
from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.config import DEFAULT_PUBLIC_URL, Settings
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.images import storage
from tidings.images.tables import Image
from tidings.jsonapi.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from tidings.outbound.addresses import Policy, URLRefused
from tidings.outbound.client import OutboundClient, OutboundFailed

MAX_BYTES = 5 * 1024 * 1024  # "Maximum image size: 5MB"
MAX_PIXELS = 40_000_000  # larger is refused before it is decoded (a decompression bomb)
FORMATS = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif"}  # "Supported image formats: jpeg,png,gif"
# A request carrying the largest image: as a file in a form, or as a data URI in JSON (base64).
UPLOAD_BODY_BYTES = MAX_BYTES * 4 // 3 + 64 * 1024
_DATA_URI = re.compile(r"^data:image/[a-zA-Z0-9.+-]+(;[a-zA-Z0-9=.-]+)*;base64,", re.IGNORECASE)


@dataclass(frozen=True)
class Checked:
    format: str
    width: int
    height: int


def check(data: bytes, *, pointer: str | None = None, parameter: str | None = None) -> Checked:
    """The image's format and size, or a 400 (413 when too large) saying what is wrong."""
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(
            f"The image is {len(data)} bytes; the most is {MAX_BYTES} (5 MB).",
            pointer=pointer,
            parameter=parameter,
        )
    if not data:
        raise InvalidInput("The image is empty.", pointer=pointer, parameter=parameter)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as probe:
                kind, (width, height) = probe.format, probe.size
                if width * height > MAX_PIXELS:
                    raise InvalidInput(
                        f"The image is {width}x{height} pixels; the most is {MAX_PIXELS} pixels.",
                        pointer=pointer,
                        parameter=parameter,
                    )
                probe.verify()
    except InvalidInput:
        raise
    except Exception as error:  # Pillow raises many kinds for data that is not an image
        raise InvalidInput(
            "The file is not a JPEG, PNG or GIF image.", pointer=pointer, parameter=parameter
        ) from error
    if kind not in FORMATS:
        raise InvalidInput(
            f"Images must be JPEG, PNG or GIF; this one is {kind}.", pointer=pointer, parameter=parameter
        )
    return Checked(FORMATS[kind], width, height)


def decode_data_uri(value: str, pointer: str) -> bytes:
    match = _DATA_URI.match(value)
    if match is None:
        raise InvalidInput("A data URI must be data:image/<type>;base64,<data>.", pointer=pointer)
    try:
        return base64.b64decode(value[match.end() :], validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInput("The data URI's base64 data is not valid.", pointer=pointer) from error


def fetch(url: str, pointer: str, *, allow_private: bool) -> bytes:
    """Download an image through the outbound-URL guard (https only, no private addresses,
    each redirect checked, 15 s and 5 MB at most): a 400 at `pointer` saying what went wrong."""
    policy = Policy(allow_private=allow_private, timeout=15.0, max_bytes=MAX_BYTES, redirects=3)

    async def get() -> tuple[int, bytes]:
        async with OutboundClient(policy, user_agent="tidings-images") as client:
            response = await client.request("GET", url)
            return response.status_code, response.body

    try:
        status, body = asyncio.run(get())
    except URLRefused as error:
        raise InvalidInput(f"The URL cannot be used: {error}", pointer=pointer) from error
    except OutboundFailed as error:
        raise InvalidInput(f"The image could not be downloaded: {error}.", pointer=pointer) from error
    if not 200 <= status < 300:
        raise InvalidInput(f"The URL answered {status}, not an image.", pointer=pointer)
    return body


def name_from_url(url: str) -> str:
    last = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return last[:255] or "image"


def _free_name(session: Session, account_id: str, wanted: str, image_id: str | None = None) -> str:
    """`wanted`, or with a suffix when another image has that name ("If the name matches an
    existing image, a suffix will be added"): `logo.png`, `logo (2).png`, `logo (3).png`, ..."""
    wanted = wanted.strip()[:240] or "image"
    stem, dot, ext = wanted.rpartition(".")
    if not dot or not stem:
        stem, ext = wanted, ""
    taken = set(
        session.execute(
            select(Image.name).where(
                Image.account_id == account_id, Image.name.startswith(stem), Image.id != (image_id or "")
            )
        ).scalars()
    )
    candidate, n = wanted, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})"
    return candidate


def create_image(
    session: Session,
    settings: Settings,
    account_id: str,
    data: bytes,
    *,
    name: str | None,
    default_name: str,
    hidden: bool,
    pointer: str | None = None,
    parameter: str | None = None,
) -> Image:
    checked = check(data, pointer=pointer, parameter=parameter)
    now = utcnow()
    image = Image(
        account_id=account_id,
        id=ulid(),
        name=_free_name(session, account_id, name or default_name),
        format=checked.format,
        size=len(data),
        width=checked.width,
        height=checked.height,
        sha256=hashlib.sha256(data).hexdigest(),
        hidden=hidden,
        created_at=now,
        updated_at=now,
    )
    storage.write(settings.image_dir, account_id, image.id, image.format, data)
    session.add(image)
    session.flush()
    return image


def get_image(session: Session, account_id: str, image_id: str) -> Image:
    found = session.get(Image, (account_id, image_id))
    if found is None:
        raise NotFound(f"An image with id {image_id} does not exist.")
    return found


def update_image(
    session: Session, account_id: str, image_id: str, body_id: str, name: str | None, hidden: bool | None
) -> Image:
    if body_id != image_id:
        raise Conflict("The id in the body does not match the id in the URL.", pointer="/data/id")
    image = get_image(session, account_id, image_id)
    if name is not None and name != image.name:
        image.name = _free_name(session, account_id, name, image.id)
    if hidden is not None:
        image.hidden = hidden
    image.updated_at = utcnow()
    session.flush()
    return image


def public_url(settings: Settings, image: Image) -> str:
    """The image's stable address, what email recipients load."""
    base = (settings.public_url or DEFAULT_PUBLIC_URL).rstrip("/")
    return f"{base}/images/{image.account_id}/{image.id}.{storage.EXTENSIONS[image.format]}"
