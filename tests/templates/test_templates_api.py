"""The template operations through the official SDK (raw HTTP where the SDK cannot say it)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from openapi_client.exceptions import ApiException, BadRequestException, NotFoundException

from tests.conftest import AccountKeys

HTML = (
    '<html><body><h1>Hello {{ first_name|default:"friend" }}!</h1>'
    "<p>Total: {{ order.total }}</p></body></html>"
)
TEXT = 'Hello {{ first_name|default:"friend" }}!'


def create(sdk, name: str = "Welcome", **attributes):  # type: ignore[no-untyped-def]
    attributes = {"editor_type": "CODE", "html": HTML, **attributes}
    body = {"data": {"type": "template", "attributes": {"name": name, **attributes}}}
    return sdk.Templates.create_template(body)


def render(sdk, template_id: str, context: dict):  # type: ignore[no-untyped-def]
    body = {"data": {"type": "template", "id": template_id, "attributes": {"context": context}}}
    return sdk.Templates.render_template(body)


def error_of(info: pytest.ExceptionInfo) -> dict:
    import json

    return json.loads(info.value.body)["errors"][0]


# ---------------------------------------------------------------------------- acceptance steps 19-20


def test_create_and_get_echo_the_raw_html(sdk) -> None:
    created = create(sdk, "Acceptance", text=TEXT)
    assert created.data.type == "template"
    assert created.data.attributes.editor_type == "CODE"
    assert created.data.attributes.html == HTML
    assert created.data.attributes.text == TEXT
    assert created.data.links.var_self.endswith(f"/api/templates/{created.data.id}")
    fetched = sdk.Templates.get_template(created.data.id)
    assert fetched.data.attributes.html == HTML
    assert fetched.data.attributes.name == "Acceptance"
    assert fetched.data.attributes.created is not None


def test_render_uses_context_keys_as_top_level_variables(sdk) -> None:
    template = create(sdk, text=TEXT)
    full = render(sdk, template.data.id, {"first_name": "Ada", "order": {"total": "42.50"}})
    assert "Hello Ada!" in full.data.attributes.html
    assert "Total: 42.50" in full.data.attributes.html
    assert "{{" not in full.data.attributes.html and "}}" not in full.data.attributes.html
    assert full.data.attributes.text.strip() == "Hello Ada!"
    empty = render(sdk, template.data.id, {})
    assert "Hello friend!" in empty.data.attributes.html
    assert "<p>Total: </p>" in empty.data.attributes.html
    # rendering does not change the stored template
    assert sdk.Templates.get_template(template.data.id).data.attributes.html == HTML


def test_render_escapes_html_in_context_values(sdk) -> None:
    template = create(sdk, html="<p>{{ first_name }}</p>")
    rendered = render(sdk, template.data.id, {"first_name": "<script>alert(1)</script>"})
    assert rendered.data.attributes.html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_render_with_klaviyo_filters_and_link_tags(sdk) -> None:
    source = (
        "{{ person|lookup:'Loyalty Points' }}|{{ price|floatadd:1.25 }}|{{ name|capitalize }}"
        "|{% unsubscribe_link %}"
    )
    template = create(sdk, html=source)
    context = {"person": {"Loyalty Points": 150}, "price": "2.5", "name": "aDA"}
    html = render(sdk, template.data.id, context).data.attributes.html
    points, price, name, link = html.split("|")
    assert (points, price, name) == ("150", "3.75", "Ada")
    assert "/p/unsubscribe?t=" in link


def test_render_of_unknown_template_is_404(sdk) -> None:
    with pytest.raises(NotFoundException):
        render(sdk, "nope00", {})


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("source", "line", "fragment"),
    [
        ("<p>ok</p>\n{% if %}\n", 2, "Unexpected end of expression in if tag"),
        ("a\nb\n{{ name|no_such_filter }}", 3, "Invalid filter: 'no_such_filter'"),
        ("{% for x in y %}\n{% endif %}", 2, "endif"),
        ("1\n2\n3\n{% no_such_tag %}", 4, "Invalid block tag on line 4: 'no_such_tag'"),
        ("{% load i18n %}", 1, "{% load %} is not available"),
    ],
)
def test_syntax_errors_are_400_with_line_at_create(sdk, source: str, line: int, fragment: str) -> None:
    with pytest.raises(BadRequestException) as info:
        create(sdk, html=source)
    error = error_of(info)
    assert error["source"]["pointer"] == "/data/attributes/html"
    assert error["meta"]["line"] == line
    assert fragment in error["detail"]
    assert f"line {line}" in error["detail"]


def test_every_broken_part_is_reported(sdk) -> None:
    with pytest.raises(BadRequestException) as info:
        create(sdk, html="{% if %}", text="{{ a|nope }}", amp="{% endfor %}")
    import json

    pointers = {e["source"]["pointer"] for e in json.loads(info.value.body)["errors"]}
    assert pointers == {"/data/attributes/html", "/data/attributes/text", "/data/attributes/amp"}


def test_syntax_error_at_update_is_400_and_keeps_the_template(sdk) -> None:
    template = create(sdk)
    body = {"data": {"type": "template", "id": template.data.id, "attributes": {"html": "{% endblock %}"}}}
    with pytest.raises(BadRequestException) as info:
        sdk.Templates.update_template(template.data.id, body)
    assert error_of(info)["meta"]["line"] == 1
    assert sdk.Templates.get_template(template.data.id).data.attributes.html == HTML


def test_oversized_template_is_413(client: TestClient, account: AccountKeys) -> None:
    html = "<p>" + "x" * (1024 * 1024 + 10) + "</p>"
    body = {"data": {"type": "template", "attributes": {"name": "big", "editor_type": "CODE", "html": html}}}
    response = client.post("/api/templates", json=body, headers=account.headers())
    assert response.status_code == 413, response.text[:300]
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/html"


def test_code_template_needs_html(sdk) -> None:
    with pytest.raises(BadRequestException) as info:
        sdk.Templates.create_template(
            {"data": {"type": "template", "attributes": {"name": "n", "editor_type": "CODE"}}}
        )
    assert error_of(info)["source"]["pointer"] == "/data/attributes/html"


def test_system_draggable_is_refused(client: TestClient, account: AccountKeys) -> None:
    body = {"data": {"type": "template", "attributes": {"name": "n", "editor_type": "SYSTEM_DRAGGABLE"}}}
    response = client.post("/api/templates", json=body, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/editor_type"


def test_render_that_runs_out_of_time_is_400(sdk) -> None:
    loops = "{% for a in l %}{% for b in l %}{% for c in l %}{% for d in l %}x" + "{% endfor %}" * 4
    template = create(sdk, html=loops)
    with pytest.raises(BadRequestException) as info:
        render(sdk, template.data.id, {"l": list(range(1000))})
    assert "too long" in error_of(info)["detail"]


def growing(n: int) -> str:
    """Issue 16's template: each make_list|join:s squares its length (n=180 asks for ~10^9)."""
    s = "a" * n
    return f'{{% with s="{s}" %}}{{{{ s|make_list|join:s|make_list|join:s|make_list|join:s|length }}}}{{% endwith %}}'


