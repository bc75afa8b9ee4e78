"""What one running process shares across requests: settings, database, limiter, caches."""

from __future__ import annotations

from dataclasses import dataclass, field

from tidings.accounts.keycache import KeyCache
from tidings.accounts.ratelimit import RateLimiter, make_limiter
from tidings.accounts.service import TTLCache
from tidings.config import Settings
from tidings.db.session import Database
from tidings.events.inbox import InboxWriter


@dataclass
class Runtime:
    settings: Settings
    db: Database
    limiter: RateLimiter
    keys: KeyCache = field(default_factory=KeyCache)
    inbox: InboxWriter = field(init=False)
    public_accounts: TTLCache[str] = field(default_factory=TTLCache)

    def __post_init__(self) -> None:
        # The process's group-commit writer for ingestion; its thread starts on first use.
        self.inbox = InboxWriter(self.db)

    @classmethod
    def create(cls, settings: Settings, db: Database | None = None) -> Runtime:
        return cls(
            settings=settings,
            db=db or Database(settings),
            limiter=make_limiter(
                redis_url=settings.redis_url,
                scale=settings.rate_limit_scale,
                enabled=settings.rate_limits_enabled,
            ),
            keys=KeyCache(
                check_interval=settings.key_check_interval,
                failures_per_minute=settings.auth_failures_per_minute,
            ),
        )
