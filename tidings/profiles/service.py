"""Profile behaviour behind the REST and client endpoints (no FastAPI here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jsonapi.errors import APIError, Conflict, ErrorList, InvalidInput, NotFound
from tidings.profiles import merge as merging
from tidings.profiles import push_tokens, repository
from tidings.profiles.attributes import (
    PatchProperties,
    ProfileAttributes,
    check_properties,
)
from tidings.profiles.identifiers import IDENTIFIER_FIELDS, check_identifiers
from tidings.profiles.identity import ProfileInput, Resolution, Source, resolve_batch
from tidings.profiles.schemas import (
    EmbeddedProfileData,
    PushTokenAttributesIn,
    PushTokenUnregisterAttributesIn,
    sent,
)
from tidings.profiles.tables import PROFILES, Profile, ProfileMerge

ATTRIBUTES = "/data/attributes"
log = structlog.get_logger("tidings.profiles")
EMBEDDED = "/data/attributes/profile/data/attributes"  # a profile block inside another document


class DuplicateProfile(Conflict):
    code = "duplicate_profile"

    def __init__(self, profile_id: str) -> None:
        super().__init__(
            "A profile already exists with one of these identifiers.",
            pointer=ATTRIBUTES,
            meta={"duplicate_profile_id": profile_id},
        )


def not_found(profile_id: str) -> NotFound:
    return NotFound(f"A profile with id {profile_id} does not exist.")


@dataclass
class Written:
    profile: Profile
    created: bool
    ignored: list[str] = field(default_factory=list)


def build_input(
    attributes: dict[str, Any],
    *,
    profile_id: str | None = None,
    meta: dict[str, Any] | None = None,
    partial: bool = True,
    clear: bool = False,
    pointer: str = ATTRIBUTES,
) -> tuple[ProfileInput, list[str]]:
    """A validated ProfileInput from a profile block's attributes (the wire names), or 400s.

    Returns the input and the identifier fields dropped as partial failures.
    """
    item, ignored, errors = check_input(
        attributes, profile_id=profile_id, meta=meta, partial=partial, clear=clear, pointer=pointer
    )
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorList(errors)
    return item, ignored


def check_input(
    attributes: dict[str, Any],
    *,
    profile_id: str | None = None,
    meta: dict[str, Any] | None = None,
    partial: bool = True,
    clear: bool = False,
    pointer: str = ATTRIBUTES,
) -> tuple[ProfileInput, list[str], list[APIError]]:
    """As build_input, returning the problems instead of raising them (bulk imports report each
    bad profile and apply the others). The input is meaningful only when there are no errors."""
    checked = check_identifiers(attributes, has_profile_id=bool(profile_id), partial=partial)
    errors: list[APIError] = [InvalidInput(e.detail, pointer=f"{pointer}/{e.field}") for e in checked.errors]
    errors += check_properties(attributes.get("properties"), f"{pointer}/properties")
    patch_raw = (meta or {}).get("patch_properties")
    if patch_raw:
        for name in ("append", "unappend"):
            errors += check_properties(patch_raw.get(name), f"/data/meta/patch_properties/{name}")
    values = checked.values
    descriptive = {k: v for k, v in attributes.items() if k not in IDENTIFIER_FIELDS}
    item = ProfileInput(
        id=profile_id,
        email=values.get("email"),
        phone_number=values.get("phone_number"),
        external_id=values.get("external_id"),
        anonymous_id=values.get("anonymous_id"),
        kx=values.get("_kx"),
        attributes=ProfileAttributes.from_dict(descriptive),
        patch_properties=PatchProperties.from_meta(patch_raw),
        clear=frozenset(k for k, v in values.items() if v is None) if clear else frozenset(),
    )
    return item, checked.ignored, errors


def _require_identifier(item: ProfileInput, ignored: list[str]) -> None:
    if not item.has_identifier():
        raise InvalidInput(
            "A profile needs at least one identifier: email, phone_number or external_id.", pointer=ATTRIBUTES
        )


def _written(session: Session, account_id: str, result: Resolution, ignored: list[str]) -> Written:
    if result.not_found:
        raise not_found("(unknown)")
    if result.conflict is not None:
        raise DuplicateProfile(result.conflict.profile_id)
    if result.error:
        raise InvalidInput(result.error, pointer=f"{ATTRIBUTES}/properties")
    assert result.profile_id is not None
    profile = repository.get_profile(session, account_id, result.profile_id)
    assert profile is not None
    return Written(profile, result.created, ignored + result.ignored)


def create_profile(session: Session, account_id: str, attributes: dict[str, Any]) -> Written:
    item, ignored = build_input(attributes)
    _require_identifier(item, ignored)
    [result] = resolve_batch(session, account_id, [item], source=Source.API, create_only=True)
    return _written(session, account_id, result, ignored)


def create_or_update_profile(
    session: Session,
    account_id: str,
    attributes: dict[str, Any],
    *,
    profile_id: str | None,
    meta: dict[str, Any] | None,
) -> Written:
    item, ignored = build_input(attributes, profile_id=profile_id, meta=meta, clear=True)
    _require_identifier(item, ignored)
    [result] = resolve_batch(session, account_id, [item], source=Source.API)
    if result.not_found:
        raise not_found(str(profile_id))
    return _written(session, account_id, result, ignored)


def update_profile(
    session: Session,
    account_id: str,
    profile_id: str,
    body_id: str,
    attributes: dict[str, Any],
    meta: dict[str, Any] | None,
) -> Written:
    if body_id != profile_id:
        raise InvalidInput(
            f"The id in the body ({body_id}) must match the id in the path.", pointer="/data/id"
        )
    if repository.get_profile(session, account_id, profile_id) is None:
        raise not_found(profile_id)
    item, ignored = build_input(attributes, profile_id=profile_id, meta=meta, partial=False, clear=True)
    [result] = resolve_batch(session, account_id, [item], source=Source.API)
    if result.not_found:
        raise not_found(profile_id)
    return _written(session, account_id, result, ignored)


def get_profile(session: Session, account_id: str, profile_id: str) -> Profile:
    profile = repository.get_profile(session, account_id, profile_id)
    if profile is None:
        raise not_found(profile_id)
    return profile


def merge_profiles(session: Session, account_id: str, destination_id: str, source_ids: list[str]) -> str:
    """Merge one source profile into the destination (Klaviyo takes exactly one); the merge id."""
    if len(source_ids) != 1:
        raise InvalidInput(
            "Exactly one source profile must be given to merge.", pointer="/data/relationships/profiles/data"
        )
    source_id = source_ids[0]
    if source_id == destination_id:
        raise InvalidInput(
            "A profile cannot be merged into itself.", pointer="/data/relationships/profiles/data/0/id"
        )
    rows = {
        row["id"]: dict(row)
        for row in session.execute(
            select(PROFILES)
            .where(PROFILES.c.account_id == account_id, PROFILES.c.id.in_([destination_id, source_id]))
            .order_by(PROFILES.c.id)
            .with_for_update()
        ).mappings()
    }
    if destination_id not in rows:
        raise NotFound(f"A profile with id {destination_id} does not exist.", pointer="/data/id")
    if source_id not in rows:
        raise NotFound(
            f"A profile with id {source_id} does not exist.", pointer="/data/relationships/profiles/data/0/id"
        )
    source, destination = rows[source_id], rows[destination_id]
    combined = merging.combine(source, destination)
    plan = merging.MergePlan(
        merge_id=ulid(),
        source=source,
        destination_id=destination_id,
        filled=combined.filled,
        added_properties=combined.added_properties,
        reason="api",
        trigger={"source": "merge_profiles"},
    )
    now = utcnow()
    merging.apply_merge(session, account_id, plan, at=now)
    values: dict[str, Any] = dict(combined.filled)
    if combined.added_properties:
        values["properties"] = {**(destination["properties"] or {}), **combined.added_properties}
    values["updated"] = now
    session.execute(
        update(PROFILES)
        .where(PROFILES.c.account_id == account_id, PROFILES.c.id == destination_id)
        .values(values)
    )
    session.expire_all()
    return plan.merge_id


# ------------------------------------------------------------------ unmerge


def find_merge_account(session: Session, merge_id: str) -> str:
    """The account of a merge id (merge ids are ULIDs, unique across accounts); for the CLI."""
    account_id = session.execute(select(ProfileMerge.account_id).where(ProfileMerge.id == merge_id)).scalar()
    if account_id is None:
        raise NotFound(f"A profile merge with id {merge_id} does not exist.")
    return str(account_id)


def unmerge(session: Session, account_id: str, merge_id: str) -> Any:
    return merging.unmerge(session, account_id, merge_id)


# ------------------------------------------------------------------ embedded profile blocks


def resolve_block(
    session: Session,
    account_id: str,
    attributes: dict[str, Any],
    *,
    profile_id: str | None,
    meta: dict[str, Any] | None,
    source: Source,
    pointer: str,
) -> Resolution:
    """Resolve a profile block embedded in another write (push tokens, client profiles)."""
    meta = meta or attributes.pop("meta", None)
    item, ignored = build_input(attributes, profile_id=profile_id, meta=meta, pointer=pointer)
    if not item.has_identifier():
        raise InvalidInput("The profile needs at least one identifier.", pointer=pointer)
    [result] = resolve_batch(session, account_id, [item], source=source)
    if result.not_found:
        raise NotFound(
            f"A profile with id {profile_id} does not exist.", pointer=pointer.rsplit("/", 1)[0] + "/id"
        )
    if result.conflict is not None:
        raise DuplicateProfile(result.conflict.profile_id)
    if result.error:
        # The write it is part of goes on (a push token, a subscription); what was not saved is
        # said in the log (and, on /client/profiles, in the partial-failure header).
        log.warning(
            "profiles.properties_not_saved",
            account_id=account_id,
            profile_id=result.profile_id,
            source=source.value,
            error=result.error,
        )
    result.ignored = ignored + result.ignored
    return result


# ------------------------------------------------------------------ push tokens


def register_push_token(
    session: Session, account_id: str, attributes: PushTokenAttributesIn, *, source: Source
) -> None:
    """create_push_token / create_client_push_token: resolve the token's profile, then keep it."""
    result = _resolve_embedded(session, account_id, attributes.profile.data, source=source)
    assert result.profile_id is not None
    push_tokens.register_token(session, account_id, result.profile_id, sent(attributes))


def unregister_push_token(
    session: Session, account_id: str, attributes: PushTokenUnregisterAttributesIn
) -> None:
    """unregister_client_push_token: the profile's token is marked unregistered."""
    block = attributes.profile.data
    result = resolve_block(
        session,
        account_id,
        sent(block.attributes),
        profile_id=block.id,
        meta=None,
        source=Source.CLIENT,
        pointer=EMBEDDED,
    )
    push_tokens.unregister_token(session, account_id, result.profile_id, attributes.token)


def _resolve_embedded(
    session: Session, account_id: str, block: EmbeddedProfileData, *, source: Source
) -> Resolution:
    return resolve_block(
        session,
        account_id,
        sent(block.attributes),
        profile_id=block.id,
        meta=sent(block.meta) if block.meta else None,
        source=source,
        pointer=EMBEDDED,
    )
