"""Plumbing for the photo layer's tests: stores to run against, the shared camera photos, images made on the fly."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from media.store import LocalPhotoStore, PhotoStore
from photo_factories import GPS_PHOTO


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> PhotoStore:
    """Every PhotoStore implementation runs the same contract suite: the local disk, and a real S3 server
    (SeaweedFS, tests/s3_server.py) under a key prefix of this test's own."""
    if request.param == "s3":
        return request.getfixturevalue("s3_server").store(tmp_path / "s3-temp")
    return LocalPhotoStore(tmp_path / "photos")


@pytest.fixture
def local_store(tmp_path: Path) -> LocalPhotoStore:
    return LocalPhotoStore(tmp_path / "photos")


@pytest.fixture(scope="session")
def big_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-megapixel JPEG (4000x3000) with detail in it, like a phone's photo."""
    path = tmp_path_factory.mktemp("big") / "12mp.jpg"
    noise = Image.effect_noise((4000, 3000), 40)
    gradient = Image.linear_gradient("L").resize((4000, 3000))
    Image.merge("RGB", (noise, gradient, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT))).save(path, quality=90)
    return path


@pytest.fixture(scope="session")
def camera_photo() -> bytes:
    """The bytes of a real camera photo with a position and a capture time, read when a test first asks for them."""
    return GPS_PHOTO.read_bytes()
