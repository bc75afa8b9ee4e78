"""The composition root: the one module that names every domain and wires them together.

Domains stand in layers and import only downward (the import contract in `.importlinter`
says which way is down). When a lower domain must let higher ones react (events written,
profiles changed, list memberships changed, a merge or a deletion, a profile's document),
it offers a hook, a registry or a gateway protocol, and this module makes the registrations:
which routers the app serves, which tables the migrations know, which job handlers the
workers run, who listens to whom. No domain registers anything when it is imported.

`install()` makes the registrations once; the app factory, the workers, the CLI, the Alembic
environment and the test fixtures call it. `build_runtime()` builds a process's `Runtime`
with the domains' process-wide parts (the key authority, the ingestion inbox writer).
"""

from __future__ import annotations

import threading

from fastapi import APIRouter

# Tables: imported so that every table is in the metadata (migrations, autogenerate).
from tidings.accounts import hooks as account_hooks
from tidings.accounts import tables as _accounts_tables  # noqa: F401
from tidings.accounts.authority import KeyAuthority
from tidings.accounts.routes import router as accounts_router
from tidings.campaigns import jobs as campaign_jobs
from tidings.campaigns import resolver as campaign_resolver
from tidings.campaigns import tables as _campaigns_tables  # noqa: F401
from tidings.campaigns.routes import router as campaigns_router
from tidings.campaigns.routes_audiences import router as campaign_audiences_router
from tidings.campaigns.routes_schedules import router as campaign_schedules_router
from tidings.campaigns.routes_send_jobs import router as campaign_send_jobs_router
from tidings.campaigns.routes_variations import router as campaign_variations_router
from tidings.campaigns.tagging import CAMPAIGNS as TAGGABLE_CAMPAIGNS
from tidings.catalogs import jobs as catalog_jobs
from tidings.catalogs import tables as _catalogs_tables  # noqa: F401
from tidings.catalogs.routes import router as catalogs_router
from tidings.catalogs.routes_bis import router as back_in_stock_router
from tidings.catalogs.routes_bulk import router as catalog_bulk_router
from tidings.config import Settings
from tidings.consent import facets as consent_facets
from tidings.consent import gateways as consent_gateways
from tidings.consent import hooks as consent_hooks
from tidings.consent import jobs as consent_jobs
from tidings.consent import tables as _consent_tables  # noqa: F401
from tidings.consent.participants import CONSENT
from tidings.consent.routes import client_router as consent_client_router
from tidings.consent.routes import router as consent_router
from tidings.coupons import jobs as coupon_jobs
from tidings.coupons import tables as _coupons_tables  # noqa: F401
from tidings.coupons.participants import COUPON_CODES
from tidings.coupons.routes import router as coupons_router
from tidings.db.session import Database
from tidings.delivery import jobs as delivery_jobs
from tidings.delivery import optin, transactional
from tidings.delivery import sources as delivery_sources
from tidings.delivery import tables as _delivery_tables  # noqa: F401
from tidings.delivery.pages import router as recipient_pages_router
from tidings.delivery.participants import SENDS
from tidings.delivery.routes import router as delivery_router
from tidings.delivery.routes_sending import router as sending_settings_router
from tidings.delivery.routes_sms import router as sms_webhooks_router
from tidings.delivery.routes_tracking import router as tracking_settings_router
from tidings.delivery.routes_webhooks import router as delivery_webhooks_router
from tidings.delivery.tables import SourceKind
from tidings.delivery.tracking_hits import HitWriter
from tidings.delivery.tracking_routes import router as tracking_router
from tidings.delivery.worker import DeliveryWorker, delivery_workers
from tidings.events import activity, custom_metrics, flow_triggers
from tidings.events import hooks as event_hooks
from tidings.events import tables as _events_tables  # noqa: F401
from tidings.events.ingest import jobs as event_jobs
from tidings.events.ingest.inbox import InboxWriter
from tidings.events.ingest.routes import router as ingest_router
from tidings.events.participants import PROFILE_EVENTS
from tidings.events.predictive import PREDICTIVE_ANALYTICS
from tidings.events.routes import router as events_router
from tidings.events.routes_metrics import router as metrics_router
from tidings.flows import entry as flow_entry
from tidings.flows import jobs as flow_jobs
from tidings.flows import resolver as flow_resolver
from tidings.flows import tables as _flows_tables  # noqa: F401
from tidings.flows.participants import FLOW_RUNS
from tidings.flows.routes import router as flows_router
from tidings.flows.routes_runs import router as flow_runs_router
from tidings.flows.tagging import FLOWS as TAGGABLE_FLOWS
from tidings.flows.triggers import FlowTriggersReader
from tidings.images import service as image_service
from tidings.images import tables as _images_tables  # noqa: F401
from tidings.images.routes import UPLOAD_PATHS as IMAGE_UPLOAD_PATHS
from tidings.images.routes import public_router as image_files_router
from tidings.images.routes import router as images_router
from tidings.jobs import handlers as queue_jobs
from tidings.jobs import registry as job_registry
from tidings.jobs import tables as _jobs_tables  # noqa: F401
from tidings.jobs.worker import Worker, serving_workers
from tidings.lists import facets as list_facets
from tidings.lists import hooks as list_hooks
from tidings.lists import tables as _lists_tables  # noqa: F401
from tidings.lists.gateway import ListsGateway
from tidings.lists.participants import LIST_MEMBERSHIPS
from tidings.lists.routes import router as lists_router
from tidings.lists.tagging import LISTS as TAGGABLE_LISTS
from tidings.ops.routes import router as ops_router
from tidings.profile_imports import jobs as profile_import_jobs
from tidings.profile_imports import tables as _profile_imports_tables  # noqa: F401
from tidings.profile_imports.participants import IMPORT_JOBS
from tidings.profile_imports.routes import router as profile_imports_router
from tidings.profiles import facets as profile_facets
from tidings.profiles import hooks as profile_hooks
from tidings.profiles import jobs as profile_jobs
from tidings.profiles import participants as profile_participants
from tidings.profiles import tables as _profiles_tables  # noqa: F401
from tidings.profiles.extensions import router as profile_extensions_router
from tidings.profiles.push_tokens import PUSH_TOKENS
from tidings.profiles.routes import client_router as profiles_client_router
from tidings.profiles.routes import router as profiles_router
from tidings.reporting.routes import router as reporting_router
from tidings.runtime import Runtime
from tidings.segments import facets as segment_facets
from tidings.segments import jobs as segment_jobs
from tidings.segments import listeners as segment_listeners
from tidings.segments import tables as _segments_tables  # noqa: F401
from tidings.segments.gateway import SegmentsGateway
from tidings.segments.metric_filters import METRIC_FILTERS
from tidings.segments.participants import SEGMENT_MEMBERSHIPS
from tidings.segments.routes import router as segments_router
from tidings.segments.routes_changes import router as segment_changes_router
from tidings.segments.tagging import SEGMENTS as TAGGABLE_SEGMENTS
from tidings.tags import kinds as tag_kinds
from tidings.tags import service as tags_service
from tidings.tags import tables as _tags_tables  # noqa: F401
from tidings.tags.routes import router as tags_router
from tidings.templates import tables as _templates_tables  # noqa: F401
from tidings.templates.routes import router as templates_router
from tidings.web import tables as _web_tables  # noqa: F401
from tidings.web.routes import router as web_app_router
from tidings.web.sessions import WebSessions
from tidings.web.static import router as web_static_router
from tidings.web_feeds import jobs as web_feed_jobs
from tidings.web_feeds import tables as _web_feeds_tables  # noqa: F401
from tidings.web_feeds.routes import router as web_feeds_router
from tidings.webhooks import jobs as webhook_jobs
from tidings.webhooks import listeners as webhook_listeners
from tidings.webhooks import tables as _webhooks_tables  # noqa: F401
from tidings.webhooks.routes import router as webhooks_router
from tidings.webhooks.routes_deliveries import router as webhook_deliveries_router
from tidings.webhooks.sender import WebhookSender, webhook_senders

