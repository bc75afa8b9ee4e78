"""The four JSON ingestion operations, each by name: the function that accepts its document,
and the facts the routes, the lean path (`fastpath`) and the app's validation error handler
need about it (its models, its inbox kind, whether it is a `/client` operation).

Each accept function takes the document as the pydantic models (`schemas`) or the plain-form
structs (`structs`) read it, and returns the inbox payload (`accept`); the time it is called is
the time the request was received.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec
from pydantic import BaseModel

from tidings.db.base import utcnow
from tidings.events.ingest import structs
from tidings.events.ingest.accept import accept_event, accept_groups, item_errors
from tidings.events.ingest.schemas import BulkJobCreate, EventCreate, ProfileEvents
from tidings.jsonapi.errors import APIError

BULK = "/data/attributes/events-bulk-create/data"


def accept_create_event(document: EventCreate | structs.EventCreate) -> str:
    return accept_event(document.data.attributes, "api", utcnow())


def accept_bulk_create_events(document: BulkJobCreate | structs.BulkJobCreate) -> str:
    return accept_groups(document.data.attributes.events_bulk_create.data, BULK, "api", utcnow())


def accept_create_client_event(document: EventCreate | structs.EventCreate) -> str:
    return accept_event(document.data.attributes, "client", utcnow())


def accept_bulk_create_client_events(document: ProfileEvents | structs.ProfileEvents) -> str:
    return accept_groups([document.data], "", "client", utcnow())


# For a body the models refused: the errors of its items that are well formed on their own.


def no_item_errors(_parsed: Any) -> list[APIError]:
    """A single event has no items: what the model said is all."""
    return []


def bulk_item_errors(parsed: Any) -> list[APIError]:
    return item_errors(_dig(parsed, "data", "attributes", "events-bulk-create", "data"), BULK)


def client_bulk_item_errors(parsed: Any) -> list[APIError]:
    return item_errors(_dig(parsed, "data"), "")


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


Model = TypeVar("Model", bound=BaseModel)
Plain = TypeVar("Plain", bound=msgspec.Struct)


@dataclass(frozen=True)
class Intake(Generic[Model, Plain]):
    """One JSON ingestion operation. `read` decodes a body in its plain form into `Plain` structs
    or raises `structs.NotPlain`, and the pydantic `model` judges the rest; `accept` takes either."""

    operation_id: str
    kind: str  # of its inbox rows
    client: bool  # authenticated by a public key (`company_id`), not a private one
    model: type[Model]
    read: Callable[[bytes], Plain]
    accept: Callable[[Model | Plain], str]
    item_errors: Callable[[Any], list[APIError]]


CREATE_EVENT = Intake(
    "create_event",
    kind="event",
    client=False,
    model=EventCreate,
    read=structs.read_event,
    accept=accept_create_event,
    item_errors=no_item_errors,
)
BULK_CREATE_EVENTS = Intake(
    "bulk_create_events",
    kind="bulk",
    client=False,
    model=BulkJobCreate,
    read=structs.read_bulk,
    accept=accept_bulk_create_events,
    item_errors=bulk_item_errors,
)
CREATE_CLIENT_EVENT = Intake(
    "create_client_event",
    kind="client_event",
    client=True,
    model=EventCreate,
    read=structs.read_event,
    accept=accept_create_client_event,
    item_errors=no_item_errors,
)
BULK_CREATE_CLIENT_EVENTS = Intake(
    "bulk_create_client_events",
    kind="client_bulk",
    client=True,
    model=ProfileEvents,
    read=structs.read_client_bulk,
    accept=accept_bulk_create_client_events,
    item_errors=client_bulk_item_errors,
)

# By operation id, for the lean path and the validation error handler, which start from a route.
INTAKES: dict[str, Intake[Any, Any]] = {
    intake.operation_id: intake
    for intake in (CREATE_EVENT, BULK_CREATE_EVENTS, CREATE_CLIENT_EVENT, BULK_CREATE_CLIENT_EVENTS)
}
