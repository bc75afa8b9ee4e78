"""A campaign message's image: an image of the account (tidings.images) that an SMS (MMS) or
push message shows, as the spec says of the `image` relationship ("the associated image for
mobile_push or SMS messages"). An email message's images live in its template.

The message keeps the image's id; an image of another account, or none, is a 404 at the
relationship's pointer, the same answer for both so a key learns nothing of other accounts.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.campaigns.tables import CampaignMessage
from tidings.images import service as images
from tidings.images.tables import Image
from tidings.jsonapi.errors import InvalidInput, NotFound

IMAGE_CHANNELS = ("sms", "mobile_push")


def checked_image_id(session: Session, account_id: str, channel: str, image_id: str, pointer: str) -> str:
    """The id of an image of the account that a message of `channel` may show, else the error."""
    if channel not in IMAGE_CHANNELS:
        raise InvalidInput(
            "Only SMS and push messages have an image; an email's images are in its template.",
            pointer=pointer,
        )
    try:
        return images.get_image(session, account_id, image_id).id
    except NotFound as missing:
        raise NotFound(f"An image with id {image_id} does not exist.", pointer=pointer) from missing


def image_of(session: Session, message: CampaignMessage) -> Image | None:
    """The message's image; None when it has none or the image is gone."""
    if message.image_id is None:
        return None
    return session.get(Image, (message.account_id, message.image_id))


def image_id_of(session: Session, message: CampaignMessage) -> str | None:
    image = image_of(session, message)
    return image.id if image is not None else None
