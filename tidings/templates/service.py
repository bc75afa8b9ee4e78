"""Templates and universal content: validation at write time, storage, cloning, rendering.

Every template part (html, text, amp) is compiled when it is written, so a syntax error,
an unknown tag or filter, or an include of missing universal content is a 400 at create or
update time, never a surprise at send time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import short_id, ulid
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput, NotFound, PayloadTooLarge
from tidings.templates import repository
from tidings.templates.context import FeedsView, catalog_lookup, feed_lookup, recommender
from tidings.templates.engine import (
    CompiledTemplate,
    MessageSkipped,
    RenderError,
    TemplateError,
    TemplateTooLarge,
    compile_cached,
)
from tidings.templates.limits import DEFAULT_LIMITS, RenderLimitExceeded, RenderLimits, shared_budget
from tidings.templates.links import LinkBuilder, LinkSigner, instance_secret
from tidings.templates.sandbox import RenderEnv, freeze
from tidings.templates.schemas import (
    BlockDefinition,
    TemplateCreateAttributes,
    TemplateUpdateAttributes,
    UniversalContentCreateAttributes,
    UniversalContentUpdateAttributes,
)
from tidings.templates.tables import Template, UniversalContent

MAX_TEMPLATES = 1000  # Klaviyo's limit on templates created through the API
PARTS = ("html", "text", "amp")


# ---------------------------------------------------------------------------- validation


def reject_nul(value: Any, pointer: str) -> None:
    """PostgreSQL text and JSONB cannot hold NUL characters; refuse them as bad input."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput("Text must not contain NUL characters.", pointer=pointer)
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key, pointer)
            reject_nul(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            reject_nul(item, f"{pointer}/{index}")


def _found(resource_id: str) -> bool:
    return "\x00" not in resource_id


def template_error(error: TemplateError, pointer: str) -> APIError:
    if isinstance(error, TemplateTooLarge):
        return PayloadTooLarge(error.message, pointer=pointer)
    where = f" on line {error.line}" if error.line else ""
    return InvalidInput(
        f"Template syntax error{where}: {error.message}",
        pointer=pointer,
        meta={"line": error.line, "message": error.message},
    )


def compile_parts(session: Session, account_id: str, parts: dict[str, str | None], base: str) -> None:
    """Compile each part; report every broken part at once (413 wins over 400)."""
    errors: list[APIError] = []
    includes: dict[str, set[str]] = {}
    for name, source in parts.items():
        if source is None:
            continue
        try:
            includes[name] = compile_cached(source).universal_ids
        except TemplateError as error:
            errors.append(template_error(error, f"{base}/{name}"))
    for name, ids in includes.items():
        missing = sorted(ids - repository.existing_universal_ids(session, account_id, ids))
        for content_id in missing:
            errors.append(
                InvalidInput(
                    f"Universal content {content_id!r} does not exist; it cannot be included.",
                    pointer=f"{base}/{name}",
                )
            )
    if not errors:
        return
    if any(error.status == 413 for error in errors):
        raise next(error for error in errors if error.status == 413)
    raise ErrorList(errors)


# ---------------------------------------------------------------------------- templates


def get_template(session: Session, account_id: str, template_id: str) -> Template:
    template = repository.get_template(session, account_id, template_id) if _found(template_id) else None
    if template is None:
        raise NotFound(f"A template with id {template_id} does not exist.")
    return template


def _new_template_id(session: Session, account_id: str) -> str:
    while True:
        candidate = short_id()
        if not repository.template_exists(session, account_id, candidate):
            return candidate


def _check_quota(session: Session, account_id: str) -> None:
    if repository.count_templates(session, account_id) >= MAX_TEMPLATES:
        raise InvalidInput(
            f"This account has {MAX_TEMPLATES} templates, the most that can be created through the API.",
            pointer="/data",
        )


def create_template(session: Session, account_id: str, attrs: TemplateCreateAttributes) -> Template:
    base = "/data/attributes"
    reject_nul(attrs.model_dump(), base)
    if attrs.editor_type in ("CODE", "USER_DRAGGABLE") and attrs.html is None:
        raise InvalidInput(f"'html' is required for {attrs.editor_type} templates.", pointer=f"{base}/html")
    compile_parts(session, account_id, {"html": attrs.html, "text": attrs.text, "amp": attrs.amp}, base)
    _check_quota(session, account_id)
    now = utcnow()
    template = Template(
        account_id=account_id,
        id=_new_template_id(session, account_id),
        name=attrs.name,
        editor_type=attrs.editor_type,
        html=attrs.html or "",
        text=attrs.text,
        amp=attrs.amp,
        created=now,
        updated=now,
    )
    session.add(template)
    session.flush()
    return template


def update_template(
    session: Session, account_id: str, template_id: str, attrs: TemplateUpdateAttributes
) -> Template:
    template = get_template(session, account_id, template_id)
    reject_nul(attrs.model_dump(), "/data/attributes")
    if attrs.definition is not None:
        raise InvalidInput(
            f"'definition' is only for SYSTEM_DRAGGABLE templates; this one is {template.editor_type}.",
            pointer="/data/attributes/definition",
        )
    sent = attrs.model_fields_set
    parts = {name: getattr(attrs, name) for name in PARTS if name in sent}
    compile_parts(session, account_id, parts, "/data/attributes")
    if "name" in sent and attrs.name is not None:
        template.name = attrs.name
    if "html" in sent:
        template.html = attrs.html or ""
    if "text" in sent:
        template.text = attrs.text
    if "amp" in sent:
        template.amp = attrs.amp
    template.updated = utcnow()
    session.flush()
    return template


def delete_template(session: Session, account_id: str, template_id: str) -> None:
    session.delete(get_template(session, account_id, template_id))
    session.flush()


def clone_template(session: Session, account_id: str, template_id: str, name: str | None) -> Template:
    source = get_template(session, account_id, template_id)
    reject_nul(name, "/data/attributes/name")
    _check_quota(session, account_id)
    now = utcnow()
    clone = Template(
        account_id=account_id,
        id=_new_template_id(session, account_id),
        name=name or f"Clone of {source.name}"[:255],
        editor_type=source.editor_type,
        html=source.html,
        text=source.text,
        amp=source.amp,
        definition=source.definition,
        created=now,
        updated=now,
    )
    session.add(clone)
    session.flush()
    return clone


def template_attributes(template: Template, *, definition: bool = False) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "name": template.name,
        "editor_type": template.editor_type,
        "html": template.html,
        "text": template.text,
        "amp": template.amp,
        "created": template.created.isoformat(),
        "updated": template.updated.isoformat(),
    }
    if definition:  # additional-fields[template]=definition; only SYSTEM_DRAGGABLE templates have one
        attributes["definition"] = template.definition
    return attributes


