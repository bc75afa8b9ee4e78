"""The providers, one per channel, chosen by settings: `build(settings, channel)`.

email: `outbox` (the default) or `smtp`; sms: `log` (the default) or `twilio`; push: `log`
(the default), `fcm` or `apns`. To add one, implement `tidings.delivery.provider.Provider`
in a module here and name it below.
"""

from __future__ import annotations

from tidings.config import Settings
from tidings.delivery.provider import Provider
from tidings.delivery.providers.apns import ApnsProvider
from tidings.delivery.providers.fcm import FcmProvider
from tidings.delivery.providers.log import LogProvider
from tidings.delivery.providers.outbox import OutboxProvider
from tidings.delivery.providers.smtp import SmtpProvider
from tidings.delivery.providers.twilio import TwilioProvider
from tidings.delivery.tables import Channel


def build(settings: Settings, channel: Channel) -> Provider:
    if channel is Channel.EMAIL:
        if settings.email_provider == "smtp":
            return SmtpProvider.from_settings(settings)
        return OutboxProvider(settings.outbox_dir)
    if channel is Channel.SMS:
        if settings.sms_provider == "twilio":
            return TwilioProvider.from_settings(settings)
        return LogProvider(channel.value)
    if settings.push_provider == "fcm":
        return FcmProvider.from_settings(settings)
    if settings.push_provider == "apns":
        return ApnsProvider.from_settings(settings)
    return LogProvider(channel.value)
