"""Benchmark: `tidings import profiles FILE.csv` of 1,000,000 profiles on PostgreSQL.

Writes a CSV of N profiles (unique emails, first and last names, four custom properties of
four types), runs the real command in a child process against a fresh database (identity
resolution on email for every row: each email is looked up, none is known, each profile is
created), then, with `--reimport`, the same file again (every email known, every profile
updated). Prints profiles/s, the command's peak RSS and the CPU time of the command and of
its PostgreSQL backends per profile, next to `COPY` of the same CSV into a plain table on
the same database, as a ratio.

    TIDINGS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/profile_import.py [--profiles 1000000] [--reimport]

The server and credentials come from TIDINGS_BENCH_DATABASE_URL; the database is always
`tidings_bench_import`, dropped and created again on every run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from _common import database_url, fresh_database
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "tidings_bench_import"  # this benchmark's own database, dropped and made again each run
HEADER = "email,first_name,last_name,Plan,Visits,Signed Up,VIP\n"
PLANS = ("free", "basic", "pro", "enterprise")


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def write_csv(path: Path, count: int, visits_offset: int = 0) -> None:
    with path.open("w") as out:
        out.write(HEADER)
        lines = []
        for n in range(count):
            day = dt.date(2020, 1, 1) + dt.timedelta(days=n % 1500)
            lines.append(
                f"person{n}@example.com,First{n % 997},Last{n % 991},{PLANS[n % 4]},"
                f"{n % 50 + visits_offset},{day.isoformat()},{'true' if n % 7 == 0 else 'false'}\n"
            )
            if len(lines) == 10_000:
                out.writelines(lines)
                lines = []
        out.writelines(lines)


class TreeRss(threading.Thread):
    """Samples the resident memory of a process and its descendants (the import's worker
    processes) while it runs; keeps the largest sum seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.stop = threading.Event()

    def tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    todo += [int(c) for c in (task / "children").read_text().split()]
                except OSError:
                    continue
        return pids

    def run(self) -> None:
        while not self.stop.wait(0.2):
            total = 0
            for pid in self.tree():
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
                except OSError:
                    continue
            self.peak_kb = max(self.peak_kb, total)

    def peak_mb(self) -> float:
        self.stop.set()
        self.join()
        return self.peak_kb / 1024


class BackendCpu(threading.Thread):
    """Samples the CPU time of the bench database's backends (same machine) while a run lasts:
    the command's connections close when it exits, so the last sample of each pid is kept."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        with psycopg.connect(dsn(self.url), autocommit=True) as conn:
            me = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
            while not self.stop.wait(0.25):
                pids = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s",
                    (me,),
                ).fetchall()
                for (pid,) in pids:
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    self.seen[pid] = (int(fields[11]) + int(fields[12])) / self.tick

    def total(self) -> float:
        self.stop.set()
        self.join()
        return sum(self.seen.values())


def run_import(url: str, account: str, path: Path) -> dict[str, float | str]:
    """The real command in a child process: wall time, CPU time and peak RSS (the command and its
    worker processes), and the CPU time of its PostgreSQL backends."""
    env = dict(os.environ, TIDINGS_DATABASE_URL=url, TIDINGS_LOG_LEVEL="WARNING")
    sampler = BackendCpu(url)
    sampler.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-m", "tidings.cli", "import", "profiles", str(path), "--account", account],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        memory = TreeRss(process.pid)
        memory.start()
        stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = sampler.total()
    if process.returncode != 0:
        raise SystemExit(f"import failed:\n{stdout}\n{stderr}")
    summary = [line for line in stdout.splitlines() if " rows: " in line][-1]
    return {
        "seconds": seconds,
        "client_cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "server_cpu": server_cpu,
        "peak_rss_mb": memory.peak_mb(),  # the command and its worker processes together
        "summary": summary,
    }


def copy_baseline(url: str, path: Path) -> float:
    """COPY the same CSV into a plain table (no keys, no indexes) over one connection."""
    with psycopg.connect(dsn(url)) as conn:
        conn.execute(
            "CREATE TABLE bench_plain (email text, first_name text, last_name text, plan text,"
            " visits int, signed_up date, vip bool)"
        )
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY bench_plain FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as source,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_plain")
        conn.commit()
    return elapsed


def check(url: str, account: str, count: int) -> None:
    with psycopg.connect(dsn(url)) as conn:
        found = conn.execute("SELECT count(*) FROM profiles WHERE account_id = %s", (account,)).fetchone()
        sample = conn.execute(
            "SELECT properties FROM profiles WHERE account_id = %s AND email = %s",
            (account, f"person{count - 1}@example.com"),
        ).fetchone()
    assert found is not None and found[0] == count, found
    assert sample is not None and set(sample[0]) == {"Plan", "Visits", "Signed Up", "VIP"}, sample


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--reimport", action="store_true", help="Then import the file again (all updates).")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    url = database_url(DATABASE)
    fresh_database(url).dispose()
    os.environ["TIDINGS_DATABASE_URL"] = url
    from tidings.accounts import service as accounts
    from tidings.accounts.schemas import AccountCreate
    from tidings.config import get_settings
    from tidings.db.migrate import upgrade
    from tidings.db.session import Database

    get_settings.cache_clear()
    db = Database(get_settings())
    upgrade(db.engine)
    with db.write() as session:
        account = accounts.create_account(session, AccountCreate(name="Import bench")).id
    db.dispose()

    n = args.profiles
    load_before = os.getloadavg()[0]
    runs: list[tuple[str, dict[str, float | str]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "profiles.csv"
        write_csv(path, n)
        size_mb = path.stat().st_size / 1e6
        runs.append(("first import (all created)", run_import(url, account, path)))
        check(url, account, n)
        if args.reimport:
            write_csv(path, n, visits_offset=1)
            runs.append(("re-import (all updated)", run_import(url, account, path)))
            check(url, account, n)
        baseline = copy_baseline(url, path)

    print(
        f"tidings import profiles: {n:,} rows ({size_mb:.0f} MB CSV; email, two names, four properties), "
        f"PostgreSQL, identity resolution on email"
    )
    for label, result in runs:
        seconds = float(result["seconds"])
        print(
            f"  {label:28s} {seconds:7.1f} s  {n / seconds:9,.0f} profiles/s   "
            f"ratio to COPY: {baseline / seconds:5.3f} ({seconds / baseline:4.0f}x the time)   peak RSS {float(result['peak_rss_mb']):5.0f} MB (all processes)   "
            f"CPU per profile: {float(result['client_cpu']) / n * 1e6:4.0f} us Tidings + "
            f"{float(result['server_cpu']) / n * 1e6:4.0f} us PostgreSQL"
        )
        print(f"  {'':28s} {result['summary']}")
    print(f"  {'COPY into a plain table':28s} {baseline:7.1f} s  {n / baseline:9,.0f} rows/s")
    print(
        f"  ({platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after; the machine is shared)"
    )


if __name__ == "__main__":
    main()