# ---------------------------------------------------------------------------- universal content


def block_source(definition: dict[str, Any] | BlockDefinition) -> str:
    """The template source a block contributes where a template includes it."""
    block = (
        definition if isinstance(definition, BlockDefinition) else BlockDefinition.model_validate(definition)
    )
    if block.type in ("html", "text") and block.data is not None:
        return block.data.content or ""
    if block.type == "horizontal_rule":
        return "<hr>"
    return ""  # buttons, images, spacers: drag-and-drop blocks Tidings does not lay out


def _check_block(definition: BlockDefinition) -> None:
    pointer = "/data/attributes/definition/data/content"
    try:
        compiled = compile_cached(block_source(definition))
    except TemplateError as error:
        raise template_error(error, pointer) from None
    if compiled.universal_ids:
        raise InvalidInput("Universal content cannot include other universal content.", pointer=pointer)


def get_universal(session: Session, account_id: str, content_id: str) -> UniversalContent:
    content = repository.get_universal(session, account_id, content_id) if _found(content_id) else None
    if content is None:
        raise NotFound(f"A universal content with id {content_id} does not exist.")
    return content


def create_universal(
    session: Session, account_id: str, attrs: UniversalContentCreateAttributes
) -> UniversalContent:
    reject_nul(attrs.model_dump(), "/data/attributes")
    _check_block(attrs.definition)
    now = utcnow()
    content = UniversalContent(
        account_id=account_id,
        id=ulid(),
        name=attrs.name,
        definition=attrs.definition.model_dump(mode="json", exclude_none=False),
        content_type=attrs.definition.content_type,
        block_type=attrs.definition.type,
        created=now,
        updated=now,
    )
    session.add(content)
    session.flush()
    return content


