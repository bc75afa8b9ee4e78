"""Push beyond the send: a device token the push service no longer knows.

FCM answers `UNREGISTERED` (404) or `INVALID_ARGUMENT` about the token, APNs `Unregistered`
(410), `BadDeviceToken` or `DeviceTokenNotForTopic` (400): the app was removed, or the token
was never valid for this app. The provider raises `RecipientRejected`, and the worker calls
`token_rejected`, which unregisters the token the way `unregister_client_push_token` does:
it stays listed (`get_push_tokens`), with `enablement_status` `UNAUTHORIZED`, and is not sent
to again until the app registers it anew (`create_client_push_token` sets it `AUTHORIZED`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.profiles.push_tokens import unregister_token
from tidings.profiles.tables import PushToken

UNREGISTERED = "UNAUTHORIZED"


def token_rejected(session: Session, account_id: str, profile_id: str, token: str) -> bool:
    """Unregister the profile's device token the push service refused. Returns whether a token
    changed (False when it is unknown, already unregistered, or now belongs to another profile
    of the account: a device re-registered since the send keeps its new owner's token)."""
    found = session.execute(
        select(PushToken).where(PushToken.account_id == account_id, PushToken.token == token)
    ).scalar_one_or_none()
    if found is None or found.profile_id != profile_id or found.enablement_status == UNREGISTERED:
        return False
    unregister_token(session, account_id, profile_id, token)
    return True
