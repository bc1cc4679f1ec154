"""Photos from the field by content: checked, stored once, answered 200 on a retry, refused with a reason otherwise."""

import dataclasses
import io
import struct
import zlib

import httpx
import pytest
from PIL import Image

from factories import (GPS_PHOTO, GPS_PHOTO_PLACE, assert_problem, headers_for, jpeg, make_district, make_user,
                       sha256_of, upload)
from server.app import create_app
from server.models import Attachment


@pytest.fixture
def app_settings(either_store_settings, tmp_path):
    """Each test on the local store and on S3, with a photo folder (or key prefix) of its own: the session's holds
    what earlier tests sent, so there a first upload would find its photo already stored, and leftovers could be
    anyone's."""
    return dataclasses.replace(either_store_settings, media_dir=tmp_path / "media")


@pytest.fixture
async def worker_headers(settings):
    district = await make_district()
    return await headers_for(settings, await make_user("worker", district.east_a))


async def nothing_stored(app, sha256: str) -> bool:
    store = app.state.photos
    leftovers = list(store.temp_dir.glob("upload-*"))  # not thumbnails of other photos being written meanwhile
    return not await Attachment.exists(sha256=sha256) and not await store.exists(sha256) and not leftovers


def png_of_zeros(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of any size whose rows of zeros compress about 1000 to 1, as in a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def with_garbage_exif(data: bytes) -> bytes:
    payload = b"Exif\x00\x00" + bytes(range(100))
    return data[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:]


async def test_a_camera_photo_is_stored_with_its_evidence_and_a_retry_answers_200(client, app, worker_headers):
    data = GPS_PHOTO.read_bytes()
    sha = sha256_of(data)
    assert (await client.head(f"/api/v1/attachments/{sha}", headers=worker_headers)).status_code == 404
    assert not await app.state.photos.exists(sha)
    first = await upload(client, worker_headers, data)
    assert first.status_code == 201, first.text
    assert await app.state.photos.exists(sha)
    body = first.json()
    assert body["id"] == body["sha256"] == sha and body["media_type"] == "image/jpeg"
    assert body["location"]["lat"] == pytest.approx(GPS_PHOTO_PLACE[0], abs=1e-5)
    assert body["location"]["lon"] == pytest.approx(GPS_PHOTO_PLACE[1], abs=1e-5)
    # Written without an offset by the camera, read in the stations' time zone.
    assert body["taken_at"] == "2008-10-22T08:28:39+00:00"
    stored_at = (await app.state.photos.stored_at(sha))
    again = await upload(client, worker_headers, data)
    assert again.status_code == 200 and again.json() == body
    assert await app.state.photos.stored_at(sha) == stored_at  # not rewritten
    assert await Attachment.filter(sha256=sha).count() == 1
    head = await client.head(f"/api/v1/attachments/{sha}", headers=worker_headers)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))


async def test_a_new_photo_answers_201_and_head_tells_the_phone_it_is_there(client, app, worker_headers):
    data = jpeg()
    sha = sha256_of(data)
    assert_problem(await client.get(f"/api/v1/attachments/{sha}", headers=worker_headers), 404)
    assert (await client.head(f"/api/v1/attachments/{sha}", headers=worker_headers)).status_code == 404
    response = await upload(client, worker_headers, data)
    assert response.status_code == 201
    assert response.json()["taken_at"] is None and response.json()["location"] is None
    assert (await client.head(f"/api/v1/attachments/{sha}", headers=worker_headers)).status_code == 200
    await app.state.thumbnails.settle()  # made after the answer, in the background
    assert await app.state.photos.exists_derived(sha, "thumb") and await app.state.photos.exists_derived(sha, "large")


async def test_a_photo_stored_but_never_recorded_is_sent_again_and_recorded(client, app, worker_headers):
    # What a crash between the file and its row leaves: HEAD says "not there", the retry records it.
    data = jpeg()
    sha = sha256_of(data)
    fd, path = app.state.photos.make_temp()
    with open(fd, "wb") as f:
        f.write(data)
    assert await app.state.photos.put(sha, path)
    assert (await client.head(f"/api/v1/attachments/{sha}", headers=worker_headers)).status_code == 404
    assert (await upload(client, worker_headers, data)).status_code == 201
    assert await Attachment.exists(sha256=sha)