def test_render_that_would_outgrow_memory_is_a_400_naming_the_limit(sdk) -> None:
    template = create(sdk, html=growing(180))  # unbounded: 20 s and 2 GB, then a 201
    with pytest.raises(BadRequestException) as info:
        render(sdk, template.data.id, {})
    error = error_of(info)
    assert error["meta"] == {"limit": "output"}
    assert error["detail"].startswith("The html part could not be rendered: The result of |join is too large")
    assert "output limit: 5,242,880" in error["detail"]


def test_render_limits_come_from_the_settings(settings, db, account: AccountKeys) -> None:
    from tidings.app import create_app

    small = settings.model_copy(update={"template_max_items": 1_000})
    with TestClient(create_app(small, db=db, workers=0)) as local:
        body = {
            "data": {
                "type": "template",
                "attributes": {"name": "t", "editor_type": "CODE", "html": growing(40)},
            }
        }
        created = local.post("/api/templates", json=body, headers=account.headers())
        assert created.status_code == 201, created.text
        render_body = {
            "data": {"type": "template", "id": created.json()["data"]["id"], "attributes": {"context": {}}}
        }
        response = local.post("/api/template-render", json=render_body, headers=account.headers())
    assert response.status_code == 400, "a list of 1,600 characters made past an item limit of 1,000"
    error = response.json()["errors"][0]
    assert error["meta"] == {"limit": "item"} and "item limit: 1,000" in error["detail"]


