"""Several instances, one state: two real `doorstep serve` processes on one database (the same SQLite file, or the
test PostgreSQL in a schema of their own) and one S3 bucket (SeaweedFS), as behind nginx. Whatever one is told, the other
knows: tokens and logouts, login throttles, photos and their thumbnails, export jobs (run by exactly one of them,
followed from either, and restartable by the other when the one running it is killed). Started at the same moment,
they migrate the database once. The pair is shared by the module's tests; the kill comes last."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from factories import PASSWORD, home_visit, sha256_of
from server.households.export_runner import DIED
from server_process import ServerProcess
from test_crash import DATABASE_URL, ON_POSTGRES, REPO, photo

MIGRATIONS = sorted(p.stem for p in (REPO / "migrations").glob("[0-9]*.py"))
MARCH = {"from": "2025-03-01", "to": "2025-03-31"}
VISITED = 8  # households with a visit in March, registered and visited through both instances
STALE_SECONDS = 4  # the smallest the settings allow: a killed instance's export is failed soon


@pytest.fixture(scope="module")
def store_env(s3_server) -> dict:
    """The photo store both instances share, as the environment that chooses it: one bucket of a real S3 server
    (SeaweedFS), as a deployment of several instances has. (Nothing here looks into the store but through them.)"""
    return s3_server.env(s3_server.fresh_bucket("instances"))


@pytest.fixture(scope="module")
async def database_env(tmp_path_factory):
    """One database for both, not yet migrated: on PostgreSQL a schema of this module's own in the test database."""
    if not ON_POSTGRES:
        yield {"DOORSTEP_DATABASE_URL": f"sqlite://{tmp_path_factory.mktemp('shared-db') / 'doorstep.sqlite3'}"}
        return
    schema = f"instances_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(DATABASE_URL)
    await connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield {"DOORSTEP_DATABASE_URL": f"{DATABASE_URL}{'&' if '?' in DATABASE_URL else '?'}schema={schema}"}
    finally:
        await connection.execute(f"DROP SCHEMA {schema} CASCADE")
        await connection.close()


class Instance(ServerProcess):
    """One `doorstep serve` process, its log (JSON lines) in a file."""

    def __init__(self, name: str, env: dict, log: Path):
        super().__init__(env, log=log)
        self.name = name

    def log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]

    def errors(self) -> str:
        """The errors this instance logged, with their tracebacks: what a failed assertion should show."""
        return "\n".join(f"{self.name}: {line['message']}\n{line.get('traceback', '')}" for line in self.log_lines()
                         if line["level"] in ("ERROR", "CRITICAL"))


@dataclass
class Pair:
    a: Instance
    b: Instance
    migrated: list[str]  # what each `doorstep migrate` printed
    community: str
    worker: dict = field(default_factory=dict)  # Authorization headers, from logging in through a
    supervisor: dict = field(default_factory=dict)  # … and through b


async def login(client: httpx.AsyncClient, instance: Instance, username: str, password: str = PASSWORD):
    return await client.post(f"{instance.url}/api/v1/auth/token", json={"username": username, "password": password})


async def bearer(client, instance, username) -> dict:
    response = await login(client, instance, username)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
