"""A slow, lossy link between this network namespace (the phone) and a namespace of its own (the server), for
bench/field.py.

With netem in the kernel (`sch_netem`): a veth pair shaped by `tc qdisc … netem` on both ends. Where the kernel has
no netem (this project's build machines: a minimal kernel without sch_netem, and no modules to load), the same link
in user space: a TUN device on each side and a relay thread between them that applies, per direction, the loss
(each packet dropped with that probability), the rate (packets serialised one after the other at that many bits
per second, a queue of QUEUE_BYTES beyond which packets are dropped, as a radio link's buffer) and the delay (each
packet delivered that long after its serialisation). Either way the phone's interface can be taken down and up
(`ip link set … down`), which is how the field bench drops the link.
"""

from __future__ import annotations

import asyncio
import fcntl
import heapq
import os
import random
import select
import struct
import subprocess
import threading
import time
from pathlib import Path

RATE_BITS, DELAY_S, LOSS = 64_000, 0.300, 0.10
NETEM = f"rate {RATE_BITS // 1000}kbit delay {int(DELAY_S * 1000)}ms loss {int(LOSS * 100)}%"
QUEUE_BYTES = 64 * 1024


def sh(*args: str, check: bool = True) -> None:
    subprocess.run(args, check=check, capture_output=True)


def kernel_has_netem() -> bool:
    probe = f"dsfprobe{os.getpid() % 1000}"
    sh("ip", "link", "add", probe, "type", "veth", "peer", "name", probe + "x")
    try:
        return subprocess.run(["tc", "qdisc", "add", "dev", probe, "root", "netem", "delay", "1ms"],
                              capture_output=True).returncode == 0
    finally:
        sh("ip", "link", "del", probe, check=False)


class Link:
    """The namespace and the two interfaces; subclasses make the interfaces and shape them."""

    how = ""

    def __init__(self) -> None:
        n = os.getpid() % 200 + 20
        self.ns, self.phone_if, self.server_if = f"dsfield{os.getpid()}", f"dsf{n}p", f"dsf{n}s"
        self.phone_ip, self.server_ip = f"10.231.{n}.1", f"10.231.{n}.2"

    def __enter__(self) -> "Link":
        sh("ip", "netns", "add", self.ns)
        self.make()
        self.ns_do("ip", "link", "set", "lo", "up")
        return self

    def ns_do(self, *command: str) -> None:
        sh("ip", "netns", "exec", self.ns, *command)

    def make(self) -> None: ...

    def shape(self) -> None: ...

    def up(self) -> bool:
        return int(Path(f"/sys/class/net/{self.phone_if}/flags").read_text(), 16) & 1 == 1

    def counter(self, name: str) -> int:
        return int(Path(f"/sys/class/net/{self.phone_if}/statistics/{name}").read_text())

    async def drop(self, seconds: float, log: list) -> None:
        log.append(time.monotonic())
        sh("ip", "link", "set", self.phone_if, "down")
        await asyncio.sleep(seconds)
        sh("ip", "link", "set", self.phone_if, "up")
        sh("ip", "route", "replace", f"{self.server_ip}/32", "dev", self.phone_if)
        self.shape()

    def __exit__(self, *exc) -> None:
        sh("ip", "netns", "del", self.ns, check=False)  # takes the server's interface with it
        sh("ip", "link", "del", self.phone_if, check=False)


class NetemLink(Link):
    how = f"veth pair, tc netem {NETEM} on both ends"

    def make(self) -> None:
        sh("ip", "link", "add", self.phone_if, "type", "veth", "peer", "name", self.server_if)
        sh("ip", "link", "set", self.server_if, "netns", self.ns)
        sh("ip", "addr", "add", f"{self.phone_ip}/24", "dev", self.phone_if)
        sh("ip", "link", "set", self.phone_if, "up")
        self.ns_do("ip", "addr", "add", f"{self.server_ip}/24", "dev", self.server_if)
        self.ns_do("ip", "link", "set", self.server_if, "up")

    def shape(self) -> None:
        sh("tc", "qdisc", "replace", "dev", self.phone_if, "root", "netem", *NETEM.split())
        self.ns_do("tc", "qdisc", "replace", "dev", self.server_if, "root", "netem", *NETEM.split())


class TunLink(Link):
    how = f"TUN pair and a relay in user space ({NETEM}, queue {QUEUE_BYTES // 1024} KB, each direction)"

    def make(self) -> None:
        self.phone_fd, self.server_fd = _tun(self.phone_if), _tun(self.server_if)
        sh("ip", "link", "set", self.server_if, "netns", self.ns)
        sh("ip", "addr", "add", self.phone_ip, "peer", self.server_ip, "dev", self.phone_if)
        sh("ip", "link", "set", self.phone_if, "up")
        self.ns_do("ip", "addr", "add", self.server_ip, "peer", self.phone_ip, "dev", self.server_if)
        self.ns_do("ip", "link", "set", self.server_if, "up")
        self.shaping = False  # until shape(): the server is started and checked over a plain link
        self.stopping = False
        self.relay = threading.Thread(target=self._relay, daemon=True)
        self.relay.start()

    def shape(self) -> None:
        self.shaping = True

    def _relay(self) -> None:
        rng = random.Random(17)
        pending: list[tuple[float, int, int, bytes]] = []  # (deliver at, order, to fd, packet)
        free_at = {self.phone_fd: 0.0, self.server_fd: 0.0}  # when each direction's serialiser is free
        other = {self.phone_fd: self.server_fd, self.server_fd: self.phone_fd}
        order = 0
        while not self.stopping:
            wait = max(0.0, min(0.05, pending[0][0] - time.monotonic())) if pending else 0.05
            readable, _, _ = select.select([self.phone_fd, self.server_fd], [], [], wait)
            for fd in readable:
                try:
                    packet = os.read(fd, 65535)
                except OSError:
                    continue
                now = time.monotonic()
                if not self.shaping:
                    heapq.heappush(pending, (now, order := order + 1, other[fd], packet))
                    continue
                queued = max(0.0, free_at[fd] - now) * RATE_BITS / 8
                if rng.random() < LOSS or queued > QUEUE_BYTES:
                    continue
                free_at[fd] = max(now, free_at[fd]) + len(packet) * 8 / RATE_BITS
                heapq.heappush(pending, (free_at[fd] + DELAY_S, order := order + 1, other[fd], packet))
            now = time.monotonic()
            while pending and pending[0][0] <= now:
                _, _, to, packet = heapq.heappop(pending)
                try:
                    os.write(to, packet)
                except OSError:
                    pass  # the interface is down: the packet is lost

    def __exit__(self, *exc) -> None:
        self.stopping = True
        self.relay.join(2)
        super().__exit__(*exc)
        for fd in (self.phone_fd, self.server_fd):
            os.close(fd)


def _tun(name: str) -> int:
    tunsetiff, iff_tun, iff_no_pi = 0x400454CA, 0x0001, 0x1000
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, tunsetiff, struct.pack("16sH", name.encode(), iff_tun | iff_no_pi))
    return fd


def make_link() -> Link:
    return NetemLink() if kernel_has_netem() else TunLink()
