"""Klaviyo's additions to Django's template language, registered as one library.

Filters from Klaviyo's "Django filter glossary" (lookup, floatadd, abs, append, at_least,
at_most, base64 and URL-safe base64, capitalize, ceil, compact, concat, count,
format_date_string, round_up, round_down, multiply, divide, floor) and Klaviyo's tags
(unsubscribe, manage_preferences, web_view and their `_link` forms, catalog, currency_format).
Numeric filters accept numbers or numeric strings and render nothing for anything else, as
Django's `add` does.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from django.template import Library, Node, TemplateSyntaxError
from django.template.base import FilterExpression, Parser, Token
from django.template.context import Context
from django.utils.html import escape, format_html

from tidings.templates.errors import MessageSkipped
from tidings.templates.sandbox import FrozenDict, current_env, freeze

register = Library()

Number = int | float | Decimal


def _number(value: Any) -> Number | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return number if math.isfinite(number) else None
    return None


def _tidy(value: float | Decimal) -> Number:
    """Whole results as ints (5.0 -> 5), so `{{ 2|multiply:2.5 }}` reads 5 not 5.0."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# ---------------------------------------------------------------------------- lookups


@register.filter
def lookup(value: Any, key: Any) -> Any:
    """`person|lookup:'Loyalty Points'`: a key that dot notation cannot spell (spaces, `$`)."""
    if isinstance(value, Mapping):
        if key in value:
            return value[key]
        return value.get(str(key), "")
    if isinstance(value, list | tuple):
        index = _number(key)
        if isinstance(index, int) and -len(value) <= index < len(value):
            return value[index]
    return ""


@register.filter
def count(value: Any) -> Any:
    """Characters of a string, items of a list."""
    try:
        return len(value)
    except TypeError:
        return ""


@register.filter
def compact(value: Any) -> Any:
    """A list without its empty items (None and empty strings)."""
    if isinstance(value, list | tuple):
        return freeze([item for item in value if item is not None and item != ""])
    return value


# ---------------------------------------------------------------------------- strings


@register.filter(is_safe=False)
def append(value: Any, arg: Any) -> str:
    return f"{'' if value is None else value}{'' if arg is None else arg}"


@register.filter(is_safe=False)
def concat(value: Any, arg: Any) -> Any:
    """Two strings joined; two lists joined into one list."""
    if isinstance(value, list | tuple) and isinstance(arg, list | tuple):
        return freeze([*value, *arg])
    return append(value, arg)


@register.filter(is_safe=True)
def capitalize(value: Any) -> str:
    return str(value).capitalize() if value is not None else ""


def _b64_text(data: bytes) -> str:
    return data.decode("ascii")


@register.filter
def base64_encode(value: Any) -> str:
    return _b64_text(base64.b64encode(str(value).encode("utf-8")))


@register.filter
def base64_url_safe_encode(value: Any) -> str:
    return _b64_text(base64.urlsafe_b64encode(str(value).encode("utf-8")))


def _b64decode(value: Any, url_safe: bool) -> str:
    text = str(value).strip()
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.urlsafe_b64decode(text) if url_safe else base64.b64decode(text, validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return ""


@register.filter
def base64_decode(value: Any) -> str:
    return _b64decode(value, url_safe=False)


@register.filter
def base64_url_safe_decode(value: Any) -> str:
    return _b64decode(value, url_safe=True)


# ---------------------------------------------------------------------------- numbers


@register.filter(name="abs")
def abs_(value: Any) -> Any:
    number = _number(value)
    return "" if number is None else abs(number)


@register.filter
def floatadd(value: Any, arg: Any) -> Any:
    """Addition that keeps decimals (Klaviyo's `add`, like Django's, works on integers)."""
    a, b = _number(value), _number(arg)
    if a is None or b is None:
        return ""
    return _tidy(float(a) + float(b))


@register.filter
def multiply(value: Any, arg: Any) -> Any:
    a, b = _number(value), _number(arg)
    if a is None or b is None:
        return ""
    return _tidy(float(a) * float(b))


@register.filter
def divide(value: Any, arg: Any) -> Any:
    a, b = _number(value), _number(arg)
    if a is None or b is None or b == 0:
        return ""
    return _tidy(float(a) / float(b))


@register.filter
def at_least(value: Any, arg: Any) -> Any:
    a, b = _number(value), _number(arg)
    if a is None or b is None:
        return ""
    return max(a, b)


@register.filter
def at_most(value: Any, arg: Any) -> Any:
    a, b = _number(value), _number(arg)
    if a is None or b is None:
        return ""
    return min(a, b)


@register.filter
def ceil(value: Any) -> Any:
    number = _number(value)
    return "" if number is None else math.ceil(number)


@register.filter
def floor(value: Any) -> Any:
    number = _number(value)
    return "" if number is None else math.floor(number)


def _round(value: Any, places: Any, rounding: str) -> Any:
    number = _number(value)
    digits = _number(places) if places is not None else 0
    if number is None or not isinstance(digits, int) or not 0 <= digits <= 20:
        return ""
    try:
        result = Decimal(str(number)).quantize(Decimal(1).scaleb(-digits), rounding=rounding)
    except InvalidOperation:
        return ""
    return int(result) if digits == 0 else float(result)


@register.filter
def round_up(value: Any, places: Any = None) -> Any:
    """Round towards +infinity, to `places` decimals (default 0)."""
    return _round(value, places, ROUND_CEILING)


@register.filter
def round_down(value: Any, places: Any = None) -> Any:
    return _round(value, places, ROUND_FLOOR)


# ---------------------------------------------------------------------------- dates

_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%Y/%m/%d",
    "%d %B %Y",
    "%B %d, %Y",
    "%b %d, %Y",
)


