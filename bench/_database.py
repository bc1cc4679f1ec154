"""A throwaway database for a benchmark: migrated, connected, and gone afterwards.

SQLite lives in a temporary folder. PostgreSQL is a database and a role of the benchmark's own, made through
`runuser -u postgres -- psql` on the local cluster as `./dev test` makes its test databases (the cluster is started
if it is down), and dropped at the end; or, when DOORSTEP_DATABASE_URL names a PostgreSQL database, that one (the
benchmark then adds rows to it). Benchmarks are run as root on a development machine, as `./dev test` is.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KINDS = ("sqlite", "postgres")


class Database(NamedTuple):
    kind: str  # "sqlite" or "postgres"
    url: str  # "" for the SQLite file under `folder`
    folder: Path  # a temporary folder: the data directory is `folder / "data"`
    settings: object  # server.settings.Settings

    @property
    def name(self) -> str:
        return "PostgreSQL" if self.kind == "postgres" else "SQLite"


def chosen(argv: list[str], default: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The databases asked for on the command line (`--sqlite`, `--postgres`); else `default`, else the one
    DOORSTEP_DATABASE_URL names (PostgreSQL) or SQLite."""
    asked = tuple(kind for kind in KINDS if f"--{kind}" in argv)
    if asked:
        return asked
    if default:
        return default
    return ("postgres",) if os.environ.get("DOORSTEP_DATABASE_URL", "").startswith("postgres") else ("sqlite",)


def run_apart(kinds: tuple[str, ...]) -> bool:
    """With more than one database asked for, run the calling script once per database, each in a process of its
    own, and say so: Tortoise keeps each model's SQL in the dialect of the first database it met."""
    if len(kinds) < 2:
        return False
    for kind in kinds:
        others = [arg for arg in sys.argv[1:] if arg.removeprefix("--") not in KINDS]
        subprocess.run([sys.executable, sys.argv[0], f"--{kind}", *others], check=True)
    return True


@asynccontextmanager
async def throwaway(kind: str, secret: str, connect: bool = True) -> AsyncIterator[Database]:
    """A migrated database of `kind` (and, with `connect`, the ORM connected to it) for the time of the block."""
    from server.core import db
    from server.settings import load_settings

    folder = Path(tempfile.mkdtemp(prefix="doorstep-bench-"))
    made = None
    try:
        url = ""
        if kind == "postgres":
            url = os.environ.get("DOORSTEP_DATABASE_URL", "")
            if url.startswith("postgres"):
                print("PostgreSQL: the benchmark adds rows to the database DOORSTEP_DATABASE_URL names.")
            else:
                url = made = make_postgres_database()
        settings = load_settings({}, data_dir=folder / "data", database_url=url, secret=secret)
        await db.migrate(settings)
        if connect:
            await db.connect(settings)
        try:
            yield Database(kind, url, folder, settings)
        finally:
            if connect:
                await db.disconnect()
    finally:
        if made:
            drop_postgres_database(made)
        shutil.rmtree(folder, ignore_errors=True)


def _psql(port: str, script: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-q", "-p", port, "-v", "ON_ERROR_STOP=1"],
                   input=script, text=True, check=True, capture_output=True)


def _cluster() -> tuple[str, str, str, str]:
    """(version, name, port, status) of the first local cluster, as pg_lsclusters lists it."""
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout.split()
    if not listed:
        raise SystemExit("没有 PostgreSQL 集群：先运行一次 ./dev test，或设置 DOORSTEP_DATABASE_URL")
    return listed[0], listed[1], listed[2], listed[3]


def make_postgres_database() -> str:
    """A role and a database of this run's own on the local cluster; returns its URL."""
    version, cluster, port, status = _cluster()
    if status != "online":
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "start"], check=True)
    name, password = f"doorstep_bench_{os.getpid()}", secrets.token_hex(16)
    _psql(port, f"""SET client_min_messages TO warning;
DROP DATABASE IF EXISTS {name};
DROP ROLE IF EXISTS {name};
CREATE ROLE {name} LOGIN PASSWORD '{password}';
CREATE DATABASE {name} OWNER {name};
""")
    return f"postgres://{name}:{password}@127.0.0.1:{port}/{name}"


def drop_postgres_database(url: str) -> None:
    port, name = url.rsplit(":", 1)[1].split("/")
    _psql(port, f"DROP DATABASE IF EXISTS {name};\nDROP ROLE IF EXISTS {name};\n")