# ---------------------------------------------------------------------------- other operations


def test_simple_and_user_draggable_templates(sdk) -> None:
    simple = create(sdk, editor_type="SIMPLE", html=None, text="Hi {{ first_name }}")
    assert simple.data.attributes.editor_type == "SIMPLE"
    assert simple.data.attributes.html == ""
    rendered = render(sdk, simple.data.id, {"first_name": "Bo"})
    assert rendered.data.attributes.text == "Hi Bo"
    hybrid = create(sdk, editor_type="USER_DRAGGABLE", amp="<p amp4email>{{ x }}</p>")
    assert hybrid.data.attributes.editor_type == "USER_DRAGGABLE"
    assert render(sdk, hybrid.data.id, {"x": "amp!"}).data.attributes.amp == "<p amp4email>amp!</p>"


def test_update_changes_only_the_sent_fields(sdk) -> None:
    template = create(sdk, text=TEXT)
    body = {"data": {"type": "template", "id": template.data.id, "attributes": {"name": "Renamed"}}}
    updated = sdk.Templates.update_template(template.data.id, body)
    assert updated.data.attributes.name == "Renamed"
    assert updated.data.attributes.html == HTML
    assert updated.data.attributes.text == TEXT
    body = {
        "data": {
            "type": "template",
            "id": template.data.id,
            "attributes": {"html": "<p>{{ a }}</p>", "text": None},
        }
    }
    updated = sdk.Templates.update_template(template.data.id, body)
    assert updated.data.attributes.html == "<p>{{ a }}</p>"
    assert updated.data.attributes.text is None
    assert updated.data.attributes.updated >= template.data.attributes.updated


def test_update_with_mismatched_id_is_409(client: TestClient, account: AccountKeys, sdk) -> None:
    template = create(sdk)
    body = {"data": {"type": "template", "id": "other1", "attributes": {"name": "x"}}}
    response = client.patch(f"/api/templates/{template.data.id}", json=body, headers=account.headers())
    assert response.status_code == 409


def test_delete_then_get_is_404(sdk) -> None:
    template = create(sdk)
    assert sdk.Templates.delete_template(template.data.id) is None
    with pytest.raises(NotFoundException):
        sdk.Templates.get_template(template.data.id)
    with pytest.raises(NotFoundException):
        sdk.Templates.delete_template(template.data.id)


def test_clone_copies_the_parts_under_a_new_id(sdk) -> None:
    template = create(sdk, "Original", text=TEXT)
    body = {"data": {"type": "template", "id": template.data.id, "attributes": {"name": "Copy"}}}
    clone = sdk.Templates.clone_template(body)
    assert clone.data.id != template.data.id
    assert clone.data.attributes.name == "Copy"
    assert clone.data.attributes.html == HTML
    assert clone.data.attributes.text == TEXT
    unnamed = sdk.Templates.clone_template(
        {"data": {"type": "template", "id": template.data.id, "attributes": {}}}
    )
    assert unnamed.data.attributes.name == "Clone of Original"


