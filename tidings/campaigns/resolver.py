"""What delivery sends for a campaign message: its definition, built when a ledger row is claimed.

Registered by the composition root as the resolver of `SourceKind.CAMPAIGN_MESSAGE`, so a
message edited while its rows wait is sent as it is at send time. The message's events carry
Klaviyo's campaign properties (`$message`, `Campaign Name`, `Subject`, `$variation`) and its
links the dynamic UTM values a campaign knows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tidings.campaigns import repository, variants
from tidings.campaigns.tables import Campaign, CampaignMessage, CampaignVariation
from tidings.delivery.messages import EmailDefinition, PushDefinition, SmsDefinition


def resolve(
    session: Session, account_id: str, campaign_message_id: str
) -> EmailDefinition | SmsDefinition | PushDefinition | None:
    """The delivery definition of one campaign message, or None when it (or its campaign) is gone."""
    return resolve_variation(session, account_id, campaign_message_id, campaign_message_id)


def resolve_variation(
    session: Session, account_id: str, campaign_message_id: str, variation_id: str
) -> EmailDefinition | SmsDefinition | PushDefinition | None:
    """The definition of one variation of a campaign message (its id: the default variation, the
    message itself); None when it, its message or its campaign is gone."""
    message = repository.get_message(session, account_id, campaign_message_id)
    if message is None:
        return None
    campaign = repository.get_campaign(session, account_id, message.campaign_id)
    if campaign is None or campaign.status.startswith("Cancelled"):
        return None  # gone or cancelled: a row claimed anyway is skipped, never sent
    if variation_id != message.id:
        variation = session.get(CampaignVariation, (account_id, variation_id))
        if variation is None or variation.message_id != message.id:
            return None
        message = variants.merged(message, variation)
    smart_sending = bool((campaign.send_options or {}).get("use_smart_sending", True))
    content: dict[str, Any] = dict(message.definition.get("content") or {})
    context: dict[str, Any] = {
        "$message": message.id,
        "Campaign Name": campaign.name,
        # The default variation of a message is the message itself; A/B variations have their own.
        "$variation": variation_id,
    }
    if message.channel == "email":
        return _email(campaign, message, content, context, smart_sending)
    if message.channel == "sms":
        return SmsDefinition(
            body=str(content.get("body") or ""),
            media_url=content.get("media_url"),
            smart_sending=smart_sending,
            context=context,
        )
    return _push(message, content, context, smart_sending)


def utm_values(campaign: Campaign, message_type: str, subject: str | None = None) -> dict[str, str]:
    values = {
        "campaign_id": campaign.id,
        "campaign_name": campaign.name,
        "campaign_name_id": f"{campaign.name} ({campaign.id})",
        "message_type": message_type,
    }
    if subject is not None:
        values["email_subject"] = subject
    return values


def _email(
    campaign: Campaign,
    message: CampaignMessage,
    content: dict[str, Any],
    context: dict[str, Any],
    smart_sending: bool,
) -> EmailDefinition:
    tracking = campaign.tracking_options or {}
    subject = str(content.get("subject") or "")
    return EmailDefinition(
        # The message's own copy of its template (not a row of the templates table).
        html=message.template_html,
        text=message.template_text,
        subject=subject,
        preview_text=content.get("preview_text"),
        from_email=content.get("from_email"),
        from_label=content.get("from_label"),
        reply_to_email=content.get("reply_to_email"),
        transactional=False,
        smart_sending=smart_sending,
        track_opens=tracking.get("is_tracking_opens") is not False,
        track_clicks=tracking.get("is_tracking_clicks") is not False,
        add_tracking_params=tracking.get("add_tracking_params"),
        utm_values=utm_values(campaign, "email", subject),
        context={**context, "Subject": subject},
    )


def _push(
    message: CampaignMessage, content: dict[str, Any], context: dict[str, Any], smart_sending: bool
) -> PushDefinition:
    stored = message.definition
    options = stored.get("options") or {}
    badge_options = ((options.get("badge") or {}).get("badge_options")) or {}
    badge: int | None = None
    if (options.get("badge") or {}).get("display"):
        value = str(badge_options.get("value") or "")
        badge = int(value) if badge_options.get("badge_config") == "set_count" and value.isdigit() else 1
    data = {str(key): str(value) for key, value in (stored.get("kv_pairs") or {}).items()}
    return PushDefinition(
        title=content.get("title"),
        body=str(content.get("body") or ""),
        data=data,
        sound="default" if options.get("play_sound") else None,
        badge=badge,
        smart_sending=smart_sending,
        context=context,
    )