@register.filter(expects_localtime=False)
def format_date_string(value: Any) -> Any:
    """A date string (ISO 8601 and the common forms) or unix time as a datetime, for `|date`."""
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return ""
    if not isinstance(value, str) or not value.strip():
        return ""
    text = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        for fmt in _DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return ""
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------------------- link tags

_LINK_TEXT = {
    "unsubscribe": "Unsubscribe",
    "preferences": "Manage Preferences",
    "web-view": "View in browser",
}


class LinkNode(Node):
    child_nodelists = ()

    def __init__(self, kind: str, text: FilterExpression | None, url_only: bool) -> None:
        self.kind = kind
        self.text = text
        self.url_only = url_only

    def render(self, context: Context) -> str:
        env = current_env()
        env.flags.add(self.kind)
        url = env.links.url(self.kind) if env.links is not None else "#"
        if self.url_only:
            return str(escape(url)) if context.autoescape else url
        label = self.text.resolve(context) if self.text is not None else _LINK_TEXT[self.kind]
        return str(format_html('<a href="{}">{}</a>', url, label))


def _link_tag(kind: str, url_only: bool) -> Any:
    def tag(parser: Parser, token: Token) -> Node:
        bits = token.split_contents()
        if url_only and len(bits) > 1:
            raise TemplateSyntaxError(f"'{bits[0]}' takes no arguments.")
        if len(bits) > 2:
            raise TemplateSyntaxError(f"'{bits[0]}' takes at most one argument, the link text.")
        text = parser.compile_filter(bits[1]) if len(bits) == 2 else None
        return LinkNode(kind, text, url_only)

    return tag


register.tag("unsubscribe", _link_tag("unsubscribe", url_only=False))
register.tag("unsubscribe_link", _link_tag("unsubscribe", url_only=True))
register.tag("manage_preferences", _link_tag("preferences", url_only=False))
register.tag("manage_preferences_link", _link_tag("preferences", url_only=True))
register.tag("web_view", _link_tag("web-view", url_only=False))
register.tag("web_view_link", _link_tag("web-view", url_only=True))


# ---------------------------------------------------------------------------- catalog


def catalog_item_context(item: Any) -> FrozenDict:
    """What `{{ catalog_item.* }}` shows, from a catalog item view (or an empty item).

    The fields of Klaviyo's catalog item, read from any object with those attributes; the
    catalogs domain's `CatalogItemView.template_context()` adds categories (`tags`), variants
    and the full image list on top.
    """
    if item is None:
        return FrozenDict()
    full = getattr(item, "image_full_url", None) or ""
    thumb = getattr(item, "image_thumbnail_url", None) or full
    metadata = dict(getattr(item, "custom_metadata", None) or {})
    price = getattr(item, "price", None)
    context: dict[str, Any] = {
        "id": getattr(item, "external_id", ""),
        "catalog_id": getattr(item, "id", ""),
        "title": getattr(item, "title", ""),
        "description": getattr(item, "description", ""),
        "url": getattr(item, "url", ""),
        "price": price if price is not None else "",
        "image_full_url": full,
        "image_thumbnail_url": thumb,
        "images": list(getattr(item, "images", None) or []),
        "featured_image": {"full": {"src": full}, "thumbnail": {"src": thumb}},
        "metadata": metadata,
        "custom_metadata": metadata,
        "published": bool(getattr(item, "published", True)),
    }
    extra = getattr(item, "template_context", None)
    if callable(extra):
        context.update(extra())
    return freeze(context)


class CatalogNode(Node):
    child_nodelists = ("nodelist",)

    def __init__(self, item: FilterExpression, cancel: bool, nodelist: Any) -> None:
        self.item = item
        self.cancel = cancel
        self.nodelist = nodelist

    def render(self, context: Context) -> str:
        ref = self.item.resolve(context)
        env = current_env()
        found = env.catalog(str(ref)) if env.catalog is not None and ref not in (None, "") else None
        if self.cancel and (found is None or not found.published):
            raise MessageSkipped("Catalog Item Unavailable")
        with context.push(catalog_item=catalog_item_context(found)):
            return str(self.nodelist.render(context))


