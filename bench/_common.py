"""Helpers shared by the benchmarks: a fresh PostgreSQL database, an account, a server process."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench"


def database_url(name: str) -> str:
    base = os.environ.get("TIDINGS_BENCH_DATABASE_URL", DEFAULT_URL)
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def fresh_database(url: str) -> Engine:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return create_engine(url)


def env(url: str, **extra: str) -> dict[str, str]:
    values = dict(os.environ)
    values.update(
        TIDINGS_DATABASE_URL=url, TIDINGS_RATE_LIMITS_ENABLED="false", TIDINGS_LOG_LEVEL="WARNING", **extra
    )
    return values


def tidings(url: str, *args: str, **extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tidings.cli", *args],
        env=env(url, **extra),
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return done.stdout


def migrate_and_account(url: str) -> dict[str, str]:
    tidings(url, "db", "upgrade")
    return json.loads(tidings(url, "accounts", "create", "Bench", "--json"))  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(url: str, port: int, *, processes: int = 1, workers: int = 1) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tidings.cli",
            "serve",
            "--port",
            str(port),
            "--no-migrate",
            "--processes",
            str(processes),
        ],
        env=env(url, TIDINGS_WORKERS=str(workers)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                time.sleep(0.5 if processes > 1 else 0)
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def machine() -> str:
    return f"{platform.node()} ({os.cpu_count()} cores, Python {platform.python_version()})"


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process (all its threads) and of its children that ended (their
    parent counts them), from /proc; 0 once the process has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds used from now on by a process and its children, and by the PostgreSQL server
    (all its processes): figures that depend much less on a busy machine than wall time."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = (self._tree(pid), self._postgres())

    @classmethod
    def _children(cls, pid: int) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (FileNotFoundError, ProcessLookupError, IndexError):
                    continue
                if parent == pid:
                    found.append(int(entry.name))
        return found

    @classmethod
    def _tree(cls, pid: int) -> dict[int, float]:
        pids, seen = [pid], {}
        while pids:
            current = pids.pop()
            seen[current] = cpu_seconds(current)
            pids += cls._children(current)
        return seen

    @classmethod
    def _postgres(cls) -> dict[int, float]:
        out = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()
        if not out:
            return {}
        root = min(int(p) for p in out)
        return cls._tree(root)

    def read(self) -> tuple[float, float]:
        """(process tree, PostgreSQL) CPU seconds since the meter started."""
        tree, postgres = self._tree(self.pid), self._postgres()
        return (
            sum(v - self.start[0].get(k, 0.0) for k, v in tree.items()),
            sum(v - self.start[1].get(k, 0.0) for k, v in postgres.items()),
        )
