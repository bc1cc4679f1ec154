"""Image checks and evidence: real camera photos for what phones send, images made here for what attackers send."""

from __future__ import annotations

import io
import os
import struct
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat, TiffImagePlugin

from media.errors import ImageRejected, UnsupportedType
from media.images import DEFAULT_MAX_PIXELS, inspect, sniff_type
from media.shrinking import VARIANT_SIDES, make_thumbnail
from photo_factories import GPS_PHOTO, GPS_PHOTOS, ORIENTATION_PHOTOS, PHOTOS, jpeg_bytes, png_of_zeros


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def encoded(image: Image.Image, fmt: str, **save_args: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **save_args)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    means = ImageStat.Stat(ImageChops.difference(a, b)).mean
    return sum(means) / len(means)


# --- type from the bytes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, media_type",
    [
        (jpeg_bytes(), "image/jpeg"),
        (encoded(Image.new("RGB", (8, 8)), "PNG"), "image/png"),
        (encoded(Image.new("RGB", (8, 8)), "WEBP"), "image/webp"),
        (encoded(Image.new("RGB", (8, 8)), "HEIF"), "image/heic"),
        # What iPhones write: major brand heic, compatible brands mif1 and heic.
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", None),
        (b"\x00\x00\x00\x14ftypisom\x00\x00\x02\x00isom", None),  # a video
        (encoded(Image.new("RGB", (8, 8)), "GIF"), None),
        ("走访记录：王大爷家".encode(), None),
        (b"", None),
    ],
)
def test_the_type_comes_from_the_magic_bytes(data: bytes, media_type: str | None) -> None:
    assert sniff_type(data[:64]) == media_type


# --- evidence from real camera photos ---------------------------------------------------------------------------


def test_the_named_camera_photos_are_those_of_the_shared_folder() -> None:
    for named, folder in ((GPS_PHOTOS, PHOTOS / "gps"), (ORIENTATION_PHOTOS, PHOTOS / "orientation")):
        assert sorted(named) == sorted(folder.glob("*.jpg")), f"{folder} changed: name its photos in photo_factories"


def test_a_camera_photo_gives_its_position_and_capture_time() -> None:
    info = inspect(str(GPS_PHOTO), "image/jpeg")

    assert (info.media_type, info.width, info.height, info.orientation) == ("image/jpeg", 640, 480, 1)
    assert info.taken_at == datetime(2008, 10, 22, 16, 28, 39)
    # 43° 28' 2.814" N, 11° 53' 6.456" E
    assert info.gps == pytest.approx((43 + 28 / 60 + 2.814 / 3600, 11 + 53 / 60 + 6.456 / 3600))


@pytest.mark.parametrize("path", GPS_PHOTOS, ids=lambda p: p.name)
def test_every_gps_photo_gives_a_place_and_a_time(path: Path) -> None:
    info = inspect(str(path), "image/jpeg")
    assert info.gps is not None and 43 < info.gps[0] < 44 and 11 < info.gps[1] < 12
    assert info.taken_at is not None and info.taken_at.date().isoformat() == "2008-10-22"


