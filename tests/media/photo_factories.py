"""Small builders shared by the photo layer's tests: hashes, request-like bodies, images made on the fly."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

from PIL import Image

from media.store import PhotoStore

# The repo is cloned with ../shared beside it, in CI as here. The photos are named rather than listed from the
# folder: nothing is read while tests are collected, so a missing folder fails each test that needs it instead of
# quietly collecting none (test_images checks these names against the folder).
PHOTOS = Path(__file__).parents[2].parent / "shared" / "photos"
GPS_PHOTOS = [PHOTOS / "gps" / f"DSCN00{n}.jpg" for n in (10, 12, 21, 25, 27, 29, 38, 40, 42)]
GPS_PHOTO = PHOTOS / "gps" / "DSCN0010.jpg"  # 43°28'2.814" N, 11°53'6.456" E, 2008-10-22 16:28:39
ORIENTATION_PHOTOS = [PHOTOS / "orientation" / f"{scene}_{n}.jpg" for scene in ("landscape", "portrait")
                      for n in range(1, 9)]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def chunks_of(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """What a request body looks like to the photo layer: the bytes in network-sized pieces."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


def write_temp(store: PhotoStore, data: bytes) -> str:
    """A finished upload in the store's temp folder, as `put` expects it."""
    fd, path = store.make_temp()
    with open(fd, "wb") as f:
        f.write(data)
    return path


def temp_files(store: PhotoStore) -> list[str]:
    return sorted(p.name for p in store.temp_dir.iterdir()) if store.temp_dir.exists() else []


def jpeg_bytes(size: tuple[int, int] = (64, 48), **save_args: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", **save_args)
    return out.getvalue()


def png_of_zeros(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of any size, written chunk by chunk: its rows of zeros compress about 1000 to 1,
    so a picture of billions of pixels weighs a few kilobytes, as in a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then 8 pixels a byte
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
