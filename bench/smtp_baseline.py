"""SMTP throughput to a local sink: the baseline the delivery benchmark compares itself to.

A sink (aiosmtpd, counting and answering 250) runs in its own process; this process sends the
same pre-built, DKIM-signed messages twice: with bare aiosmtplib (8 connections, each sending in
a loop: the note's baseline, measured at about 2,270 msgs/s on one core), then through
`SmtpProvider` (the pool, AIMD window and classification the worker uses). Prints both rates.

    python bench/smtp_baseline.py [--messages 4000] [--connections 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sink(port: int, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    from aiosmtpd.controller import Controller

    class Counter:
        count = 0

        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            Counter.count += 1
            return f"250 2.0.0 Ok: queued as {Counter.count}"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def _messages(n: int) -> list[tuple[str, bytes]]:
    from tidings.delivery.dkim import DkimSigner, generate_key
    from tidings.delivery.mime import EmailParts, build_email

    row = '<tr><td class="p">Produit {i}: une description du produit, assez longue pour une ligne</td></tr>\n'
    html = "<table>\n" + "".join(row.format(i=i) for i in range(55)) + "</table>\n"  # about 5 KB
    pem, _record = generate_key()
    signer = DkimSigner("mail.example.com", "tidings", pem)
    out = []
    for i in range(n):
        to = f"user{i}@example.org"
        parts = EmailParts(
            message_id=f"<{i}.bench@mail.example.com>",
            from_email="news@mail.example.com",
            from_name="Boutique",
            to_email=to,
            subject="Vos sélections de décembre",
            html=html,
            text="Bonjour\n",
            date=dt.datetime.now(dt.UTC),
            list_unsubscribe_url=f"https://t.example.com/p/unsubscribe?t={i}",
            send_id=str(i),
        )
        out.append((to, signer.sign(build_email(parts))))
    return out


async def _baseline(port: int, messages: list[tuple[str, bytes]], connections: int) -> float:
    import aiosmtplib

    queue = list(reversed(messages))

    async def one_connection() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        while queue:
            to, content = queue.pop()
            await client.sendmail("bounces@mail.example.com", [to], content)
        await client.quit()

    start = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return len(messages) / (time.perf_counter() - start)


async def _provider(port: int, messages: list[tuple[str, bytes]], connections: int) -> tuple[float, int]:
    from tidings.delivery.provider import OutboundMessage
    from tidings.delivery.providers.smtp import SmtpProvider, SmtpRelay
    from tidings.delivery.tables import Channel

    provider = SmtpProvider(SmtpRelay.from_url(f"smtp://127.0.0.1:{port}"), max_connections=connections)
    outbound = [
        OutboundMessage(
            "ABC123", str(i), str(i), Channel.EMAIL, f"<{i}>", content, "", to, "bounces@mail.example.com"
        )
        for i, (to, content) in enumerate(messages)
    ]
    queue = list(reversed(outbound))

    async def feeder() -> None:  # as the worker does: up to `concurrency` in flight
        while queue:
            await provider.send(queue.pop())

    start = time.perf_counter()
    await asyncio.gather(*(feeder() for _ in range(provider.concurrency)))
    rate = len(messages) / (time.perf_counter() - start)
    await provider.close()
    return rate, provider.connections_opened


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    port = _free_port()
    ready = multiprocessing.get_context("spawn").Event()
    sink = multiprocessing.get_context("spawn").Process(target=_sink, args=(port, ready), daemon=True)
    sink.start()
    ready.wait(30)
    try:
        started = time.perf_counter()
        messages = _messages(args.messages)
        build = (time.perf_counter() - started) / args.messages * 1000
        size = sum(len(c) for _, c in messages) // len(messages)
        print(f"{args.messages} messages of {size} bytes, built and DKIM-signed at {build:.3f} ms each")
        print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f} (the machine is shared)")
        baselines, rates, opened = [], [], 0
        for _ in range(args.rounds):  # alternated, so a busy moment of the machine hits both
            baselines.append(asyncio.run(_baseline(port, messages, args.connections)))
            rate, opened = asyncio.run(_provider(port, messages, args.connections))
            rates.append(rate)
        print(f"aiosmtplib, {args.connections} connections, pre-built bytes: best {max(baselines):,.0f} msgs/s "
              f"(runs: {', '.join(f'{b:,.0f}' for b in baselines)})")  # fmt: skip
        print(f"SmtpProvider, up to {args.connections} connections ({opened} opened): best {max(rates):,.0f} msgs/s "
              f"(runs: {', '.join(f'{r:,.0f}' for r in rates)}; {max(rates) / max(baselines):.2f} of the baseline)")  # fmt: skip
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        sink.kill()


if __name__ == "__main__":
    main()