async def pair(tmp_path_factory, database_env, store_env):
    root = tmp_path_factory.mktemp("instances")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")} | database_env | store_env | {
        "DOORSTEP_SECRET": "instances-test-secret-" + "w" * 32,
        "DOORSTEP_LOG_LEVEL": "INFO",
        "DOORSTEP_LOG_FORMAT": "json",
        "DOORSTEP_LOGIN_MAX_FAILURES_USER": "3",
        "DOORSTEP_EXPORT_POLL_SECONDS": "0.2",
        "DOORSTEP_EXPORT_STALE_AFTER_SECONDS": str(STALE_SECONDS),
        # Photos arrive through both: neither may take the other's upload in progress for a leftover.
        "DOORSTEP_TEMP_CLEANUP_AFTER_SECONDS": "3600",
        "PYTHONPATH": str(REPO),
    }
    a, b = (Instance(name, env | {"DOORSTEP_DATA_DIR": str(root / name)}, root / f"{name}.log") for name in "ab")
    # Started at the same moment, as two systemd units are: each migrates first (ExecStartPre), then serves.
    migrating = [subprocess.Popen([sys.executable, "-m", "server.cli", "migrate"], env=i.env, cwd=REPO, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in (a, b)]
    outputs = [p.communicate(timeout=120) for p in migrating]
    assert [p.returncode for p in migrating] == [0, 0], outputs
    a.spawn()
    b.spawn()
    try:
        # The users and the form are made while the instances start.
        seeded, *_ = await asyncio.gather(
            asyncio.to_thread(subprocess.run, [sys.executable, str(REPO / "tests" / "app_helper.py"), "setup"],
                              cwd=REPO, timeout=120, env=env | {"DOORSTEP_DATA_DIR": str(root / "helper")},
                              capture_output=True, text=True),
            a.ready(), b.ready())
        assert seeded.returncode == 0, seeded.stderr
        running = Pair(a, b, [out for out, _ in outputs], json.loads(seeded.stdout)["community"])
        async with httpx.AsyncClient(timeout=30) as client:
            running.worker = await bearer(client, a, "fieldworker")
            running.supervisor = await bearer(client, b, "fieldsupervisor")
        yield running
    finally:
        a.stop()
        b.stop()


async def figures(client, instance: Instance) -> dict:
    response = await client.get(f"{instance.url}/metrics")
    assert response.status_code == 200, response.text
    return {s.name: s.value for family in text_string_to_metric_families(response.text) for s in family.samples
            if not s.labels}


async def test_two_instances_started_at_the_same_moment_migrate_the_database_once(pair):
    assert sorted(pair.migrated) == ["数据库已是最新版本，无需迁移。\n",
                                     f"数据库已迁移到最新版本（本次执行了 {len(MIGRATIONS)} 个迁移）。\n"]


async def test_a_token_from_one_works_on_the_other_and_a_logout_on_one_is_honoured_by_the_other(pair):
    async with httpx.AsyncClient(timeout=30) as client:
        token = await bearer(client, pair.a, "fieldworker")
        me = await client.get(f"{pair.b.url}/api/v1/me", headers=token)
        assert me.status_code == 200 and me.json()["username"] == "fieldworker"
        assert (await client.post(f"{pair.b.url}/api/v1/auth/logout", headers=token)).status_code == 204
        for instance in (pair.a, pair.b):
            assert (await client.get(f"{instance.url}/api/v1/me", headers=token)).status_code == 401
    # Each instance logs the requests it answered, one JSON object a line, under the id its reply carried.
    [line] = [line for line in pair.b.log_lines() if line.get("request_id") == me.headers["x-request-id"]]
    assert (line["method"], line["route"], line["status"]) == ("GET", "/api/v1/me", 200)
    assert not [line for line in pair.a.log_lines() if line.get("request_id") == me.headers["x-request-id"]]


async def test_failed_logins_through_either_instance_count_toward_one_throttle(pair):
    async with httpx.AsyncClient(timeout=30) as client:
        for instance in (pair.a, pair.b, pair.a):
            assert (await login(client, instance, "fieldsupervisor", "wrong password")).status_code == 401
        for instance in (pair.b, pair.a):  # the right password now waits, on both
            refused = await login(client, instance, "fieldsupervisor")
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


async def test_a_photo_uploaded_through_one_is_served_and_its_thumbnail_made_by_the_other(pair):
    data = photo(17)
    sha = sha256_of(data)
    async with httpx.AsyncClient(timeout=30) as client:
        put = await client.put(f"{pair.a.url}/api/v1/attachments/{sha}", content=data,
                               headers=pair.worker | {"Content-Type": "image/jpeg"})
        assert put.status_code == 201, put.text
        await visit(client, pair.a, pair, str(uuid.uuid4()), [sha], 0)  # a photo is seen through its visit
        # Asked at once, before a's background thumbnails (they wait for a quiet moment): b makes them from what a
        # stored (or finds a's, had a been quicker).
        thumb = await client.get(f"{pair.b.url}/api/v1/attachments/{sha}", params={"size": "thumb"},
                                 headers=pair.worker)
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        assert max(Image.open(io.BytesIO(thumb.content)).size) <= 320
        assert (await client.head(f"{pair.b.url}/api/v1/attachments/{sha}", headers=pair.worker)).status_code == 200
        original = await client.get(f"{pair.b.url}/api/v1/attachments/{sha}", headers=pair.worker)
        assert original.status_code == 200 and original.content == data
        again = await client.put(f"{pair.b.url}/api/v1/attachments/{sha}", content=data,
                                 headers=pair.worker | {"Content-Type": "image/jpeg"})
        assert again.status_code == 200  # already stored, whichever instance is asked


async def visit(client, instance: Instance, pair: Pair, household: str, shas: list[str], n: int) -> None:
    """Register the household and send a visit of March with the photos (stored already), through `instance`."""
    registered = await client.put(f"{instance.url}/api/v1/households/{household}", headers=pair.worker,
                                  json={"community": pair.community, "address": f"白竹亭社区 {n} 组", "head": f"户主{n}"})
    assert registered.status_code == 201, registered.text + instance.errors()
    body = {"form": "home_visit", "version": 1, "household": household, "data": home_visit(shas[0], shas),
            "started_at": "2025-03-18T09:30:00+08:00", "finished_at": "2025-03-18T10:10:00+08:00"}
    sent = await client.put(f"{instance.url}/api/v1/submissions/{uuid.uuid4()}", json=body, headers=pair.worker)
    assert sent.status_code == 201, sent.text + instance.errors()


@pytest.fixture(scope="module")
async def visited(pair) -> list[str]:
    """Households registered and visited in March, through both instances in turn, each with two photos (with the
    photo test's household, VISITED in all)."""
    households = []
    async with httpx.AsyncClient(timeout=60) as client:
        for n in range(1, VISITED):
            instance = (pair.a, pair.b)[n % 2]
            photos = [photo(1000 + 10 * n + i) for i in range(2)]
            for data in photos:
                stored = await client.put(f"{instance.url}/api/v1/attachments/{sha256_of(data)}", content=data,
                                          headers=pair.worker | {"Content-Type": "image/jpeg"})
                assert stored.status_code == 201, stored.text + instance.errors()
            households.append(str(uuid.uuid4()))
            await visit(client, instance, pair, households[-1], [sha256_of(p) for p in photos], n)
    return households


async def until(client, instance: Instance, job: str, headers: dict, *states: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        reply = (await client.get(f"{instance.url}/api/v1/exports/{job}", headers=headers)).json()
        if reply["state"] in states:
            return reply
        await asyncio.sleep(0.1)
    raise AssertionError(f"export {job} did not become {states}: {reply}")


async def test_an_export_started_on_one_is_run_by_exactly_one_instance_and_followed_from_either(pair, visited):
    async with httpx.AsyncClient(timeout=60) as client:
        runs_before = [(await figures(client, i))["doorstep_export_runs_total"] for i in (pair.a, pair.b)]
        started = await client.post(f"{pair.a.url}/api/v1/exports", json={"area": pair.community} | MARCH,
                                    headers=pair.supervisor)
        assert started.status_code == 202, started.text
        job = started.json()["id"]
        seen = set()
        deadline = time.monotonic() + 60
        while "done" not in seen and time.monotonic() < deadline:  # followed from both, in turn
            for instance in (pair.b, pair.a):
                seen.add((await client.get(f"{instance.url}/api/v1/exports/{job}", headers=pair.supervisor)
                          ).json()["state"])
            await asyncio.sleep(0.05)
        assert "done" in seen and seen <= {"queued", "running", "done"}
        replies = [(await client.get(f"{i.url}/api/v1/exports/{job}", headers=pair.supervisor)).json()
                   for i in (pair.a, pair.b)]
        assert replies[0] == replies[1] and replies[0]["attempt"] == 1  # claimed once
        assert replies[0]["progress"]["households_done"] == VISITED
        runs_after = [(await figures(client, i))["doorstep_export_runs_total"] for i in (pair.a, pair.b)]
        assert sorted(after - before for after, before in zip(runs_after, runs_before)) == [0, 1]
        files = [(await client.get(f"{i.url}/api/v1/exports/{job}/file", headers=pair.supervisor)).content
                 for i in (pair.a, pair.b)]
    assert files[0] == files[1] and len(files[0]) == replies[0]["size"]
    assert zipfile.ZipFile(io.BytesIO(files[0])).testzip() is None


async def test_killing_the_instance_mid_export_leaves_the_job_restartable_by_the_other(pair, visited):
    async with httpx.AsyncClient(timeout=60) as client:
        started = await client.post(f"{pair.b.url}/api/v1/exports", json={"area": pair.community} | MARCH,
                                    headers=pair.supervisor)
        job = started.json()["id"]
        owner = None
        deadline = time.monotonic() + 30
        while owner is None and time.monotonic() < deadline:
            for instance in (pair.a, pair.b):
                if (await figures(client, instance))["doorstep_export_running"] == 1:
                    owner = instance
        assert owner is not None, "neither instance took the export"
        owner.process.send_signal(signal.SIGKILL)
        owner.process.wait(10)
        other = pair.b if owner is pair.a else pair.a
        at_kill = (await client.get(f"{other.url}/api/v1/exports/{job}", headers=pair.supervisor)).json()
        assert at_kill["state"] == "running" and at_kill["attempt"] == 1, "the kill should land mid-export"
        # The survivor notices the silence once it is older than the stale threshold, and fails the job.
        failed = await until(client, other, job, pair.supervisor, "failed", seconds=STALE_SECONDS * 4)
        assert failed["error"] == DIED
        restarted = await client.post(f"{other.url}/api/v1/exports/{job}/restart", headers=pair.supervisor)
        assert restarted.status_code == 202 and restarted.json()["state"] in ("queued", "running")
        done = await until(client, other, job, pair.supervisor, "done", "failed")
        assert done["state"] == "done" and done["attempt"] == 2
        assert done["progress"]["households_done"] == VISITED
        file = await client.get(f"{other.url}/api/v1/exports/{job}/file", headers=pair.supervisor)
    assert file.status_code == 200 and len(file.content) == done["size"]
    assert zipfile.ZipFile(io.BytesIO(file.content)).testzip() is None


async def test_a_transaction_that_reads_then_writes_survives_another_process_committing_meanwhile(settings,
                                                                                                  clean_database):
    """On SQLite a transaction that read before another process committed could not write after it ("database is
    locked" at once, whatever the busy timeout): the two instances' requests would fail each other. Now the other
    process waits for the transaction (SQLite) or writes beside it (PostgreSQL), and both writes land."""
    from tortoise.transactions import in_transaction

    from server.core.clock import now
    from tortoise.backends.base.config_generator import expand_db_url
    from server.models import LoginFailure

    connection = expand_db_url(settings.resolved_database_url)

    async def elsewhere() -> None:  # another process's connection, not the ORM's
        if ON_POSTGRES:
            other = await asyncpg.connect(DATABASE_URL)
            await other.execute("INSERT INTO login_failure (id, username, address, at) VALUES ($1, 'b', 'x', now())",
                                uuid.uuid4())
            await other.close()
        else:
            def write() -> None:
                other = sqlite3.connect(connection["credentials"]["file_path"], timeout=10, isolation_level=None)
                other.execute("INSERT INTO login_failure (id, username, address, at) VALUES (?, 'b', 'x', ?)",
                              (str(uuid.uuid4()), now().isoformat()))
                other.close()
            await asyncio.to_thread(write)

    async with in_transaction():
        assert await LoginFailure.all().count() == 0  # read first
        meanwhile = asyncio.create_task(elsewhere())
        await asyncio.sleep(0.3)  # long enough for the other to commit, could it
        await LoginFailure.create(username="a", address="x", at=now())  # then write
    await meanwhile
    assert sorted(await LoginFailure.all().values_list("username", flat=True)) == ["a", "b"]
