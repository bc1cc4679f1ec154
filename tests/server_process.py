"""`doorstep serve` in a process of its own on a free port: how the tests (the crash test, limits, the browser tests,
two instances, the restore drill) and the benchmarks (bench/_instances.py) start the server, wait for it and stop it.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """One `doorstep serve`. `prefix` runs it inside something (`ip netns exec NAME`); `log` takes its stderr."""

    def __init__(self, env: dict[str, str], host: str = "127.0.0.1", port: int | None = None,
                 prefix: tuple[str, ...] = (), log: Path | None = None) -> None:
        self.env, self.host, self.port, self.prefix, self.log = env, host, port or free_port(), prefix, log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def spawn(self) -> None:
        """Start the process and return at once (`ready` waits for it)."""
        argv = [*self.prefix, sys.executable, "-m", "server.cli", "serve", "--host", self.host, "--port", str(self.port)]
        if self.log is None:
            self.process = subprocess.Popen(argv, env=self.env, cwd=REPO, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
            return
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(argv, env=self.env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log)

    async def ready(self, timeout: float = 60) -> None:
        """Until `/readyz` answers 200 (the database and the photo store reached); fails if the process ends."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"doorstep serve 退出了（{self.process.returncode}）{self._log_tail()}")
                try:
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"doorstep serve 没有按时就绪{self._log_tail()}")

    async def start(self, timeout: float = 60) -> None:
        self.spawn()
        await self.ready(timeout)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def _log_tail(self) -> str:
        return f"\n{self.log.read_text(errors='replace')[-3000:]}" if self.log and self.log.exists() else ""