async def test_garbage_exif_is_tolerated_as_a_photo_without_evidence(client, worker_headers):
    response = await upload(client, worker_headers, with_garbage_exif(jpeg()))
    assert response.status_code == 201, response.text
    assert response.json()["taken_at"] is None and response.json()["location"] is None


def _truncated() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((256, 256), 50).convert("RGB").save(out, "JPEG")
    return out.getvalue()[:-2000]


BAD_UPLOADS = {
    # name: (bytes, content type, name override, status, pointer)
    "wrong hash": (jpeg(), "image/jpeg", sha256_of(b"something else"), 422, "/sha256"),
    "zero bytes": (b"", "image/jpeg", None, 422, ""),
    "truncated jpeg": (_truncated(), "image/jpeg", None, 422, ""),
    "text named jpg": (b"these are not the pixels you are looking for\n" * 20, "image/jpeg", None, 422, ""),
    "png bomb": (png_of_zeros(20_000, 20_000), "image/png", None, 422, ""),
    "huge dimensions": (png_of_zeros(8_000, 7_000), "image/png", None, 422, ""),
    "content type that lies": (jpeg(), "image/png", None, 422, ""),
    "name not 64 hex": (jpeg(), "image/jpeg", "../../etc/passwd", None, None),
    "short name": (jpeg(), "image/jpeg", "abc123", 422, "/sha256"),
    "unsupported type": (jpeg(), "image/gif", None, 415, None),
    "no type": (jpeg(), "", None, 415, None),
}


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
async def test_bad_uploads_are_refused_and_leave_nothing_behind(client, app, worker_headers, case):
    data, content_type, name, status, pointer = BAD_UPLOADS[case]
    response = await client.put(f"/api/v1/attachments/{name or sha256_of(data)}", content=data,
                                headers=worker_headers | {"Content-Type": content_type})
    if status is None:  # a name with slashes never reaches the route
        assert_problem(response, 404)
    else:
        assert_problem(response, status, *([pointer] if pointer is not None else []))
        assert "/" + "tmp" not in response.text and str(app.state.photos.temp_dir) not in response.text
    assert await nothing_stored(app, name if name and len(name) == 64 else sha256_of(data))


async def test_a_body_past_the_limit_is_refused_with_413_and_the_connection_closed(settings, app_settings,
                                                                                   clean_database):
    app = create_app(dataclasses.replace(app_settings, max_photo_bytes=50_000), manage_database=False)
    district = await make_district()
    headers = await headers_for(settings, await make_user("worker", district.east_a))
    data = Image.effect_noise((400, 400), 80).convert("RGB").tobytes()[:200_000]
    sha = sha256_of(data)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        declared = await client.put(f"/api/v1/attachments/{sha}", content=data,
                                    headers=headers | {"Content-Type": "image/jpeg"})
        assert_problem(declared, 413)
        assert declared.headers["connection"] == "close"

        sent = 0

        async def chunks():  # no Content-Length: refused while reading, the rest never read
            nonlocal sent
            for i in range(0, len(data), 10_000):
                sent += 1
                yield data[i:i + 10_000]

        streamed = await client.put(f"/api/v1/attachments/{sha}", content=chunks(),
                                    headers=headers | {"Content-Type": "image/jpeg"})
        assert_problem(streamed, 413)
    assert sent < len(data) // 10_000
    assert await nothing_stored(app, sha)


async def test_bureau_may_not_upload_photos(client, settings):
    district = await make_district()
    headers = await headers_for(settings, await make_user("bureau", district.county))
    assert_problem(await upload(client, headers, jpeg()), 403)


async def test_a_photo_no_submission_uses_is_not_served_even_to_its_uploader(client, worker_headers):
    data = jpeg()
    await upload(client, worker_headers, data)
    for size in ("", "?size=thumb"):
        assert_problem(await client.get(f"/api/v1/attachments/{sha256_of(data)}{size}", headers=worker_headers), 404)
