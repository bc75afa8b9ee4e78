"""Settings, read from `TIDINGS_*` environment variables and an optional `.env` file.

Every setting is documented in docs/CONFIGURATION.md; a test fails when one is not.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"  # links and image URLs when TIDINGS_PUBLIC_URL is unset


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_", env_file=".env", extra="ignore")

    # Storage
    database_url: str = "sqlite:///./tidings.db"
    db_pool_size: int = Field(10, ge=1)
    sqlite_busy_timeout_ms: int = Field(10_000, ge=0)

    # HTTP
    public_url: str | None = None
    # Host names whose Host header links may follow when public_url is unset (`*`: any).
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    secret_key: str | None = None
    max_body_bytes: int = Field(5 * 1024 * 1024, ge=1024)

    # Private keys (revocation reaches every process within the interval; failed lookups per client
    # address are limited so that guessing keys cannot cost a database lookup per request)
    key_check_interval: float = Field(1.0, ge=0)
    auth_failures_per_minute: int = Field(20, ge=1)

    # Rate limits (Klaviyo's per-operation limits from the spec, per account)
    rate_limits_enabled: bool = True
    rate_limit_scale: float = Field(1.0, gt=0)
    redis_url: str | None = None

    # Background jobs
    workers: int = Field(1, ge=0)
    network_workers: int = Field(1, ge=0)
    job_poll_interval: float = Field(0.5, gt=0)
    job_lease_seconds: int = Field(60, ge=1)
    job_max_attempts: int = Field(10, ge=1)
    job_retention_hours: int = Field(24, ge=0)

    # Templates: what one render may spend (tidings/templates/limits.py)
    template_render_seconds: float = Field(2.0, gt=0)
    template_max_output_chars: int = Field(5 * 1024 * 1024, ge=1024)
    template_max_items: int = Field(100_000, ge=100)
    # Images of the asset library (tidings/images/): where their files are kept
    image_dir: str = "./images"
    # Outbound requests to URLs users give (webhooks, feeds): true allows private, loopback and
    # link-local addresses, and plain http to loopback (local development and tests only)
    allow_private_urls: bool = False
    # Catalog feeds (scheduled downloads)
    feed_timeout_seconds: float = Field(300.0, gt=0)
    feed_max_bytes: int = Field(1024 * 1024 * 1024, ge=1)
    # Web feeds (tidings/web_feeds/): how often each is refreshed, how long and how large a fetch may be
    web_feed_refresh_seconds: int = Field(900, ge=10)
    web_feed_timeout_seconds: float = Field(5.0, gt=0)
    web_feed_max_bytes: int = Field(4 * 1024 * 1024, ge=1)

    # Delivery: who sends (tidings/delivery/providers/), how much at once, and where mail comes back
    delivery_workers: int = Field(1, ge=0)
    delivery_batch: int = Field(200, ge=1)
    delivery_lease_seconds: float = Field(120.0, gt=0)
    email_provider: str = Field("outbox", pattern="^(outbox|smtp)$")
    outbox_dir: str = "./outbox"
    smtp_url: str | None = None
    smtp_max_connections: int = Field(8, ge=1)
    smtp_rate_per_second: float = Field(0.0, ge=0)  # 0: as fast as the relay takes them
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    default_from_email: str = "tidings@localhost"
    bounce_domain: str | None = None  # VERP return path bounces+<token>@<domain>; unset: none
    bounce_smtp_host: str = "127.0.0.1"  # the bounce listener (`tidings bounces listen`)
    bounce_smtp_port: int | None = Field(None, ge=1, le=65535)  # set: `tidings serve` runs it too
    sendgrid_webhook_public_key: str | None = None  # POST /webhooks/email/sendgrid (ECDSA, base64)
    mailgun_webhook_signing_key: str | None = None  # POST /webhooks/email/mailgun (HMAC-SHA256)
    postmark_webhook_auth: str | None = None  # POST /webhooks/email/postmark: "user:password"
    sms_provider: str = Field("log", pattern="^(log|twilio)$")
    twilio_api_url: str = "https://api.twilio.com"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None  # a number (+15551234567) or a Messaging Service SID (MG...)
    # The answer to HELP / INFO ({organization}: the account's name)
    sms_help_text: str = (
        "{organization}: reply STOP to unsubscribe, START to resubscribe. Msg & data rates may apply."
    )
    sms_inbound_account: str | None = None  # owns texts from numbers no account has sent an SMS to
    push_provider: str = Field("log", pattern="^(log|fcm|apns)$")
    fcm_api_url: str = "https://fcm.googleapis.com"
    fcm_credentials_file: str | None = None
    apns_api_url: str = "https://api.push.apple.com"
    apns_key_file: str | None = None
    apns_key_id: str | None = None
    apns_team_id: str | None = None
    apns_topic: str | None = None
    # Open and click hits: false lets PostgreSQL acknowledge them before its WAL is on disk
    tracking_synchronous_commit: bool = True

    # Outbound webhooks (tidings/webhooks/): senders per process, events per request, how long one
    # request may take and how much of its answer is read, how long delivered batches are kept
    webhook_workers: int = Field(1, ge=0)
    webhook_batch_size: int = Field(100, ge=1, le=1000)
    webhook_timeout_seconds: float = Field(15.0, gt=0)
    webhook_max_response_bytes: int = Field(64 * 1024, ge=1024)
    webhook_retention_days: int = Field(30, ge=1)

    # The web app (/app): sessions and their cookie.
    web_session_idle_hours: float = Field(12.0, gt=0)  # a session unused this long ends
    web_session_max_days: float = Field(14.0, gt=0)  # and any session ends this long after sign-in
    web_cookie_secure: str = Field("auto", pattern="^(auto|true|false)$")  # auto: Secure on https
    web_dist_dir: str | None = None  # the built app (default: web/dist of the checkout, or the package's)

    # Logs
    log_level: str = "INFO"
    log_format: str = Field("json", pattern="^(json|console)$")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        """`TIDINGS_ALLOWED_HOSTS=tidings.example.com,localhost`: names, compared lower-cased."""
        names = value.split(",") if isinstance(value, str) else value
        if isinstance(names, list | tuple):
            return [str(name).strip().lower() for name in names if str(name).strip()]
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
