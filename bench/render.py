"""Rendering a typical marketing email with a precompiled template, on one core.

The template has about 20 variables, a loop over 5 line items, 3 filters and an if. Tidings
renders it with Django's template engine plus Klaviyo's library inside the sandbox (deadline,
output budget, read-only data); the baseline is Jinja2 rendering the equivalent template,
autoescaping too, on the same machine. No database is needed.

    python bench/render.py [--seconds 5]

Figures are renders per second of CPU time (the process is pinned to one core), so other
work on the machine disturbs them less than wall-clock time would.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DJANGO = """<html><head><title>Your order {{ order.id }}</title></head><body>
<h1>Thanks, {{ first_name|default:"friend" }}!</h1>
<p>Hi {{ person.first_name }} {{ person.last_name }} ({{ email }}), your order {{ order.id }}
from {{ organization.name }} is on its way to {{ order.shipping.city }}, {{ order.shipping.country }}.</p>
{% if order.discount %}<p>You saved {{ order.discount }} with code {{ order.coupon|upper }}.</p>{% endif %}
<table>
{% for item in order.items %}<tr><td>{{ item.name|title }}</td>
<td>{{ item.quantity }}</td><td>{{ item.price }}</td></tr>
{% endfor %}</table>
<p>Subtotal {{ order.subtotal }}, shipping {{ order.shipping_cost }},
total {{ order.total }} {{ order.currency }}.</p>
<p>Track it: {{ order.tracking_url }} (carrier {{ order.carrier }}).</p>
<p>{{ organization.name }}, {{ organization.full_address }} - {{ organization.url }}</p>
</body></html>"""

# Same filters in Jinja2's spelling (Django's `default` applies to any false value); Jinja2
# reads `order.items` as the dict method, so the key is subscripted.
JINJA = DJANGO.replace('|default:"friend"', '|default("friend", true)').replace(
    "in order.items", 'in order["items"]'
)

CONTEXT = {
    "first_name": "Ada",
    "email": "ada@example.com",
    "person": {"first_name": "Ada", "last_name": "Lovelace", "Loyalty Points": 160},
    "organization": {
        "name": "Hat & Co",
        "full_address": "1 Main St, Boston MA 02110, US",
        "url": "https://hats.example",
    },
    "order": {
        "id": "R-1042",
        "discount": "5.00",
        "coupon": "spring",
        "subtotal": "84.50",
        "shipping_cost": "4.00",
        "total": "83.50",
        "currency": "USD",
        "carrier": "UPS",
        "tracking_url": "https://track.example/1Z999",
        "shipping": {"city": "London", "country": "GB"},
        "items": [{"name": f"felt hat no. {i}", "quantity": i, "price": f"{10 + i}.50"} for i in range(1, 6)],
    },
}


def per_second(render: Callable[[], str], seconds: float) -> float:
    for _ in range(200):  # warm up
        render()
    count, started = 0, time.process_time()
    deadline = started + seconds
    while True:
        for _ in range(200):
            render()
        count += 200
        now = time.process_time()
        if now >= deadline:
            return count / (now - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="CPU seconds per measurement")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    import django
    import jinja2

    from tidings.templates.engine import compile_template
    from tidings.templates.sandbox import freeze

    tidings_template = compile_template(DJANGO)
    jinja_template = jinja2.Environment(autoescape=True).from_string(JINJA)
    prepared = freeze(CONTEXT)  # what the message renderer builds once per recipient

    a, b = tidings_template.render(CONTEXT), jinja_template.render(CONTEXT)
    assert a.replace("&#x27;", "'") == b.replace("&#39;", "'"), "the two templates must render the same text"

    tidings = per_second(lambda: tidings_template.render(prepared), args.seconds)
    with_prep = per_second(lambda: tidings_template.render(CONTEXT), args.seconds)
    jinja = per_second(lambda: jinja_template.render(CONTEXT), args.seconds)

    print(f"python {platform.python_version()}, Django {django.get_version()}, Jinja2 {jinja2.__version__}")
    print(f"{'tidings (Django + Klaviyo library, sandboxed)':48} {tidings:10,.0f} renders/s")
    print(f"{'tidings, freezing the context on every render':48} {with_prep:10,.0f} renders/s")
    print(f"{'jinja2 (equivalent template, autoescape)':48} {jinja:10,.0f} renders/s")
    print(f"ratio tidings / jinja2: {tidings / jinja:.2f} (with context freezing {with_prep / jinja:.2f})")
    print(f"target >= 5,000 renders/s: {'met' if tidings >= 5000 else 'NOT met'}")


if __name__ == "__main__":
    main()