# Paths that take bodies larger than TIDINGS_MAX_BODY_BYTES (an image of 5 MB, as a file or a data URI).
UPLOAD_LIMITS: dict[str, int] = dict.fromkeys(IMAGE_UPLOAD_PATHS, image_service.UPLOAD_BODY_BYTES)

# Every router the app serves, lowest domain first.
ROUTERS: tuple[APIRouter, ...] = (
    ops_router,
    accounts_router,
    profiles_router,
    profiles_client_router,
    profile_extensions_router,
    events_router,
    metrics_router,
    ingest_router,
    tags_router,
    lists_router,
    consent_router,
    consent_client_router,
    segments_router,
    segment_changes_router,
    catalogs_router,
    coupons_router,
    images_router,
    web_feeds_router,
    image_files_router,
    catalog_bulk_router,
    back_in_stock_router,
    profile_imports_router,
    templates_router,
    delivery_router,
    recipient_pages_router,
    delivery_webhooks_router,
    sms_webhooks_router,
    tracking_router,
    tracking_settings_router,
    sending_settings_router,
    campaigns_router,
    campaign_variations_router,
    campaign_audiences_router,
    flows_router,
    flow_runs_router,
    webhooks_router,
    webhook_deliveries_router,
    campaign_send_jobs_router,
    campaign_schedules_router,
    reporting_router,
    web_app_router,
    web_static_router,
)

