"""Every change of a price or an inventory quantity is recorded with its old and new values."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.catalogs.factories import PREFIX, make_item, make_variant
from tests.conftest import make_account
from tidings.catalogs import history
from tidings.jobs.worker import drain


def _changes(db, account_id: str) -> list[tuple[str, str, float | None, float | None, str]]:  # type: ignore[no-untyped-def]
    with db.read() as session:
        return [
            (c.resource_id.removeprefix(PREFIX), c.field, c.old_value, c.new_value, c.source)
            for c in history.changes_since(session, account_id)
        ]


def _patch(client, account, kind: str, ext: str, attrs: dict) -> None:  # type: ignore[no-untyped-def]
    collection = "catalog-items" if kind == "catalog-item" else "catalog-variants"
    response = client.patch(
        f"/api/{collection}/{PREFIX}{ext}",
        json={"data": {"type": kind, "id": PREFIX + ext, "attributes": attrs}},
        headers=account.headers(),
    )
    assert response.status_code == 200, response.text


def test_changes_of_price_and_inventory_are_recorded(client, db, account) -> None:
    make_item(client, account, "I", price=10)
    make_variant(client, account, "V", "I", price=10, inventory_quantity=0)
    assert _changes(db, account.id) == []  # creating is not a change
    _patch(client, account, "catalog-variant", "V", {"inventory_quantity": 7, "title": "x"})
    _patch(client, account, "catalog-variant", "V", {"price": 8, "inventory_quantity": 7})  # same inventory
    _patch(client, account, "catalog-item", "I", {"price": 9.5})
    _patch(client, account, "catalog-item", "I", {"title": "no price change"})
    assert _changes(db, account.id) == [
        ("V", "inventory_quantity", 0, 7, "api"),
        ("V", "price", 10, 8, "api"),
        ("I", "price", 10, 9.5, "api"),
    ]


def test_bulk_updates_are_recorded_too(client, db, account) -> None:
    make_item(client, account, "I")
    make_variant(client, account, "V", "I", inventory_quantity=3)
    body = {
        "data": {
            "type": "catalog-variant-bulk-update-job",
            "attributes": {
                "variants": {
                    "data": [
                        {
                            "type": "catalog-variant",
                            "id": PREFIX + "V",
                            "attributes": {"inventory_quantity": 0},
                        }
                    ]
                }
            },
        }
    }
    assert (
        client.post("/api/catalog-variant-bulk-update-jobs", json=body, headers=account.headers()).status_code
        == 202
    )
    drain(db)
    assert _changes(db, account.id) == [("V", "inventory_quantity", 3, 0, "bulk")]


def test_listeners_hear_changes_in_the_writers_transaction(client, db, account) -> None:
    heard: list[history.Change] = []
    listener = history.CATALOG_CHANGED.register(lambda _s, _a, changes: heard.extend(changes))
    try:
        make_item(client, account, "I")
        make_variant(client, account, "V", "I", inventory_quantity=0)
        _patch(client, account, "catalog-variant", "V", {"inventory_quantity": 2})
    finally:
        history.CATALOG_CHANGED.unregister(listener)
    assert [(c.field, c.old_value, c.new_value, c.item_id) for c in heard] == [
        ("inventory_quantity", 0, 2, PREFIX + "I")
    ]


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.integers(min_value=-5, max_value=5), min_size=1, max_size=6))
def test_history_replays_to_the_current_inventory(client, db, quantities: list[int]) -> None:
    """Invariant: starting from the created value, applying the recorded changes gives today's value,
    and every recorded change really changed something."""
    account = make_account(db)
    make_item(client, account, "I")
    make_variant(client, account, "V", "I", inventory_quantity=0)
    for quantity in quantities:
        _patch(client, account, "catalog-variant", "V", {"inventory_quantity": quantity})
    value: float = 0
    for _res, _field, old, new, _src in _changes(db, account.id):
        assert old == value and new != old
        value = new  # type: ignore[assignment]
    assert value == quantities[-1]