def test_the_capture_time_carries_its_offset_when_the_phone_wrote_one(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769).update({0x9003: "2025:03:14 09:30:00", 0x9011: "+08:00"})
    info = inspect(write(tmp_path, "a.jpg", jpeg_bytes(exif=exif)), "image/jpeg")
    assert info.taken_at == datetime(2025, 3, 14, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def test_a_capture_time_written_in_the_main_exif_block_is_found(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x9003] = "2025:03:14 09:30:00"
    assert inspect(write(tmp_path, "a.jpg", jpeg_bytes(exif=exif)), "image/jpeg").taken_at == datetime(2025, 3, 14, 9, 30)


def with_chunk_after_the_pixels(png: bytes, kind: bytes, body: bytes) -> bytes:
    """The PNG with one more chunk just before IEND (the last 12 bytes), where EXIF may also be written."""
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return png[:-12] + chunk + png[-12:]


def test_a_pngs_exif_is_read_without_decoding_a_pixel(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x9003] = "2024:05:01 10:20:30"
    exif[0x0112] = 6  # turned a quarter
    whole = with_chunk_after_the_pixels(encoded(Image.new("RGB", (40, 20)), "PNG"), b"eXIf", exif.tobytes()[6:])
    # The same structure with its pixel data spoiled: Pillow's own getexif() decodes the pixels to look for EXIF
    # after them, and fails. A check that decodes nothing (a 200 KB PNG can decode to 196 MB) still finds it.
    start = whole.index(b"IDAT") + 4
    spoiled = whole[:start] + bytes(8) + whole[start + 8 :]

    info = inspect(write(tmp_path, "a.png", spoiled), "image/png")

    assert (info.taken_at, info.orientation, info.width, info.height) == (datetime(2024, 5, 1, 10, 20, 30), 6, 20, 40)
    assert opened(make_thumbnail(whole, 320)).size == (20, 40)  # turned too


def test_a_photo_without_exif_has_no_time_and_no_place(tmp_path: Path) -> None:
    info = inspect(write(tmp_path, "a.png", encoded(Image.new("RGBA", (30, 20)), "PNG")), "image/png")
    assert (info.width, info.height, info.taken_at, info.gps, info.orientation) == (30, 20, None, None, 1)


# --- orientation and thumbnails ---------------------------------------------------------------------------------


def comparable(image: Image.Image) -> Image.Image:
    """The orientation samples differ in exposure and have their number painted in the middle: compare them in
    equalised grey with the number blanked, so that only the scene's orientation counts."""
    image = image.convert("L")
    w, h = image.size
    image.paste(0, (int(w * 0.4), int(h * 0.4), int(w * 0.6), int(h * 0.6)))
    return ImageOps.equalize(image)


@pytest.mark.parametrize("scene", ["landscape", "portrait"])
@pytest.mark.parametrize("orientation", range(2, 9))
def test_every_orientation_gives_the_same_thumbnail(scene: str, orientation: int) -> None:
    upright_path = str(PHOTOS / "orientation" / f"{scene}_1.jpg")
    turned_path = str(PHOTOS / "orientation" / f"{scene}_{orientation}.jpg")
    upright = opened(make_thumbnail(upright_path, 320))
    turned = opened(make_thumbnail(turned_path, 320))

    assert turned.size == upright.size
    # Measured: under 5 when right; over 45 when turned or flipped wrong.
    assert mean_difference(comparable(turned), comparable(upright)) < 8
    upright_info, turned_info = inspect(upright_path, "image/jpeg"), inspect(turned_path, "image/jpeg")
    assert turned_info.orientation == orientation
    assert (turned_info.width, turned_info.height) == (upright_info.width, upright_info.height)


def test_a_wrongly_turned_thumbnail_would_be_caught() -> None:
    upright = comparable(opened(make_thumbnail(str(PHOTOS / "orientation" / "landscape_1.jpg"), 320)))
    for wrong in (Image.Transpose.ROTATE_180, Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM):
        assert mean_difference(upright, comparable(upright.transpose(wrong))) > 20


@pytest.mark.parametrize("variant", sorted(VARIANT_SIDES))
def test_thumbnails_carry_no_exif_and_so_no_position(variant: str) -> None:
    data = make_thumbnail(str(GPS_PHOTO), VARIANT_SIDES[variant])
    thumbnail = opened(data)

    assert thumbnail.format == "JPEG"
    assert max(thumbnail.size) == min(VARIANT_SIDES[variant], 640)  # shrunk, never enlarged
    assert len(thumbnail.getexif()) == 0
    assert b"Exif\x00\x00" not in data and b"GPS" not in data and b"NIKON" not in data
    assert "exif" not in thumbnail.info and "xmp" not in thumbnail.info


def test_a_big_photo_is_shrunk_to_the_variant_sizes(big_jpeg: Path) -> None:
    assert opened(make_thumbnail(str(big_jpeg), 320)).size == (320, 240)
    assert opened(make_thumbnail(str(big_jpeg), 1280)).size == (1280, 960)


def test_a_transparent_png_gets_a_white_background(tmp_path: Path) -> None:
    path = write(tmp_path, "a.png", encoded(Image.new("RGBA", (400, 200), (0, 0, 0, 0)), "PNG"))
    thumbnail = opened(make_thumbnail(path, 320))
    assert (thumbnail.mode, thumbnail.size, thumbnail.getpixel((10, 10))) == ("RGB", (320, 160), (255, 255, 255))


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "I;16", "LA"])
def test_uncommon_modes_still_give_a_thumbnail(tmp_path: Path, mode: str) -> None:
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    path = write(tmp_path, f"a.{fmt.lower()}", encoded(Image.new(mode, (50, 40)), fmt))
    declared = "image/jpeg" if fmt == "JPEG" else "image/png"
    assert inspect(path, declared).width == 50
    assert opened(make_thumbnail(path, 320)).size == (50, 40)