# Every job handler the workers run.
JOBS: tuple[job_registry.JobSpec, ...] = (
    *queue_jobs.JOBS,
    *profile_jobs.JOBS,
    activity.raise_last_event_date,
    *event_jobs.JOBS,
    *consent_jobs.JOBS,
    *segment_jobs.JOBS,
    *catalog_jobs.JOBS,
    *coupon_jobs.JOBS,
    *profile_import_jobs.JOBS,
    *delivery_jobs.JOBS,
    *webhook_jobs.JOBS,
    *campaign_jobs.JOBS,
    *web_feed_jobs.JOBS,
    *flow_jobs.JOBS,
)

# What other domains keep per profile, moved by merges and removed by privacy deletion.
PROFILE_PARTICIPANTS = (
    PROFILE_EVENTS,
    PUSH_TOKENS,
    CONSENT,
    LIST_MEMBERSHIPS,
    SEGMENT_MEMBERSHIPS,
    IMPORT_JOBS,
    SENDS,
    COUPON_CODES,
    FLOW_RUNS,
)

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Make every registration (idempotent; safe from any thread)."""
    global _installed
    with _lock:
        if _installed:
            return
        for spec in JOBS:
            job_registry.register(spec)

        # Listeners, in the writer's transaction.
        event_hooks.EVENTS_WRITTEN.register(activity.keep_last_event_date)
        event_hooks.EVENTS_WRITTEN.register(segment_listeners.events_written)
        event_hooks.EVENTS_WRITTEN.register(webhook_listeners.events_written)
        event_hooks.EVENTS_WRITTEN.register(flow_entry.events_written)
        list_hooks.MEMBERSHIP_CHANGED.register(flow_entry.list_membership_changed)
        list_hooks.MEMBERSHIP_CHANGED.register(segment_listeners.list_membership_changed)
        profile_hooks.PROFILES_CHANGED.register(segment_listeners.profiles_changed)
        consent_hooks.DOUBLE_OPTIN_REQUESTED.register(optin.request_confirmation)
        account_hooks.ACCOUNT_CREATED.register(tags_service.create_default_group)

        # What tags can be put on (flows register here when they exist).
        for taggable in (TAGGABLE_LISTS, TAGGABLE_SEGMENTS, TAGGABLE_CAMPAIGNS, TAGGABLE_FLOWS):
            tag_kinds.register(taggable)

        for participant in PROFILE_PARTICIPANTS:
            profile_participants.register(participant)

        # A profile's document: what consent, events, lists and segments add to it.
        profile_facets.add_field(consent_facets.SUBSCRIPTIONS)
        profile_facets.add_field(PREDICTIVE_ANALYTICS)
        profile_facets.add_filters(consent_facets.SUPPRESSION_FILTERS)
        for sort in consent_facets.SUPPRESSION_SORTS:
            profile_facets.add_sort(sort)
        profile_facets.add_relationship(list_facets.LISTS)
        profile_facets.add_relationship(segment_facets.SEGMENTS)

        # What consent asks of the domains above it.
        consent_gateways.set_list_gateway(ListsGateway())
        consent_gateways.set_segment_gateway(SegmentsGateway())

        # Which flows a metric, a list or a segment triggers (their flow-trigger relationships).
        flow_triggers.set_reader(FlowTriggersReader())
        # A custom metric's property filters: the segment engine's SQL, read by aggregates too.
        custom_metrics.set_filters(METRIC_FILTERS)

        # Where each kind of send finds its message.
        delivery_sources.register(transactional.KIND, transactional.resolve_api_message)
        delivery_sources.register(
            SourceKind.CAMPAIGN_MESSAGE, campaign_resolver.resolve, campaign_resolver.resolve_variation
        )
        delivery_sources.register(SourceKind.FLOW_ACTION, flow_resolver.resolve)
        _installed = True


def build_runtime(settings: Settings, db: Database | None = None) -> Runtime:
    """A process's shared state, with the domains' process-wide parts."""
    install()
    authority = KeyAuthority.for_settings(settings)
    runtime = Runtime.create(settings, db, authority)
    authority.sessions = WebSessions(runtime.db, settings)  # a session cookie authenticates /api too
    runtime.provide(InboxWriter(runtime.db))  # the group-commit writer; its thread starts on first use
    runtime.provide(HitWriter(runtime.db))  # open and click hits, group-committed the same way
    return runtime


def background_workers(
    db: Database, settings: Settings, workers: int | None = None
) -> list[Worker | DeliveryWorker | WebhookSender]:
    """What `tidings serve` runs in-process: job workers of every lane, delivery workers and
    webhook senders (none at all when TIDINGS_WORKERS, or `workers`, is 0)."""
    count = settings.workers if workers is None else workers
    if not count:
        return []
    return [
        *serving_workers(db, settings, count),
        *delivery_workers(db, settings),
        *webhook_senders(db, settings),
    ]