@register.tag("catalog")
def do_catalog(parser: Parser, token: Token) -> Node:
    """`{% catalog ITEM_ID [unpublished="cancel"] [integration="..."] %}...{% endcatalog %}`."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise TemplateSyntaxError("'catalog' needs the catalog item id: {% catalog event.ProductID %}.")
    cancel = False
    for option in bits[2:]:
        name, sep, raw = option.partition("=")
        value = raw.strip("'\"")
        if not sep:
            raise TemplateSyntaxError(f"Unknown argument for 'catalog': {option!r}.")
        if name == "unpublished":
            if value != "cancel":
                raise TemplateSyntaxError("'catalog' takes unpublished=\"cancel\" only.")
            cancel = True
        elif name != "integration":
            raise TemplateSyntaxError(f"Unknown argument for 'catalog': {name!r}.")
    nodelist = parser.parse(("endcatalog",))
    parser.delete_first_token()
    return CatalogNode(parser.compile_filter(bits[1]), cancel, nodelist)


# ---------------------------------------------------------------------------- recommendations

DEFAULT_RECOMMENDATIONS = 4


class RecommendedProductsNode(Node):
    child_nodelists = ()

    def __init__(self, count: FilterExpression | None, name: str) -> None:
        self.count = count
        self.name = name

    def render(self, context: Context) -> str:
        number = _number(self.count.resolve(context)) if self.count is not None else DEFAULT_RECOMMENDATIONS
        count = int(number) if number is not None and number > 0 else 0
        recommend = current_env().recommend
        items: list[Any] = []
        if recommend is not None and count:
            person = context.get("person")
            profile_id = person.get("id") if isinstance(person, Mapping) else None
            event = context.get("event")
            found = recommend(
                str(profile_id) if profile_id else None, count, event if isinstance(event, Mapping) else None
            )
            items = [catalog_item_context(item) for item in found]
        context[self.name] = freeze(items)
        return ""


@register.tag("recommended_products")
def do_recommended_products(parser: Parser, token: Token) -> Node:
    """`{% recommended_products [COUNT] as NAME %}`: up to COUNT (default 4, at most 24) catalog
    items recommended from the person's purchase history, each with the fields of
    `catalog_item` (title, url, price, featured_image ...), for a `{% for %}` loop."""
    bits = token.split_contents()
    if len(bits) not in (3, 4) or bits[-2] != "as":
        raise TemplateSyntaxError(
            "'recommended_products' takes a count and a name: {% recommended_products 4 as products %}."
        )
    count = parser.compile_filter(bits[1]) if len(bits) == 4 else None
    return RecommendedProductsNode(count, bits[-1])


# ---------------------------------------------------------------------------- coupons

PREVIEW_CODE = "PREVIEW-{}"  # what a preview shows in place of a unique code


class CouponNode(Node):
    child_nodelists = ()

    def __init__(self, coupon: FilterExpression) -> None:
        self.coupon = coupon

    def render(self, context: Context) -> str:
        name = str(self.coupon.resolve(context) or "")
        issue = current_env().coupon
        # A send hands out this message's code (raising MessageSkipped when none is left); a
        # preview takes none from the pool.
        code = issue(name) if issue is not None else PREVIEW_CODE.format(name)
        return str(escape(code)) if context.autoescape else code


@register.tag("coupon_code")
def do_coupon_code(parser: Parser, token: Token) -> Node:
    """`{% coupon_code 'COUPON_ID' %}`: a unique code of that coupon for this recipient."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise TemplateSyntaxError("'coupon_code' takes the coupon's id: {% coupon_code 'WELCOME10' %}.")
    return CouponNode(parser.compile_filter(bits[1]))


# ---------------------------------------------------------------------------- currency


class CurrencyNode(Node):
    child_nodelists = ()

    def __init__(self, value: FilterExpression, currency: FilterExpression | None) -> None:
        self.value = value
        self.currency = currency

    def render(self, context: Context) -> str:
        from babel.core import UnknownLocaleError
        from babel.numbers import UnknownCurrencyError, format_currency

        number = _number(self.value.resolve(context))
        if number is None:
            return ""
        env = current_env()
        code = str(self.currency.resolve(context)) if self.currency is not None else env.currency
        try:
            text = format_currency(Decimal(str(number)), code.upper(), locale=env.locale)
        except (UnknownCurrencyError, UnknownLocaleError, ValueError, InvalidOperation):
            text = f"{Decimal(str(number)):.2f} {code}"
        return str(escape(text)) if context.autoescape else text


@register.tag("currency_format")
def do_currency_format(parser: Parser, token: Token) -> Node:
    """`{% currency_format catalog_item.price [currency="EUR"] %}`: the account's currency by default."""
    bits = token.split_contents()
    if len(bits) not in (2, 3):
        raise TemplateSyntaxError("'currency_format' takes a value and optionally currency=\"CODE\".")
    currency = None
    if len(bits) == 3:
        name, sep, raw = bits[2].partition("=")
        if name != "currency" or not sep:
            raise TemplateSyntaxError(f"Unknown argument for 'currency_format': {bits[2]!r}.")
        currency = parser.compile_filter(raw)
    return CurrencyNode(parser.compile_filter(bits[1]), currency)
