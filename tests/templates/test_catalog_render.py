"""`{% catalog %}` reads the account's real catalog through render_template."""

from __future__ import annotations

from tests.conftest import AccountKeys


def _item(external_id: str, *, published: bool = True) -> dict:
    return {
        "data": {
            "type": "catalog-item",
            "attributes": {
                "external_id": external_id,
                "title": f"Boots {external_id}",
                "description": "Warm boots",
                "url": "https://shop.example.com/boots",
                "price": 89.5,
                "published": published,
            },
        }
    }


def test_render_template_reads_catalog_items(
    client, sdk, account: AccountKeys, other_account: AccountKeys
) -> None:
    sdk.Catalogs.create_catalog_item(_item("SKU-1"))
    html = '{% catalog "SKU-1" %}<p>{{ catalog_item.title }} {{ catalog_item.url }}</p>{% endcatalog %}'
    template = sdk.Templates.create_template(
        {"data": {"type": "template", "attributes": {"name": "Catalog", "editor_type": "CODE", "html": html}}}
    )
    body = {"data": {"type": "template", "id": template.data.id, "attributes": {"context": {}}}}
    rendered = sdk.Templates.render_template(body)
    assert "Boots SKU-1 https://shop.example.com/boots" in rendered.data.attributes.html

    # Another account's key sees neither the template nor, through it, this catalog.
    response = client.post("/api/template-render", json=body, headers=other_account.headers())
    assert response.status_code == 404
