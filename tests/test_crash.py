"""The crash test: a real server process is killed (SIGKILL) while uploads and submissions are in flight; after a
restart the phones retry everything. Every acknowledged photo and submission must be there exactly once, every
file must match its hash, no row may point to a missing file, and no temporary file may be left."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from PIL import Image

from factories import home_visit
from server_process import REPO, ServerProcess

DATABASE_URL = os.environ.get("DOORSTEP_TEST_DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))

CLIENTS = 24  # phones sending at once
VISITS_PER_CLIENT = 3
PHOTOS_PER_VISIT = 2


def photo(seed: int) -> bytes:
    """A phone-like photo of a few hundred KB, different for every seed."""
    rng = random.Random(seed)
    image = Image.effect_noise((480, 360), 30 + rng.randint(0, 40)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


class Server(ServerProcess):
    def helper(self, command: str) -> dict | None:
        done = subprocess.run([sys.executable, str(REPO / "tests" / "crash_helper.py"), command], env=self.env,
                              cwd=REPO, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None


def work_of(client_no: int, community: str) -> list[tuple]:
    """One phone's queue: register its household, then per visit upload the photos and send the submission."""
    household = str(uuid.uuid4())
    ops: list[tuple] = [("household", household, {"community": community, "address": f"{client_no} 号",
                                                  "head": f"户主{client_no}"})]
    for visit in range(VISITS_PER_CLIENT):
        photos = [photo(client_no * 100 + visit * 10 + i) for i in range(PHOTOS_PER_VISIT)]
        shas = [hashlib.sha256(p).hexdigest() for p in photos]
        ops += [("photo", sha, data) for sha, data in zip(shas, photos)]
        body = {"form": "home_visit", "version": 1, "household": household, "data": home_visit(shas[0], shas),
                "started_at": "2025-03-18T09:30:00+08:00", "finished_at": "2025-03-18T10:10:00+08:00"}
        ops.append(("submission", str(uuid.uuid4()), body))
    return ops


async def send(client: httpx.AsyncClient, base: str, headers: dict, op: tuple) -> httpx.Response:
    kind, key, payload = op
    if kind == "photo":
        return await client.put(f"{base}/api/v1/attachments/{key}", content=payload,
                                headers=headers | {"Content-Type": "image/jpeg"})
    path = "households" if kind == "household" else "submissions"
    return await client.put(f"{base}/api/v1/{path}/{key}", json=payload, headers=headers)


async def phone(base: str, headers: dict, ops: list[tuple], acked: dict, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        for op in ops:
            if stop.is_set():
                return
            try:
                response = await send(client, base, headers, op)
            except httpx.TransportError:
                return  # the server died under us: this phone retries later
            assert response.status_code in (200, 201), response.text
            acked[(op[0], op[1])] = (response.status_code, response.json())


@pytest.mark.parametrize("backend", ["postgres" if ON_POSTGRES else "sqlite"])
async def test_a_killed_server_loses_nothing_it_acknowledged_and_stores_everything_once(
        tmp_path, clean_database, backend):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")} | {
        "DOORSTEP_DATA_DIR": str(tmp_path / "data"),
        "DOORSTEP_DATABASE_URL": DATABASE_URL if backend == "postgres" else "",
        "DOORSTEP_SECRET": "crash-test-secret-" + "y" * 32,
        "DOORSTEP_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }
    server = Server(env)
    ready = server.helper("setup")
    headers = {"Authorization": ready["authorization"]}
    queues = [work_of(n, ready["community"]) for n in range(CLIENTS)]
    acked: dict = {}
    try:
        await server.start()
        stop = asyncio.Event()
        phones = [asyncio.create_task(phone(server.url, headers, q, acked, stop)) for q in queues]
        # Kill once a good part of the work is acknowledged, while the rest is in flight.
        total = sum(len(q) for q in queues)
        deadline = time.monotonic() + 30
        while len(acked) < total // 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        server.kill()
        stop.set()
        await asyncio.gather(*phones)
        assert 0 < len(acked) < total, "the kill should land mid-traffic"
        first_answers = dict(acked)

        # Restart: temporary files of the killed uploads are removed; then every phone retries everything.
        await server.start()
        media = tmp_path / "data" / "media"
        assert list((media / "tmp").iterdir()) == []
        retried: dict = {}
        await asyncio.gather(*(phone(server.url, headers, q, retried, asyncio.Event()) for q in queues))
        assert len(retried) == total
        for key, (_, answer) in first_answers.items():
            # What was acknowledged is there: the retry is answered 200, with the same answer (a household's
            # situation moves on with its visits, so only its id is compared).
            status, again = retried[key]
            assert status == 200, key
            assert again == answer if key[0] != "household" else again["id"] == answer["id"], key
        async with httpx.AsyncClient() as client:
            for kind, key, _ in (op for q in queues for op in q if op[0] == "photo"):
                assert (await client.head(f"{server.url}/api/v1/attachments/{key}", headers=headers)).status_code == 200
    finally:
        server.stop()

    held = server.helper("verify")
    submissions = sorted(op[1] for q in queues for op in q if op[0] == "submission")
    photos = sorted({op[1] for q in queues for op in q if op[0] == "photo"})
    assert held["submissions"] == submissions  # each exactly once
    assert held["visits"] == len(submissions)
    assert held["households"] == sorted(q[0][1] for q in queues)
    assert held["attachments"] == photos
    # Every file matches its hash, every row's file is there, no temporary file is left.
    files = {p.name: p for p in (media / "originals").rglob("*") if p.is_file()}
    for name, path in files.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == name
    assert set(held["attachments"]) <= set(files) and set(held["links"]) <= set(files)
    assert list((media / "tmp").iterdir()) == []


async def test_a_real_server_refuses_a_body_past_the_limit_at_once_and_closes_the_connection(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")} | {
        "DOORSTEP_DATA_DIR": str(tmp_path / "data"),
        "DOORSTEP_SECRET": "crash-test-secret-" + "y" * 32,
        "DOORSTEP_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }
    server = Server(env)
    ready = server.helper("setup")
    head = (f"PUT /api/v1/attachments/{'a' * 64} HTTP/1.1\r\nHost: t\r\nAuthorization: {ready['authorization']}\r\n"
            "Content-Type: image/jpeg\r\n")
    try:
        await server.start()
        for framing in (f"Content-Length: {100 * 1024 * 1024}\r\n\r\n", "Transfer-Encoding: chunked\r\n\r\n"):
            chunked = framing.startswith("Transfer")
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sent = 0
            try:
                sock.sendall(head.encode() + framing.encode())
                piece = b"\xff" * (1024 * 1024)
                while sent < 100 * 1024 * 1024:  # a phone that keeps sending until the server stops it
                    sock.sendall((b"100000\r\n" + piece + b"\r\n") if chunked else piece)
                    sent += len(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass
            reply = b""
            try:
                while chunk := sock.recv(65536):
                    reply += chunk
            except ConnectionResetError:
                pass
            sock.close()
            assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
            assert b"connection: close" in reply.lower()
            assert sent < 100 * 1024 * 1024, "the server read the whole body instead of refusing it"
    finally:
        server.stop()
    assert list((tmp_path / "data" / "media" / "tmp").iterdir()) == []
