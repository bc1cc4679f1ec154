"""The structure walk that stands in for decoding at upload: every whole photo passes, every cut one is caught."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from media.structure import is_whole
from photo_factories import GPS_PHOTO, GPS_PHOTOS, ORIENTATION_PHOTOS


def encoded(fmt: str, **save_args: object) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((300, 200), 60).convert("RGB").save(out, fmt, **save_args)
    return out.getvalue()


# Made when a test first asks, not at import: the camera photo is a file in ../shared.
SAMPLES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "camera-jpeg": ("image/jpeg", GPS_PHOTO.read_bytes),
    "progressive-jpeg": ("image/jpeg", lambda: encoded("JPEG", progressive=True)),
    "jpeg-with-restarts": ("image/jpeg", lambda: encoded("JPEG", restart_marker_blocks=4)),
    "png": ("image/png", lambda: encoded("PNG")),
    "webp": ("image/webp", lambda: encoded("WEBP")),
    "heic": ("image/heic", lambda: encoded("HEIF")),
}


@functools.cache
def sample(name: str) -> tuple[str, bytes]:
    """One sample's type and bytes, made once: every cut of it is cut from the same file."""
    media_type, make = SAMPLES[name]
    return media_type, make()


def whole(tmp_path: Path, media_type: str, data: bytes) -> bool:
    path = tmp_path / "photo"
    path.write_bytes(data)
    with open(path, "rb") as f:
        return is_whole(f, media_type)


@pytest.mark.parametrize("name", SAMPLES)
def test_a_whole_file_is_whole(tmp_path: Path, name: str) -> None:
    media_type, data = sample(name)
    assert whole(tmp_path, media_type, data)


@pytest.mark.parametrize("path", GPS_PHOTOS + ORIENTATION_PHOTOS, ids=lambda p: p.name)
def test_every_real_camera_photo_is_whole(tmp_path: Path, path: Path) -> None:
    assert whole(tmp_path, "image/jpeg", path.read_bytes())


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.parametrize("kept", [0.999, 0.9, 0.5, 0.1])
def test_a_file_cut_short_anywhere_is_caught(tmp_path: Path, name: str, kept: float) -> None:
    media_type, data = sample(name)
    assert not whole(tmp_path, media_type, data[: int(len(data) * kept)])


@pytest.mark.parametrize("name", SAMPLES)
def test_a_file_missing_only_its_last_two_bytes_is_caught(tmp_path: Path, name: str) -> None:
    media_type, data = sample(name)
    assert not whole(tmp_path, media_type, data[:-2])


def test_a_jpeg_cut_after_its_embedded_exif_thumbnail_is_caught(tmp_path: Path) -> None:
    # The EXIF segment holds a small JPEG with a scan and an end marker of its own: neither is the photo's.
    data = GPS_PHOTO.read_bytes()
    exif_end = 4 + int.from_bytes(data[4:6], "big")
    assert data[2:4] == b"\xff\xe1" and data.index(b"\xff\xda") < data.index(b"\xff\xd9") < exif_end
    for cut in (data.index(b"\xff\xd9") + 2, exif_end, data.index(b"\xff\xda", exif_end) + 100):
        assert not whole(tmp_path, "image/jpeg", data[:cut])


def test_a_motion_photo_with_video_after_the_picture_is_whole(tmp_path: Path) -> None:
    data = GPS_PHOTO.read_bytes() + b"\x00\x00\x00\x18ftypmp42" + bytes(5000)
    assert whole(tmp_path, "image/jpeg", data)


@pytest.mark.parametrize(
    "media_type, data",
    [
        ("image/jpeg", b"\xff\xd8\xff\xd9"),  # an end with no picture
        ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x01" + bytes(100)),  # a segment length under its own size
        ("image/jpeg", b"\xff\xd8" + bytes(100)),  # no marker at all after the start
        ("image/png", b"\x89PNG\r\n\x1a\n"),
        ("image/webp", b"RIFF\xff\xff\x00\x00WEBPVP8 "),
        ("image/heic", b"\x00\x00\x00\x04ftyp"),  # a box smaller than its header
        ("image/heic", b"\x00\x00\x00\x01ftypheic"),  # a 64-bit size that is not there
        ("image/jpeg", b""),
        ("image/jpeg", b"\xff\xd8" + bytes(3_000_000)),  # megabytes of nothing are skipped quickly, then refused
    ],
    ids=["jpeg-eoi-only", "jpeg-bad-length", "jpeg-no-marker", "png-signature-only", "webp-short", "heic-tiny-box",
         "heic-missing-large-size", "empty", "jpeg-megabytes-of-zeros"],
)
def test_malformed_structures_are_not_whole(tmp_path: Path, media_type: str, data: bytes) -> None:
    assert not whole(tmp_path, media_type, data)


def test_stray_bytes_between_segments_are_skipped_as_decoders_skip_them(tmp_path: Path) -> None:
    data = GPS_PHOTO.read_bytes()
    exif_end = 4 + int.from_bytes(data[4:6], "big")
    assert whole(tmp_path, "image/jpeg", data[:exif_end] + b"\x00\x17\x2a" + data[exif_end:])
