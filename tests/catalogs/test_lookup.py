"""The lookup the template renderer calls: `service.lookup_item`."""

from __future__ import annotations

from tests.catalogs.factories import PREFIX, make_category, make_item, make_variant
from tidings.catalogs.service import lookup_item


def test_lookup_by_external_or_compound_id(client, db, account, other_account) -> None:
    make_item(
        client,
        account,
        "SHIRT 1",
        images=["https://x/1.png", "https://x/2.png"],
        image_full_url="https://x/1.png",
        custom_metadata={"brand": "Acme"},
    )
    make_variant(client, account, "SHIRT 1-M", "SHIRT 1", inventory_quantity=0, price=12)
    make_category(client, account, "tops", items=["SHIRT 1"])
    with db.read() as session:
        by_external = lookup_item(session, account.id, "SHIRT 1")
        by_compound = lookup_item(session, account.id, PREFIX + "SHIRT 1")
        assert lookup_item(session, account.id, "nope") is None
        assert lookup_item(session, other_account.id, "SHIRT 1") is None  # scoped by account
    assert by_external == by_compound and by_external is not None
    assert by_external.title == "Item SHIRT 1" and by_external.price == 10.5
    assert by_external.image_urls == ["https://x/1.png", "https://x/2.png"]
    assert by_external.categories == ["Category tops"]
    [variant] = by_external.variants
    assert (variant.sku, variant.price, variant.in_stock) == ("SKU-SHIRT 1-M", 12, False)
    context = by_external.template_context()
    assert context["featured_image"]["full"]["src"] == "https://x/1.png"
    assert context["metadata"] == {"brand": "Acme"} and context["variants"][0]["in_stock"] is False


def test_an_external_id_that_looks_compound(client, db, account) -> None:
    make_item(client, account, "$custom:::$default:::odd")
    with db.read() as session:
        found = lookup_item(session, account.id, "$custom:::$default:::odd")
    assert found is not None and found.external_id == "$custom:::$default:::odd"
