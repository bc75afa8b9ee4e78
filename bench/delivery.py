"""Delivery benchmark (PostgreSQL): personalised, DKIM-signed, link-tracked emails through the
send ledger to a local SMTP sink, next to the baseline of aiosmtplib sending the same bytes.

    python bench/delivery.py [--messages 20000] [--workers 2] [--connections 8]

The work measured is what a campaign's sends cost once planned: each message is claimed from
the ledger, gated (consent), rendered from a 5 KB template with a loop over the profile's items,
its links rewritten for click tracking with an open pixel, built as MIME, DKIM-signed (RSA 2048),
committed as `sending`, sent over SMTP (a pool of connections), and settled with its `Received
Email` event. The sink is aiosmtpd in its own process (it counts, it does not store). The rate is
the ledger's: messages over the time from the first claim to the last outcome; resident memory is
the largest RSS any worker process reached. The baseline is aiosmtplib, one process, the same
number of connections, sending the very bytes the workers stored (no rendering, no database),
to the same sink. Setup (profiles, the plan) is not measured. CPU figures: the workers' CPU an
email from the last reading before their first claim (their start-up, imports mostly, is also
printed with it), and the sink's; the load average at the start and the end says how busy the
machine was (on a shared machine, CPU an email is the figure to compare, wall time is not).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import ROOT, cpu_seconds, database_url, free_port, fresh_database, machine
from sqlalchemy import text

sys.path.insert(0, str(ROOT))

ITEMS = [
    {"name": f"Item {i}", "price": f"{10 + i}.00", "url": f"https://shop.example.com/p/{i}"} for i in range(8)
]
TEMPLATE = (
    "<html><head><style>p{color:#333333;font-family:Helvetica,Arial,sans-serif}"
    ".item{margin:8px 0}</style></head><body>"
    "<h1>Hello {{ first_name|default:'there' }},</h1>"
    + "<p>"
    + ("We picked a few things you might like this week, based on what you looked at. " * 40)
    + "</p>"
    '{% for item in person.items %}<p class="item"><a href="{{ item.url }}">{{ item.name }}</a> '
    "for ${{ item.price }}</p>{% endfor %}"
    '<p><a href="https://shop.example.com/?ref=mail">Visit the shop</a></p>'
    "</body></html>"
)


def run_sink(port: int, count_file: str) -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        received = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            Handler.received += 1
            return "250 2.0.0 Ok: queued"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port, data_size_limit=0)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    controller.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    Path(count_file).write_text(str(Handler.received))


def prepare(url: str, messages: int) -> str:
    """The account (a DKIM key for its domain), the template, the profiles and the planned sends."""
    from sqlalchemy import insert

    from tidings import domains
    from tidings.accounts import service as accounts
    from tidings.accounts.schemas import AccountCreate, ContactInformation
    from tidings.config import Settings
    from tidings.db.base import utcnow
    from tidings.db.ids import ulid
    from tidings.db.migrate import upgrade
    from tidings.db.session import Database
    from tidings.delivery import dkim, service, sources
    from tidings.delivery.messages import EmailDefinition
    from tidings.delivery.service import ApiSource
    from tidings.delivery.tables import ApiMessage, Channel
    from tidings.profiles.tables import Profile
    from tidings.templates.schemas import TemplateCreateAttributes
    from tidings.templates.service import create_template

    domains.install()
    db = Database(Settings(database_url=url))
    upgrade(db.engine)
    with db.write() as session:
        contact = ContactInformation(
            default_sender_name="Bench Shop", default_sender_email="news@bench.example"
        )
        account_id = accounts.create_account(
            session, AccountCreate(name="Bench", contact_information=contact)
        ).id
        dkim.create_sending_domain(session, account_id, "bench.example")
        template = create_template(
            session, account_id, TemplateCreateAttributes(name="Weekly", editor_type="CODE", html=TEMPLATE)
        )
        definition = EmailDefinition(
            template_id=template.id,
            subject="{{ first_name }}, this week's picks",
            smart_sending=False,
            context={"$message": "bench", "Campaign Name": "Bench"},
        )
        message = ApiMessage(
            account_id=account_id,
            id=ulid(),
            definition=sources.DEFINITION.dump_python(definition, mode="json"),
        )
        session.add(message)
    now = utcnow()
    profile_ids = [ulid() for _ in range(messages)]
    for start in range(0, messages, 2000):
        with db.write() as session:
            session.execute(
                insert(Profile.__table__),  # type: ignore[arg-type]
                [
                    {
                        "account_id": account_id,
                        "id": pid,
                        "email": f"reader{n}@mail{n % 50}.example",
                        "first_name": f"Reader{n}",
                        "properties": {"items": ITEMS},
                        "created": now,
                        "updated": now,
                    }
                    for n, pid in enumerate(profile_ids[start : start + 2000], start)
                ],
            )
            for n, pid in enumerate(profile_ids[start : start + 2000], start):
                service.plan(
                    session,
                    account_id,
                    source=ApiSource(f"bench-{n}"),
                    profile_id=pid,
                    channel=Channel.EMAIL,
                    domain="bench.example",
                    source_id=message.id,
                )
    db.dispose()
    return account_id


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def deliver(
    url: str,
    account_id: str,
    *,
    workers: int,
    connections: int,
    port: int,
    messages: int,
    sink_pid: int,
) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TIDINGS_DATABASE_URL": url,
        "TIDINGS_LOG_LEVEL": "WARNING",
        "TIDINGS_EMAIL_PROVIDER": "smtp",
        "TIDINGS_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "TIDINGS_SMTP_MAX_CONNECTIONS": str(connections),
        "TIDINGS_PUBLIC_URL": "https://t.bench.example",
    }
    command = [
        sys.executable,
        "-c",
        "from tidings.cli import app; app()",
        "worker",
        "--concurrency",
        "0",
        "--delivery",
        "1",
    ]
    procs = [subprocess.Popen(command, env=env, cwd=ROOT) for _ in range(workers)]
    engine = fresh_engine(url)
    peak = 0
    cpu = 0.0
    cpu_at_first_claim: float | None = None  # the workers' start-up (imports) is not an email's cost
    sink_start = cpu_seconds(sink_pid)
    try:
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            peak = max(peak, max(rss_kb(p.pid) for p in procs))
            before = sum(cpu_seconds(p.pid) for p in procs)
            with engine.connect() as conn:
                planned, left = conn.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE status = 'planned'), "
                        "count(*) FILTER (WHERE status IN ('planned', 'sending')) "
                        "FROM message_sends WHERE account_id = :a"
                    ),
                    {"a": account_id},
                ).one()
            if planned == messages:
                cpu_at_first_claim = before  # nothing claimed yet: the last reading before the work
            if not left:
                break
            cpu = sum(cpu_seconds(p.pid) for p in procs)
            time.sleep(0.2)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
    sink_cpu = cpu_seconds(sink_pid) - sink_start
    with engine.connect() as conn:
        first, last, sent = conn.execute(
            text(
                "SELECT min(sending_at), max(finished_at), count(*) FILTER (WHERE status = 'sent') "
                "FROM message_sends WHERE account_id = :a"
            ),
            {"a": account_id},
        ).one()
    engine.dispose()
    seconds = (last - first).total_seconds()
    return {
        "sent": sent,
        "seconds": seconds,
        "rate": sent / seconds if seconds else 0.0,
        "peak_rss_mb": peak / 1024,
        "cpu_ms": cpu / max(sent, 1) * 1000,
        "work_cpu_ms": (cpu - (cpu_at_first_claim or 0.0)) / max(sent, 1) * 1000,
        "sink_cpu_ms": sink_cpu / max(sent, 1) * 1000,
    }


def fresh_engine(url: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(url)


async def baseline(url: str, account_id: str, *, connections: int, port: int) -> dict[str, Any]:
    """aiosmtplib sending the stored bytes over `connections` connections: the plain way."""
    import aiosmtplib

    engine = fresh_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT recipient, sender, content FROM message_sends WHERE account_id = :a AND status = 'sent'"
            ),
            {"a": account_id},
        ).all()
    engine.dispose()
    queue: asyncio.Queue[tuple[str, str, bytes]] = asyncio.Queue()
    for row in rows:
        queue.put_nowait((row.recipient, row.sender, bytes(row.content)))

    async def one_connection() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await client.connect()
        while not queue.empty():
            recipient, sender, content = queue.get_nowait()
            await client.sendmail(sender, [recipient], content)
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    seconds = time.perf_counter() - started
    return {"sent": len(rows), "seconds": seconds, "rate": len(rows) / seconds}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--sink":
        run_sink(int(sys.argv[2]), sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2, help="delivery worker processes")
    parser.add_argument(
        "--connections", type=int, default=8, help="SMTP connections per worker, and the baseline's"
    )
    args = parser.parse_args()
    url = database_url("tidings_bench_delivery")
    fresh_database(url).dispose()
    print(f"machine: {machine()}")
    print("load average (1, 5, 15 min) at the start: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    print(f"preparing {args.messages} profiles and planned sends ...", flush=True)
    account_id = prepare(url, args.messages)
    port = free_port()
    count_file = f"/tmp/tidings-bench-sink-{os.getpid()}"
    sink = subprocess.Popen([sys.executable, __file__, "--sink", str(port), count_file])
    time.sleep(1.0)
    try:
        ours = deliver(
            url,
            account_id,
            workers=args.workers,
            connections=args.connections,
            port=port,
            messages=args.messages,
            sink_pid=sink.pid,
        )
        plain = asyncio.run(baseline(url, account_id, connections=args.connections, port=port))
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=30)
    received = int(Path(count_file).read_text())
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    print(
        f"tidings: {ours['sent']} emails in {ours['seconds']:.1f} s = {ours['rate']:.0f} emails/s "
        f"({args.workers} worker processes x {args.connections} connections), peak RSS {ours['peak_rss_mb']:.0f} MB, "
        f"worker CPU {ours['work_cpu_ms']:.2f} ms an email from the first claim "
        f"({ours['cpu_ms']:.2f} ms with the processes' start-up), SMTP sink CPU {ours['sink_cpu_ms']:.2f} ms an email"
    )
    print(
        f"baseline (aiosmtplib, the same bytes, {args.connections} connections): {plain['rate']:.0f} emails/s"
    )
    print(f"ratio: {ours['rate'] / plain['rate']:.2f} of the baseline; the sink received {received} messages")


if __name__ == "__main__":
    main()