def test_get_templates_filters_sorts_and_pages(sdk) -> None:
    ids = [create(sdk, f"page {i}").data.id for i in range(12)]
    create(sdk, "other name")
    first = sdk.Templates.get_templates(filter='contains(name,"page ")', sort="-created")
    assert len(first.data) == 10  # the spec's default and maximum page size
    assert first.links.next
    second = sdk.Templates.get_templates(page_cursor=first.links.next)
    assert not second.links.next
    seen = [t.id for t in first.data] + [t.id for t in second.data]
    assert seen == list(reversed(ids))
    by_id = sdk.Templates.get_templates(filter=f"any(id,['{ids[0]}','{ids[1]}'])")
    assert {t.id for t in by_id.data} == {ids[0], ids[1]}
    by_name = sdk.Templates.get_templates(filter='equals(name,"other name")')
    assert [t.attributes.name for t in by_name.data] == ["other name"]
    names = [t.attributes.name for t in sdk.Templates.get_templates(sort="name", page_size=3).data]
    assert names == sorted(names)


def test_get_templates_rejects_page_size_over_10(client: TestClient, account: AccountKeys) -> None:
    # The SDK itself refuses 11; a hand-written client gets the 400.
    response = client.get("/api/templates", params={"page[size]": "11"}, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["parameter"] == "page[size]"


def test_get_templates_filters_on_created(sdk) -> None:
    import datetime as dt

    template = create(sdk, "dated")
    after = (template.data.attributes.created - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    found = sdk.Templates.get_templates(filter=f'and(greater-than(created,{after}),equals(name,"dated"))')
    assert template.data.id in {t.id for t in found.data}


# ---------------------------------------------------------------------------- universal content


def create_block(sdk, content: str, name: str = "Footer"):  # type: ignore[no-untyped-def]
    definition = {
        "content_type": "block",
        "type": "html",
        "data": {"content": content, "display_options": {}},
    }
    body = {
        "data": {"type": "template-universal-content", "attributes": {"name": name, "definition": definition}}
    }
    return sdk.Templates.create_universal_content(body)


def test_universal_content_crud(sdk) -> None:
    block = create_block(sdk, "<p>Footer {{ organization_name }}</p>")
    assert block.data.type == "template-universal-content"
    assert block.data.attributes.definition["data"]["content"] == "<p>Footer {{ organization_name }}</p>"
    assert block.data.attributes.screenshot_status == "never_generated"
    fetched = sdk.Templates.get_universal_content(block.data.id)
    assert fetched.data.attributes.name == "Footer"
    body = {
        "data": {
            "type": "template-universal-content",
            "id": block.data.id,
            "attributes": {"name": "Footer 2"},
        }
    }
    updated = sdk.Templates.update_universal_content(block.data.id, body)
    assert updated.data.attributes.name == "Footer 2"
    assert updated.data.attributes.definition["data"]["content"].startswith("<p>Footer")
    listed = sdk.Templates.get_all_universal_content(filter=f'equals(id,"{block.data.id}")')
    assert [item.id for item in listed.data] == [block.data.id]
    by_type = sdk.Templates.get_all_universal_content(filter='equals(definition.type,"html")')
    assert block.data.id in {item.id for item in by_type.data}
    assert sdk.Templates.delete_universal_content(block.data.id) is None
    with pytest.raises(NotFoundException):
        sdk.Templates.get_universal_content(block.data.id)


def test_templates_include_universal_content(sdk) -> None:
    block = create_block(sdk, "<footer>Bye {{ first_name }}</footer>")
    template = create(sdk, html=f'<p>Hi</p>{{% include "universal:{block.data.id}" %}}')
    assert render(sdk, template.data.id, {"first_name": "Ada"}).data.attributes.html == (
        "<p>Hi</p><footer>Bye Ada</footer>"
    )
    # an edit of the block shows in every template that includes it
    definition = {
        "content_type": "block",
        "type": "html",
        "data": {"content": "<i>new</i>", "display_options": {}},
    }
    body = {
        "data": {
            "type": "template-universal-content",
            "id": block.data.id,
            "attributes": {"definition": definition},
        }
    }
    sdk.Templates.update_universal_content(block.data.id, body)
    assert render(sdk, template.data.id, {}).data.attributes.html == "<p>Hi</p><i>new</i>"


def test_include_of_missing_content_is_400(sdk) -> None:
    with pytest.raises(BadRequestException) as info:
        create(sdk, html='{% include "universal:01HWWWKAW4RHXQJCMW4R2KRYR4" %}')
    assert "does not exist" in error_of(info)["detail"]


def test_include_of_another_accounts_content_is_refused(sdk, other_account: AccountKeys, server) -> None:
    from klaviyo_api import KlaviyoAPI

    theirs = create_block(
        KlaviyoAPI(api_key=other_account.private_key, test_host=server.url, max_retries=0), "x"
    )
    with pytest.raises(BadRequestException):
        create(sdk, html=f'{{% include "universal:{theirs.data.id}" %}}')


def test_include_outside_universal_content_is_refused(sdk) -> None:
    for source in ['{% include "/etc/passwd" %}', "{% include name %}", '{% extends "base.html" %}']:
        with pytest.raises(BadRequestException):
            create(sdk, html=source)


def test_universal_content_with_bad_syntax_is_400(sdk) -> None:
    with pytest.raises(BadRequestException) as info:
        create_block(sdk, "{% if %}")
    assert error_of(info)["meta"]["line"] == 1


def test_deleted_universal_content_renders_empty(sdk) -> None:
    block = create_block(sdk, "<b>gone soon</b>")
    template = create(sdk, html=f'a{{% include "universal:{block.data.id}" %}}b')
    sdk.Templates.delete_universal_content(block.data.id)
    assert render(sdk, template.data.id, {}).data.attributes.html == "ab"


def test_unknown_template_operations_are_404(sdk) -> None:
    with pytest.raises(NotFoundException):
        sdk.Templates.get_template("absent")
    with pytest.raises(NotFoundException):
        sdk.Templates.clone_template({"data": {"type": "template", "id": "absent", "attributes": {}}})
    with pytest.raises(ApiException) as info:
        sdk.Templates.get_universal_content("01HWWWKAW4RHXQJCMW4R2KRYR4")
    assert info.value.status == 404


def test_nul_characters_are_400_on_both_databases(client: TestClient, account: AccountKeys) -> None:
    body = {
        "data": {"type": "template", "attributes": {"name": "a\x00b", "editor_type": "CODE", "html": "x"}}
    }
    response = client.post("/api/templates", json=body, headers=account.headers())
    assert response.status_code == 400
    response = client.get(
        "/api/templates", params={"filter": 'equals(name,"a\x00")'}, headers=account.headers()
    )
    assert response.status_code == 400
    assert client.get("/api/templates/a%00b", headers=account.headers()).status_code == 404


def test_database_refusing_a_value_is_400_not_500(settings, db) -> None:
    """Any domain's route: a value the database cannot store is the client's error."""
    import psycopg
    from fastapi.testclient import TestClient as Client
    from sqlalchemy.exc import DataError

    from tidings.app import create_app

    app = create_app(settings, db=db, workers=0)

    @app.get("/x-test/data-error")
    def boom() -> None:
        raise DataError("INSERT ...", {}, psycopg.DataError("NUL bytes"))

    with Client(app) as local:  # raises if the error reached the 500 handler
        response = local.get("/x-test/data-error")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid"


def test_include_options_with_and_only(sdk) -> None:
    block = create_block(sdk, "[{{ greeting }} {{ first_name }}]")
    source = (
        f'{{% include "universal:{block.data.id}" with greeting="Hi" %}}'
        f'{{% include "universal:{block.data.id}" with greeting="Yo" only %}}'
    )
    template = create(sdk, html=source)
    assert render(sdk, template.data.id, {"first_name": "Ada"}).data.attributes.html == "[Hi Ada][Yo ]"


def test_definition_is_ignored_for_code_templates_and_listed_on_request(sdk, client, account) -> None:
    body = {
        "data": {
            "type": "template",
            "attributes": {"name": "n", "editor_type": "CODE", "html": "<p>x</p>", "definition": None},
        }
    }
    created = client.post("/api/templates", json=body, headers=account.headers())
    assert created.status_code == 201, created.text
    template_id = created.json()["data"]["id"]
    assert "definition" not in created.json()["data"]["attributes"]
    listed = sdk.Templates.get_templates(
        filter=f'equals(id,"{template_id}")', additional_fields_template=["definition"]
    )
    assert listed.data[0].attributes.definition is None
    patch = {"data": {"type": "template", "id": template_id, "attributes": {"definition": {"body": {}}}}}
    response = client.patch(f"/api/templates/{template_id}", json=patch, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/definition"


def test_render_return_fields_limits_the_attributes(client: TestClient, account: AccountKeys, sdk) -> None:
    template = create(sdk, text=TEXT)
    body = {
        "data": {
            "type": "template",
            "id": template.data.id,
            "attributes": {"context": {"first_name": "Ada"}, "return_fields": ["html"]},
        }
    }
    response = client.post("/api/template-render", json=body, headers=account.headers())
    assert response.status_code == 201, response.text
    assert set(response.json()["data"]["attributes"]) == {"html"}
    assert "Hello Ada!" in response.json()["data"]["attributes"]["html"]


def create_catalog_item(sdk, external_id: str, *, published: bool = True):  # type: ignore[no-untyped-def]
    attrs = {
        "external_id": external_id,
        "integration_type": "$custom",
        "catalog_type": "$default",
        "title": "Felt Hat",
        "description": "Warm",
        "url": f"https://shop.example/{external_id}",
        "price": 19.5,
        "image_full_url": "https://shop.example/hat.png",
        "custom_metadata": {"color": "red"},
        "published": published,
    }
    return sdk.Catalogs.create_catalog_item({"data": {"type": "catalog-item", "attributes": attrs}})


def test_catalog_blocks_read_the_accounts_catalog(sdk) -> None:
    create_catalog_item(sdk, "HAT-1")
    source = (
        "{% catalog product_id %}{{ catalog_item.title }}|{{ catalog_item.url }}|"
        "{{ catalog_item.featured_image.full.src }}|{{ catalog_item.metadata.color }}|"
        "{% currency_format catalog_item.price %}{% endcatalog %}"
    )
    template = create(sdk, html=source)
    html = render(sdk, template.data.id, {"product_id": "HAT-1"}).data.attributes.html
    assert html == "Felt Hat|https://shop.example/HAT-1|https://shop.example/hat.png|red|$19.50"
    by_full_id = render(sdk, template.data.id, {"product_id": "$custom:::$default:::HAT-1"})
    assert by_full_id.data.attributes.html.startswith("Felt Hat|")


def test_catalog_cancel_with_an_unpublished_item_is_reported(sdk) -> None:
    create_catalog_item(sdk, "OLD-1", published=False)
    template = create(
        sdk, html='{% catalog "OLD-1" unpublished="cancel" %}{{ catalog_item.title }}{% endcatalog %}'
    )
    with pytest.raises(BadRequestException) as info:
        render(sdk, template.data.id, {})
    assert "Catalog Item Unavailable" in error_of(info)["detail"]
    shown = create(sdk, html='{% catalog "OLD-1" %}{{ catalog_item.title }}{% endcatalog %}')
    assert render(sdk, shown.data.id, {}).data.attributes.html == "Felt Hat"


def test_another_accounts_catalog_item_is_not_found(sdk, other_account: AccountKeys, server) -> None:
    from klaviyo_api import KlaviyoAPI

    create_catalog_item(
        KlaviyoAPI(api_key=other_account.private_key, test_host=server.url, max_retries=0), "B-1"
    )
    template = create(sdk, html='[{% catalog "B-1" %}{{ catalog_item.title }}{% endcatalog %}]')
    assert render(sdk, template.data.id, {}).data.attributes.html == "[]"


def test_a_lone_surrogate_is_400_with_its_pointer_on_both_databases(
    client: TestClient, account: AccountKeys
) -> None:
    import json

    body = {
        "data": {"type": "template", "attributes": {"name": "S", "editor_type": "CODE", "html": "\ud800"}}
    }
    headers = {**account.headers(), "content-type": "application/vnd.api+json"}
    response = client.post("/api/templates", content=json.dumps(body).encode(), headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["source"] == {"pointer": "/data/attributes/html"}
