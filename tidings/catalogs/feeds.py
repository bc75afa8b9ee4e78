"""Product feeds: read a JSON or CSV feed as a stream and turn each record into a product.

Formats (detected from the name, else from the first byte):
- JSON: an array of records, JSON Lines (one record per line), or an object holding the
  array under `items`, `products` or `data`. Read with ijson, so memory stays bounded.
- CSV: one record per row; rows that repeat an item's id with `variant_*` columns add
  variants to it. Lists (`images`, `categories`) are separated by `|`.

Field names are the API's (`external_id`, `url`, `image_full_url`, ...) or those of
Klaviyo's custom catalog feeds (`id`, `link`, `image_link`, `$title`, ...). A record may
carry `variants` (a list of records); a record without variants but with
`inventory_quantity` or `sku` becomes an item with one variant of the same id. Other fields
go into `custom_metadata` (flat). A bad record is reported with its number and skipped.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

import ijson

from tidings.catalogs.ids import compound_id, external_id_problem
from tidings.catalogs.schemas import check_metadata, has_nul

WRAPPER_KEYS = ("items", "products", "data")
# What reading a broken feed can raise (ijson's errors are not ValueErrors).
READ_ERRORS: tuple[type[Exception], ...] = (ValueError, OSError, csv.Error, ijson.JSONError)

ITEM_ALIASES = {
    "external_id": ("external_id", "id", "$id", "item_id"),
    "title": ("title", "$title", "name"),
    "description": ("description", "$description"),
    "url": ("url", "link", "$link"),
    "price": ("price", "$price"),
    "image_full_url": ("image_full_url", "image_link", "$image_link", "image_url"),
    "image_thumbnail_url": ("image_thumbnail_url", "thumbnail_image_url", "$thumbnail_image_url"),
    "images": ("images", "additional_image_links"),
    "published": ("published", "$published"),
    "categories": ("categories", "$categories", "category"),
    "custom_metadata": ("custom_metadata", "metadata"),
    "variants": ("variants",),
    "sku": ("sku", "$sku"),
    "inventory_quantity": ("inventory_quantity", "$inventory_quantity", "quantity"),
    "inventory_policy": ("inventory_policy", "$inventory_policy"),
}
VARIANT_ALIASES = {
    **{k: v for k, v in ITEM_ALIASES.items() if k not in ("categories", "variants")},
    "external_id": ("external_id", "id", "$id", "variant_id"),
}


class FeedError(ValueError):
    """A record that cannot become a product; the message says why."""


@dataclass
class Product:
    record: int  # the record's number in the feed, from 1
    item: dict[str, Any]  # catalog_items columns (no account, no timestamps)
    variants: list[dict[str, Any]] = field(default_factory=list)  # catalog_variants columns
    categories: list[tuple[str, str]] = field(default_factory=list)  # (category id, name)


# ------------------------------------------------------------------------------ reading


class CountingReader(io.RawIOBase):
    """A raw stream that counts the bytes read through it (for the progress bar).

    It also notes whether the bytes so far could hold a NUL character: in JSON only as the
    escape \\u0000 (a raw control character is invalid there), in CSV only as a 0 byte. Until
    then no record needs searching for one (that search was a sixth of a record's cost).
    """

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.count = 0
        self.nul_possible = False
        self._tail = b""  # the end of the previous read, for an escape split across two reads

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        if not self.nul_possible and size:
            self.nul_possible = b"\x00" in data or b"\\u0000" in data or b"\\u0000" in self._tail + data[:5]
            self._tail = (self._tail + data)[-5:]
        return size


def detect_format(name: str, stream: Any) -> str:
    lowered = name.lower().split("?", 1)[0]
    if lowered.endswith((".csv", ".tsv")):
        return "csv"
    if lowered.endswith((".json", ".jsonl", ".ndjson")):
        return "json"
    head = stream.peek(512).lstrip()[:1]
    return "json" if head in (b"[", b"{") else "csv"


def read_records(stream: Any, fmt: str) -> Iterator[dict[str, Any]]:
    if fmt == "csv":
        return _csv_records(stream)
    if fmt == "json":
        return _json_records(stream)
    raise ValueError(f"Unknown feed format {fmt!r}; use json or csv.")


_WRAPPER = re.compile(rb'^\s*\{\s*"(items|products|data)"\s*:\s*\[')


def _json_records(stream: Any) -> Iterator[dict[str, Any]]:
    """An array of records; an object whose first key (`items`, `products` or `data`) holds
    the array; or JSON Lines. ijson's C backend builds the records."""
    head = stream.peek(4096)[:4096].lstrip()
    if head.startswith(b"["):
        values = ijson.items(stream, "item", use_float=True)
    elif wrapper := _WRAPPER.match(head):
        values = ijson.items(stream, f"{wrapper.group(1).decode()}.item", use_float=True)
    else:
        values = ijson.items(stream, "", use_float=True, multiple_values=True)
    for value in values:
        yield _as_record(value)


def _as_record(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"__invalid__": value}


def _csv_records(stream: BinaryIO) -> Iterator[dict[str, Any]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    sample = text.buffer.peek(4096)[:4096].decode("utf-8", "ignore") if hasattr(text.buffer, "peek") else ""
    delimiter = "\t" if sample.split("\n", 1)[0].count("\t") > sample.split("\n", 1)[0].count(",") else ","
    rows = csv.DictReader(text, delimiter=delimiter)
    # Consecutive rows of one item with variant_* columns are one record with variants.
    for _key, group in itertools.groupby(rows, key=lambda row: _first(row, ITEM_ALIASES["external_id"])):
        merged: dict[str, Any] | None = None
        for row in group:
            clean = {k.strip(): v for k, v in row.items() if k and v not in (None, "")}
            variant = {k[len("variant_") :]: v for k, v in clean.items() if k.startswith("variant_")}
            base = {k: v for k, v in clean.items() if not k.startswith("variant_")}
            if merged is None:
                merged = {**base, "variants": []} if variant else base
            if variant:
                merged.setdefault("variants", []).append(variant)
        if merged is not None:
            yield merged


def _first(record: dict[str, Any], names: Iterable[str]) -> Any:
    for name in names:
        if name in record and record[name] not in (None, ""):
            return record[name]
    return None


# ------------------------------------------------------------------------------ normalising


def _number(value: Any, field_name: str) -> float | None:
    if value is None:
        return None
    if type(value) is float:  # the common case first
        number = value
    elif isinstance(value, bool):
        raise FeedError(f"'{field_name}' must be a number, got {value!r}.")
    elif isinstance(value, int | float):
        number = float(value)
    else:
        token = str(value).strip().split(" ")[0].replace(",", "")  # "19.99 USD" (Google feeds)
        try:
            number = float(token)
        except ValueError:
            raise FeedError(f"'{field_name}' must be a number, got {value!r}.") from None
    if not math.isfinite(number):
        raise FeedError(f"'{field_name}' must be a finite number.")
    return number


def _boolean(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y", "published"):
        return True
    if text in ("false", "0", "no", "n", "unpublished"):
        return False
    raise FeedError(f"'published' must be true or false, got {value!r}.")


def _strings(value: Any, field_name: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split("|") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v) for v in value]
    raise FeedError(f"'{field_name}' must be a list of strings.")


def _external_id(value: str) -> str:
    problem = external_id_problem(value)
    if problem:
        raise FeedError(f"Invalid id {value!r}: {problem}")
    return value


def _rank(aliases: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, int]]:
    return {alias: (name, rank) for name, names in aliases.items() for rank, alias in enumerate(names)}


ITEM_FIELD_OF = _rank(ITEM_ALIASES)
VARIANT_FIELD_OF = _rank(VARIANT_ALIASES)


def _canonical(
    record: dict[str, Any], field_of: dict[str, tuple[str, int]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record's known fields under their API names (the first alias wins), and the rest."""
    fields: dict[str, Any] = {}
    ranks: dict[str, int] = {}
    extra: dict[str, Any] = {}
    for key, value in record.items():
        if value is None or value == "":
            continue
        known = field_of.get(key)
        if known is None:
            if not key.startswith("variant_"):
                extra[key.lstrip("$")] = value
            continue
        name, rank = known
        if name not in ranks or rank < ranks[name]:
            fields[name], ranks[name] = value, rank
    return fields, extra


def _string(fields: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = fields.get(name)
    if type(value) is str:  # the common case first
        return value.strip()
    if value is None:
        if required:
            raise FeedError(f"'{name}' is required.")
        return None
    if isinstance(value, dict | list):
        raise FeedError(f"'{name}' must be text.")
    return value.strip() if isinstance(value, str) else str(value)


def _custom_metadata(fields: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any] | None:
    explicit = fields.get("custom_metadata")
    if explicit is not None and not isinstance(explicit, dict):
        raise FeedError("'custom_metadata' must be an object.")
    merged = {**extra, **explicit} if explicit else extra
    if not merged:
        return None
    try:
        return check_metadata(merged)
    except ValueError as exc:
        raise FeedError(str(exc)) from None


@functools.lru_cache(maxsize=4096)
def _category_id(name: str) -> str:
    """A category's external id is its name; "/" cannot be in an id, so "Men/Shirts" -> "Men-Shirts"."""
    return compound_id(_external_id(name.replace("/", "-")[:255]))


def to_product(number: int, record: dict[str, Any], *, nul_possible: bool = True) -> Product:
    """The item, variants and categories of one record; raises FeedError. `nul_possible`
    False skips the search for NUL characters (the feed's bytes cannot hold one)."""
    if "__invalid__" in record:
        raise FeedError("A record must be an object.")
    # repr() is one C call; only a record whose repr shows an escaped NUL is walked.
    if nul_possible and "\\x00" in repr(record) and has_nul(record):
        raise FeedError("Text may not contain NUL (U+0000) characters.")
    fields, extra = _canonical(record, ITEM_FIELD_OF)
    external_id = _external_id(str(_string(fields, "external_id", True)))
    item = {
        "id": compound_id(external_id),
        "external_id": external_id,
        "title": _string(fields, "title", True),
        "description": _string(fields, "description", True),
        "url": _string(fields, "url", True),
        "price": _number(fields.get("price"), "price"),
        "image_full_url": _string(fields, "image_full_url"),
        "image_thumbnail_url": _string(fields, "image_thumbnail_url"),
        "images": _strings(fields.get("images"), "images"),
        "custom_metadata": _custom_metadata(fields, extra),
        "published": _boolean(fields.get("published")),
    }
    names = _strings(fields.get("categories"), "categories") or []
    categories = {_category_id(name): name for name in names}
    raw_variants = fields.get("variants")
    if raw_variants is None and ("inventory_quantity" in fields or "sku" in fields):
        # The item's own fields, already under their API names: its one variant.
        own = {k: v for k, v in fields.items() if k in VARIANT_ALIASES}
        return Product(number, item, [_variant(item, own, 0, canonical=True)], list(categories.items()))
    if raw_variants is not None and not isinstance(raw_variants, list):
        raise FeedError("'variants' must be a list.")
    variants = [_variant(item, v, i) for i, v in enumerate(raw_variants or [])]
    return Product(number, item, variants, list(categories.items()))


def _variant(item: dict[str, Any], record: Any, index: int, *, canonical: bool = False) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise FeedError(f"variants[{index}] must be an object.")
    try:
        fields, extra = (record, {}) if canonical else _canonical(record, VARIANT_FIELD_OF)
        external_id = _external_id(str(_string(fields, "external_id", True)))
        quantity = _number(fields.get("inventory_quantity"), "inventory_quantity")
        if quantity is None:
            raise FeedError("'inventory_quantity' is required.")
        price = _number(fields.get("price"), "price")
        price = item["price"] if price is None else price
        if price is None:
            raise FeedError("'price' is required (on the variant or its item).")
        policy = _number(fields.get("inventory_policy"), "inventory_policy")
        if policy not in (None, 0, 1, 2):
            raise FeedError("'inventory_policy' must be 0, 1 or 2.")
        return {
            "id": compound_id(external_id),
            "external_id": external_id,
            "item_id": item["id"],
            "title": _string(fields, "title") or item["title"],
            "description": _string(fields, "description") or item["description"],
            "sku": (_string(fields, "sku") or external_id)[:255],
            "inventory_policy": int(policy or 0),
            "inventory_quantity": quantity,
            "price": price,
            "url": _string(fields, "url") or item["url"],
            "image_full_url": _string(fields, "image_full_url"),
            "image_thumbnail_url": _string(fields, "image_thumbnail_url"),
            "images": _strings(fields.get("images"), "images"),
            "custom_metadata": _custom_metadata(fields, extra),
            "published": _boolean(fields.get("published")),
        }
    except FeedError as exc:
        raise FeedError(f"variants[{index}]: {exc}") from None


def products(
    records: Iterable[dict[str, Any]], reader: CountingReader | None = None
) -> Iterator[Product | tuple[int, str]]:
    """Each record as a Product, or (record number, error message). With the `reader` the
    records come from, they are searched for NUL characters only once it has seen one."""
    for number, record in enumerate(records, start=1):
        try:
            yield to_product(number, record, nul_possible=reader is None or reader.nul_possible)
        except FeedError as exc:
            yield number, str(exc)


def open_products(
    name: str, raw: IO[bytes], fmt: str | None = None
) -> tuple[CountingReader, Iterator[Product | tuple[int, str]]]:
    """The products of a feed stream, and the reader that counts the bytes consumed."""
    counter = CountingReader(raw)
    stream = io.BufferedReader(counter, buffer_size=1 << 16)
    chosen = fmt or detect_format(name, stream)
    return counter, products(read_records(stream, chosen), counter)