def test_a_webp_photo_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "a.webp", encoded(Image.open(GPS_PHOTO), "WEBP"))
    assert inspect(path, "image/webp").width == 640
    assert opened(make_thumbnail(path, 320)).size == (320, 240)


def test_a_heic_from_an_iphone_opens_turned_and_keeps_its_evidence(tmp_path: Path) -> None:
    # pillow-heif writes orientation 6 as a HEIF rotation, the way iPhones store portrait photos.
    with Image.open(GPS_PHOTO) as photo:
        exif = photo.getexif()
        exif[0x0112] = 6
        heic = encoded(photo, "HEIF", exif=exif.tobytes(), quality=90)
    path = write(tmp_path, "IMG_0001.HEIC", heic)
    turned_jpeg = write(tmp_path, "turned.jpg", encoded(Image.open(GPS_PHOTO), "JPEG", exif=exif, quality=90))

    info = inspect(path, "image/heic")
    data = make_thumbnail(path, 320)

    assert (info.media_type, info.width, info.height, info.orientation) == ("image/heic", 480, 640, 1)
    assert info.taken_at == datetime(2008, 10, 22, 16, 28, 39)
    assert info.gps == pytest.approx((43.467448, 11.885127), abs=1e-6)
    thumbnail = opened(data)
    assert thumbnail.size == (240, 320)
    assert len(thumbnail.getexif()) == 0 and b"Exif\x00\x00" not in data
    assert mean_difference(thumbnail, opened(make_thumbnail(turned_jpeg, 320))) < 5
    assert inspect(path, "image/heif").media_type == "image/heic"


# --- what is refused --------------------------------------------------------------------------------------------


