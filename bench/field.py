"""One visit from the field over a 2G link: five photos (3 MB each by default) and the submission, sent the field
app's way, through a network namespace whose link is shaped by netem and dropped twice.

The server (`doorstep serve`, SQLite: the database plays no part at 64 kbit/s) runs in a namespace of its own,
joined to this one by a veth pair shaped by `tc netem rate 64kbit delay 300ms loss 10%` in both directions, or,
on a kernel without netem, by the same link emulated in user space (bench/_link.py). The phone
here sends as server/http/static/app/outbox.js does: for each photo HEAD first and PUT only when the server lacks
it, the whole photo (the API has no partial upload), then the submission; when the link goes down the request in
flight is abandoned (as a browser does on a network change), and the outbox starts again from HEAD once it is up.
The link is dropped (`ip link set … down`, `--down` seconds, then up) when 30 % and 70 % of the photo bytes have
been handed to the network, so each drop lands inside an upload.

Printed: the bytes of the visit against the photo bytes handed to the network (the re-sent ones should be those of
the interrupted uploads only: no acknowledged photo sent again), the bytes on the phone's interface (headers, TCP
and its retransmissions included), and the time to the last acknowledgement. At 64 kbit/s a visit of 15 MB takes
over half an hour: `--photo-mb 0.3` gives figures in minutes; the time grows about linearly with the bytes.

Run as root (namespaces): .venv/bin/python bench/field.py [--photo-mb 3] [--photos 5] [--down 10] [--store local|s3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import socket
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import httpx  # noqa: E402

from _database import throwaway  # noqa: E402
from _instances import STORES, Instance, server_env, shared_store  # noqa: E402
from _link import Link, make_link  # noqa: E402
from _photos import base_photo, variant  # noqa: E402

SECRET = "bench-field-secret-" + "f" * 32
CHUNK = 8 * 1024
DROPS_AT = (0.3, 0.7)


class Phone:
    def __init__(self, link: Link, base: str, headers: dict, photo_total: int, down: float) -> None:
        self.link, self.base, self.headers, self.down = link, base, headers, down
        self.photo_total, self.handed = photo_total, 0  # photo bytes handed to the network, every attempt
        self.attempts: list[dict] = []
        self.thresholds = [int(f * photo_total) for f in DROPS_AT]
        self.drops: list[float] = []
        self.drop_tasks: list[asyncio.Task] = []
        self.head_200 = 0

    def client(self) -> httpx.AsyncClient:
        # A phone's stack does not queue megabytes ahead of a 64 kbit/s link: a small send buffer keeps "handed to
        # the network" close to what went out.
        transport = httpx.AsyncHTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)])
        return httpx.AsyncClient(transport=transport, headers=self.headers, base_url=self.base,
                                 timeout=httpx.Timeout(300, connect=30))

    async def body(self, data: bytes, attempt: dict):
        for start in range(0, len(data), CHUNK):
            chunk = data[start:start + CHUNK]
            yield chunk
            attempt["sent"] += len(chunk)
            self.handed += len(chunk)
            while self.thresholds and self.handed >= self.thresholds[0]:
                self.thresholds.pop(0)
                self.drop_tasks.append(asyncio.create_task(self.link.drop(self.down, self.drops)))

    async def until_up(self) -> None:
        while not self.link.up():
            await asyncio.sleep(0.1)

    async def guarded(self, make, attempt: dict | None = None) -> httpx.Response | None:
        """Run one request; None if the link went down under it (abandoned, as a browser does) or the connection
        failed (`attempt` records which)."""
        await self.until_up()
        request = asyncio.create_task(make())
        while not request.done():
            if not self.link.up():
                request.cancel()
                await asyncio.gather(request, return_exceptions=True)
                if attempt is not None:
                    attempt["ended"] = "link down"
                return None
            await asyncio.wait({request}, timeout=0.1)
        try:
            return request.result()
        except httpx.TransportError as exc:
            if attempt is not None:
                attempt["ended"] = f"{type(exc).__name__}: {exc}"
            return None

    async def send_visit(self, photos: dict[str, bytes], submission: dict) -> float:
        started = time.monotonic()
        outbox = [("photo", sha) for sha in photos] + [("submission", str(uuid.uuid4()))]
        while outbox:
            kind, key = outbox[0]
            async with self.client() as client:
                if kind == "photo":
                    done = await self.send_photo(client, key, photos[key])
                else:
                    reply = await self.guarded(lambda: client.put(f"/api/v1/submissions/{key}", json=submission))
                    done = reply is not None and reply.status_code in (200, 201)
                    assert reply is None or done, reply.text
            if done:
                outbox.pop(0)
            else:
                await asyncio.sleep(1)  # the app tries again when the network is back (and every 5 s)
        return time.monotonic() - started

    async def send_photo(self, client, sha: str, data: bytes) -> bool:
        head = await self.guarded(lambda: client.head(f"/api/v1/attachments/{sha}"))
        if head is None:
            return False
        if head.status_code == 200:
            self.head_200 += 1
            return True
        attempt = {"sha": sha, "sent": 0, "size": len(data), "done": False}
        self.attempts.append(attempt)
        reply = await self.guarded(lambda: client.put(
            f"/api/v1/attachments/{sha}", content=self.body(data, attempt),
            headers={"Content-Type": "image/jpeg", "Content-Length": str(len(data))}), attempt)
        if reply is None:
            return False
        assert reply.status_code in (200, 201), reply.text
        attempt["done"] = True
        return True


async def seed() -> tuple[dict, str]:
    from factories import headers_for, make_district, make_form_version, make_household, make_user
    from server.settings import load_settings

    district = await make_district()
    await make_form_version("home_visit")
    household = await make_household(district.east_a)
    worker = await make_user("worker", district.east_a)
    return await headers_for(load_settings({}, secret=SECRET), worker), str(household.id)


async def main(args) -> None:
    from factories import home_visit

    base = base_photo(int(args.photo_mb * 1_000_000))
    photos = {hashlib.sha256(p).hexdigest(): p for p in (variant(base, f"field {i}") for i in range(args.photos))}
    photo_total = sum(map(len, photos.values()))
    async with throwaway("sqlite", SECRET) as database:
        headers, household = await seed()
        shas = list(photos)
        submission = {"form": "home_visit", "version": 1, "household": household, "data": home_visit(shas[0], shas),
                      "started_at": "2025-03-18T09:30:00+08:00", "finished_at": "2025-03-18T10:10:00+08:00"}
        submission_bytes = len(httpx.Request("PUT", "http://x", json=submission).content)
        with shared_store(args.store, database.folder) as store, make_link() as link:
            env = server_env("", database.folder, store, SECRET)
            server = Instance(env, host=link.server_ip, port=8080, prefix=("ip", "netns", "exec", link.ns))
            try:
                await server.start()
                link.shape()
                phone = Phone(link, server.url, headers, photo_total, args.down)
                tx, rx = link.counter("tx_bytes"), link.counter("rx_bytes")
                print(f"link: {link.how}; dropped for {args.down:.0f} s at "
                      f"{' and '.join(f'{f:.0%}' for f in DROPS_AT)} of the photo bytes")
                took = await phone.send_visit(photos, submission)
                tx, rx = link.counter("tx_bytes") - tx, link.counter("rx_bytes") - rx
                await asyncio.gather(*phone.drop_tasks)
            finally:
                server.stop()
    report(args, phone, photo_total, submission_bytes, took, tx, rx)


def report(args, phone: Phone, photo_total: int, submission_bytes: int, took: float, tx: int, rx: int) -> None:
    interrupted = [a for a in phone.attempts if not a["done"] and a["sent"]]  # not those cut before a byte went
    resent = phone.handed - photo_total
    completed_twice = len([a for a in phone.attempts if a["done"]]) - args.photos
    visit = photo_total + submission_bytes
    print(f"visit: {args.photos} photos of {args.photo_mb} MB = {photo_total} bytes, "
          f"submission {submission_bytes} bytes")
    print(f"photo bytes handed to the network: {phone.handed} = the photos + {resent} re-sent "
          f"({resent / photo_total:.1%}); link drops: {len(phone.drops)}; interrupted uploads: {len(interrupted)} "
          f"carrying {sum(a['sent'] for a in interrupted)} bytes; photos sent whole more than once: {completed_twice}; "
          f"HEAD answered 200 (not sent again): {phone.head_200}")
    for a in interrupted:
        print(f"  interrupted: photo {a['sha'][:8]}, {a['sent']} of {a['size']} bytes handed over, {a.get('ended')}")
    verdict = "met" if resent <= sum(a["sent"] for a in interrupted) and completed_twice == 0 \
        and len(interrupted) <= len(phone.drops) else "NOT met"
    print(f"goal (no photo byte sent twice beyond the interrupted upload of each drop): {verdict}")
    print(f"phone's interface: sent {tx} bytes ({tx / visit:.2f} x the visit: HTTP headers, TCP/IP, retransmissions "
          f"over 10 % loss, the interrupted uploads), received {rx} bytes")
    full = args.photos * 3_000_000 + submission_bytes
    print(f"time to the last acknowledgement: {took:.0f} s ({took / 60:.1f} min) for {visit / 1e6:.2f} MB "
          f"({visit / took / 1000:.1f} KB/s); at 64 kbit/s the bytes alone take {visit * 8 / 64000:.0f} s. "
          f"Time grows with the bytes: {args.photos} photos of 3 MB ({full / 1e6:.0f} MB) would take about "
          f"{took * full / visit / 60:.0f} min")


def parse(argv: list[str]):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photo-mb", type=float, default=3.0)
    parser.add_argument("--photos", type=int, default=5)
    parser.add_argument("--down", type=float, default=10.0, help="seconds the link stays down at each drop")
    parser.add_argument("--store", choices=STORES, default="local")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
