"""documents.single/collection with the request's include: the linkage rules on their own."""

from __future__ import annotations

from tidings.jsonapi.documents import Include, Urls, collection, single
from tidings.jsonapi.params import parse_query
from tidings.jsonapi.spec import operation


def _resource(**relationships: dict) -> dict:
    return {"type": "event", "id": "e1", "attributes": {}, "relationships": relationships, "links": {}}


def test_named_relationships_get_empty_linkage_of_their_cardinality() -> None:
    links = {
        "self": "https://x/api/events/e1/relationships/profile",
        "related": "https://x/api/events/e1/profile",
    }
    data = _resource(profile={"links": links}, metric={"data": {"type": "metric", "id": "m1"}})
    include = Include(["profile", "metric", "attributions"], to_one=["profile", "metric"])
    doc = single(data, "https://x/api/events/e1", include=include)
    relationships = doc["data"]["relationships"]
    assert relationships["profile"] == {"data": None, "links": links}  # to-one, nothing related
    assert relationships["metric"] == {"data": {"type": "metric", "id": "m1"}}  # what the domain set stays
    assert relationships["attributions"] == {"data": []}  # to-many, added with its linkage
    assert doc["included"] == []


def test_without_include_nothing_is_added() -> None:
    data = _resource(profile={"links": {}})
    doc = single(data, "https://x/api/events/e1")
    assert "included" not in doc and doc["data"]["relationships"]["profile"] == {"links": {}}
    page = collection([data], Urls("https://x", "/api/events", []))
    assert "included" not in page


def test_the_included_resources_a_domain_gave_are_kept() -> None:
    metric = {"type": "metric", "id": "m1"}
    page = collection(
        [_resource(metric={"data": metric})],
        Urls("https://x", "/api/events", []),
        included=[metric],
        include=["metric"],
    )
    assert page["included"] == [metric]


def test_the_cardinality_comes_from_the_spec() -> None:
    params = parse_query(operation("get_events"), {"include": "metric,profile,attributions"})
    assert list(params.include) == ["metric", "profile", "attributions"]
    assert params.include.to_one == {"metric", "profile"}
    assert parse_query(operation("get_lists"), {"include": "tags"}).include.to_one == frozenset()