def test_a_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    data = GPS_PHOTO.read_bytes()
    path = write(tmp_path, "cut.jpg", data[: len(data) // 2])
    with pytest.raises(ImageRejected) as raised:
        inspect(path, "image/jpeg")
    assert raised.value.detail == "照片不完整或已损坏，请重新上传"
    with pytest.raises(ImageRejected):
        make_thumbnail(path, 320)


def test_a_truncated_png_is_refused(tmp_path: Path) -> None:
    data = encoded(Image.effect_noise((200, 200), 50), "PNG")
    with pytest.raises(ImageRejected):
        inspect(write(tmp_path, "cut.png", data[: len(data) // 2]), "image/png")


def test_a_text_file_named_jpg_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "photo.jpg", "这不是照片，只是文字。\n".encode() * 100)
    with pytest.raises(ImageRejected) as raised:
        inspect(path, "image/jpeg")
    assert raised.value.detail == "文件不是可识别的图片"
    with pytest.raises(ImageRejected):
        make_thumbnail(path, 320)


@pytest.mark.parametrize("declared", ["image/jpeg", "image/heic", "image/webp"])
def test_a_content_type_that_lies_is_refused(tmp_path: Path, declared: str) -> None:
    path = write(tmp_path, "photo.jpg", encoded(Image.new("RGB", (20, 20)), "PNG"))
    with pytest.raises(ImageRejected) as raised:
        inspect(path, declared)
    assert raised.value.detail == "文件内容与声明的图片类型不符"


@pytest.mark.parametrize("declared", ["image/gif", "application/pdf", "text/plain", "", "image/svg+xml"])
def test_a_type_the_stations_do_not_take_is_unsupported(tmp_path: Path, declared: str) -> None:
    with pytest.raises(UnsupportedType):
        inspect(write(tmp_path, "a.jpg", jpeg_bytes()), declared)


@pytest.mark.parametrize("declared", ["image/jpeg", "IMAGE/JPEG", "image/jpeg; charset=binary", "image/jpg"])
def test_the_declared_type_is_read_leniently(tmp_path: Path, declared: str) -> None:
    assert inspect(write(tmp_path, "a.jpg", jpeg_bytes()), declared).media_type == "image/jpeg"


def test_a_png_bomb_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    data = png_of_zeros(20_000, 20_000)  # 400 megapixels, past Pillow's own hard limit
    assert len(data) < 100_000
    path = write(tmp_path, "bomb.png", data)
    with pytest.raises(ImageRejected) as raised:
        inspect(path, "image/png")
    assert "像素过多" in raised.value.detail
    with pytest.raises(ImageRejected):
        make_thumbnail(path, 320)


def test_a_png_past_pillows_warning_threshold_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "big.png", png_of_zeros(10_000, 10_000))  # 100 MP: Pillow warns, does not raise
    with pytest.raises(ImageRejected):
        inspect(path, "image/png")


def test_huge_dimensions_past_the_pixel_limit_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.png", png_of_zeros(8_000, 7_000))  # 56 MP: under Pillow's limits, over ours
    assert 8_000 * 7_000 > DEFAULT_MAX_PIXELS
    with pytest.raises(ImageRejected) as raised:
        inspect(path, "image/png")
    assert raised.value.detail == "照片像素过多，无法安全打开（上限 50 百万像素）"


def test_the_pixel_limit_can_be_set(tmp_path: Path) -> None:
    assert inspect(str(GPS_PHOTO), "image/jpeg", max_pixels=640 * 480).width == 640
    with pytest.raises(ImageRejected):
        inspect(str(GPS_PHOTO), "image/jpeg", max_pixels=640 * 480 - 1)
    with pytest.raises(ImageRejected):
        make_thumbnail(str(GPS_PHOTO), 320, max_pixels=100_000)


# --- garbage EXIF is tolerated ----------------------------------------------------------------------------------


def with_app1(jpeg: bytes, payload: bytes) -> bytes:
    """Put an APP1 (EXIF) segment holding `payload` right after the JPEG's start marker."""
    return jpeg[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


BAD_TIFF = (
    b"MM\x00*\x00\x00\x00\x08\x00\x02"
    + b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x09\x00\x00"  # orientation 9, which does not exist
    + b"\x88\x25\x00\x04\x00\x00\x00\x01\xff\xff\xff\xf0"  # GPS block far past the end
    + b"\x00\x00\x00\x00"
)


@pytest.mark.parametrize(
    "payload", [b"Exif\x00\x00" + bytes(range(100)), b"Exif\x00\x00" + BAD_TIFF], ids=["noise", "bad-offsets"]
)
def test_garbage_exif_gives_a_photo_without_evidence(tmp_path: Path, payload: bytes) -> None:
    path = write(tmp_path, "a.jpg", with_app1(jpeg_bytes(), payload))
    info = inspect(path, "image/jpeg")
    assert (info.width, info.taken_at, info.gps, info.orientation) == (64, None, None, 1)
    assert opened(make_thumbnail(path, 320)).size == (64, 48)


def test_exif_that_pillow_warns_about_is_tolerated_too(tmp_path: Path) -> None:
    # Pillow warns, and goes on, when an EXIF entry runs past its segment; in production that is a log line.
    payload = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\x7f" + bytes(range(200))
    path = write(tmp_path, "a.jpg", with_app1(jpeg_bytes(), payload))
    with pytest.warns(UserWarning, match="Corrupt EXIF"):
        info = inspect(path, "image/jpeg")
    assert (info.width, info.taken_at, info.gps) == (64, None, None)


def test_nonsense_exif_values_give_no_time_and_no_place(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "0000:00:00 00:00:00"
    nan = TiffImagePlugin.IFDRational(0, 0)
    exif.get_ifd(0x8825).update({1: "N", 2: (nan, nan, nan), 3: "E", 4: (1.0, 2.0, 3.0)})
    info = inspect(write(tmp_path, "a.jpg", jpeg_bytes(exif=exif)), "image/jpeg")
    assert (info.taken_at, info.gps) == (None, None)


def test_a_position_of_zero_zero_means_no_fix(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)})
    assert inspect(write(tmp_path, "a.jpg", jpeg_bytes(exif=exif)), "image/jpeg").gps is None


def test_southern_and_western_positions_are_negative(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "S", 2: (33.0, 30.0, 0.0), 3: "W", 4: (70.0, 15.0, 0.0)})
    assert inspect(write(tmp_path, "a.jpg", jpeg_bytes(exif=exif)), "image/jpeg").gps == (-33.5, -70.25)


def test_random_bytes_after_a_jpeg_marker_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jpg", b"\xff\xd8\xff\xe0" + os.urandom(5000))
    with pytest.raises(ImageRejected):
        inspect(path, "image/jpeg")