def update_universal(
    session: Session, account_id: str, content_id: str, attrs: UniversalContentUpdateAttributes
) -> UniversalContent:
    content = get_universal(session, account_id, content_id)
    reject_nul(attrs.model_dump(), "/data/attributes")
    if attrs.name is not None:
        content.name = attrs.name
    if attrs.definition is not None:
        _check_block(attrs.definition)
        content.definition = attrs.definition.model_dump(mode="json", exclude_none=False)
        content.content_type = attrs.definition.content_type
        content.block_type = attrs.definition.type
    content.updated = utcnow()
    session.flush()
    return content


def delete_universal(session: Session, account_id: str, content_id: str) -> None:
    session.delete(get_universal(session, account_id, content_id))
    session.flush()


def universal_attributes(content: UniversalContent) -> dict[str, Any]:
    return {
        "name": content.name,
        "definition": content.definition,
        "created": content.created.isoformat(),
        "updated": content.updated.isoformat(),
        "screenshot_status": "never_generated",
        "screenshot_url": "",
    }


def universal_resolver(session: Session, account_id: str) -> Callable[[str], CompiledTemplate | None]:
    """id -> compiled universal content, looked up once per render."""
    seen: dict[str, CompiledTemplate | None] = {}

    def resolve(content_id: str) -> CompiledTemplate | None:
        if content_id not in seen:
            content = repository.get_universal(session, account_id, content_id)
            seen[content_id] = compile_cached(block_source(content.definition)) if content else None
        return seen[content_id]

    return resolve


# ---------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Rendered:
    html: str
    text: str | None
    amp: str | None


def link_signer(session: Session, secret_key: str | None, public_url: str | None) -> LinkSigner:
    return LinkSigner(instance_secret(session, secret_key), public_url)


def render_template(
    session: Session,
    account_id: str,
    template_id: str,
    context: dict[str, Any],
    *,
    signer: LinkSigner,
    currency: str = "USD",
    timezone: str = "UTC",
    limits: RenderLimits = DEFAULT_LIMITS,
) -> tuple[Template, Rendered]:
    """Klaviyo's render endpoint: the context's keys are the template's top-level variables.

    The parts share one budget: one deadline and one work limit for the whole request.
    """
    template = get_template(session, account_id, template_id)
    env = RenderEnv(
        universal=universal_resolver(session, account_id),
        catalog=catalog_lookup(session, account_id),
        recommend=recommender(session, account_id),
        links=LinkBuilder(signer, account_id),
        currency=currency,
        timezone=timezone,
    )
    out: dict[str, str | None] = {}
    try:
        data = freeze(context)  # once for the three parts
    except RenderLimitExceeded as error:
        raise InvalidInput(str(error), pointer="/data/attributes/context") from None
    if "feeds" not in data:  # the account's web feeds, as a send would see them
        dict.__setitem__(data, "feeds", FeedsView(feed_lookup(session, account_id)))
    with shared_budget(limits):
        for name in PARTS:
            out[name] = _render_part(getattr(template, name), name, data, env)
    return template, Rendered(html=out["html"] or "", text=out["text"], amp=out["amp"])


def _render_part(source: str | None, name: str, data: Any, env: RenderEnv) -> str | None:
    if source is None:
        return None
    try:
        return compile_cached(source).render(data, env=env)
    except TemplateError as error:  # stored before a rule tightened; report, never 500
        raise template_error(error, f"/data/attributes/{name}") from None
    except RenderError as error:
        raise InvalidInput(
            f"The {name} part could not be rendered: {error}",
            pointer="/data",
            meta={"limit": error.limit} if error.limit else None,
        ) from None
    except MessageSkipped as skipped:
        raise InvalidInput(f"The message would be skipped: {skipped.reason}.", pointer="/data") from None
