"""Pillow work on photos: type from the bytes, safe opening, EXIF evidence (time, place). Thumbnails are drawn in
`media.shrinking` with what is opened here.

Every function here is synchronous: call them through `media.workers`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import BinaryIO

import pillow_heif
from PIL import ExifTags, Image

from media.errors import ImageRejected, UnsupportedType
from media.structure import is_whole, png_chunk

# iPhones send HEIC; registering is idempotent and only adds a decoder.
pillow_heif.register_heif_opener()

# The Pillow decoder allowed for each accepted type: a file is only ever parsed by the decoder of its own type.
PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF"}
TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/heif": "image/heic"}

# A 48 MP phone sensor is the largest the stations are expected to meet; decoding 50 MP RGB takes about 150 MB.
DEFAULT_MAX_PIXELS = 50_000_000
# How many leading bytes `sniff_type` needs.
SNIFF_BYTES = 64

_CUT_SHORT = "照片不完整或已损坏，请重新上传"

# HEIF brands whose image is HEVC-coded (what pillow-heif decodes here); a bare "mif1" may be AVIF instead.
_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}

_TAG_ORIENTATION = 0x0112
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_OFFSET_TIME_ORIGINAL = 0x9011


@dataclass(frozen=True)
class ImageInfo:
    """What a photo says about itself. Width and height are as displayed, after EXIF orientation."""

    media_type: str
    width: int
    height: int
    taken_at: datetime | None
    gps: tuple[float, float] | None
    orientation: int


def normalize_media_type(declared_type: str) -> str:
    """'image/JPEG; charset=x' -> 'image/jpeg'; UnsupportedType for anything the stations do not accept."""
    media_type = declared_type.split(";", 1)[0].strip().lower()
    media_type = TYPE_ALIASES.get(media_type, media_type)
    if media_type not in PIL_FORMATS:
        raise UnsupportedType(declared_type)
    return media_type


def sniff_type(first_bytes: bytes) -> str | None:
    """The media type given by a file's magic bytes (pass at least SNIFF_BYTES), or None if not one we accept."""
    if first_bytes.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if first_bytes.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if first_bytes[:4] == b"RIFF" and first_bytes[8:12] == b"WEBP":
        return "image/webp"
    if first_bytes[4:8] == b"ftyp":
        box_end = min(int.from_bytes(first_bytes[:4], "big"), len(first_bytes))
        brands = {first_bytes[8:12]} | {first_bytes[i : i + 4] for i in range(16, box_end - 3, 4)}
        if brands & _HEVC_BRANDS:
            return "image/heic"
    return None


def inspect(path: str, declared_type: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Check that a file is a whole image of its declared type that is safe to open, and read its evidence.

    Raises UnsupportedType for a type not accepted at all, ImageRejected for anything else wrong. Only the header
    and the structure are read (`media.structure`), not the pixels: a 12 MP photo is checked in a few ms, and
    decoding is left to the thumbnails, made after the phone has its answer.
    EXIF that cannot be parsed is not a reason to refuse a photo; it just gives no time or place.
    """
    media_type = normalize_media_type(declared_type)
    sniffed = sniff_file(path)
    if sniffed is None:
        raise ImageRejected("文件不是可识别的图片")
    if sniffed != media_type:
        raise ImageRejected("文件内容与声明的图片类型不符")
    with open(path, "rb") as f:
        if not is_whole(f, media_type):
            raise ImageRejected(_CUT_SHORT)
    with open_image(path, media_type, max_pixels) as im:
        exif = read_exif(im, path)
        # pillow-heif applies a HEIC's rotation while decoding and resets its EXIF orientation to 1.
        orientation = orientation_of(exif)
        width, height = im.size
        if orientation >= 5:  # 5 to 8 turn the picture by a quarter
            width, height = height, width
        return ImageInfo(
            media_type=media_type,
            width=width,
            height=height,
            taken_at=_taken_at(exif),
            gps=_gps(exif),
            orientation=orientation,
        )


def sniff_file(photo: str | bytes) -> str | None:
    """`sniff_type` of a photo given by its path or its bytes."""
    with _opened(photo) as f:
        return sniff_type(f.read(SNIFF_BYTES))


def _opened(photo: str | bytes) -> BinaryIO:
    return io.BytesIO(photo) if isinstance(photo, bytes) else open(photo, "rb")


@contextmanager
def open_image(photo: str | bytes, media_type: str, max_pixels: int) -> Iterator[Image.Image]:
    """The photo opened by its type's decoder alone, its header read and its pixels not yet decoded; ImageRejected
    for a file that decoder cannot open or for more than `max_pixels` pixels."""
    with _opened(photo) as f:
        try:
            im = Image.open(f, formats=[PIL_FORMATS[media_type]])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # Pillow's own guard (its warning is an error where warnings are errors, as in the tests).
            raise ImageRejected(_too_many_pixels(max_pixels)) from None
        except Exception as e:  # any decoder failure on untrusted bytes means "not readable"
            raise ImageRejected("无法读取该照片，文件可能已损坏") from e
        with im:
            # Checked from the header, before any pixel is decoded: a few KB of PNG can claim billions of pixels.
            if im.width * im.height > max_pixels:
                raise ImageRejected(_too_many_pixels(max_pixels))
            yield im


def _too_many_pixels(max_pixels: int) -> str:
    return f"照片像素过多，无法安全打开（上限 {max_pixels // 1_000_000} 百万像素）"


def decode(im: Image.Image) -> None:
    """Decode the pixels of an opened photo; ImageRejected if they are cut short or damaged."""
    try:
        im.load()
    except Exception as e:
        raise ImageRejected(_CUT_SHORT) from e


def read_exif(im: Image.Image, photo: str | bytes) -> Image.Exif | None:
    """The EXIF of the photo opened from `photo` (its path or bytes), without decoding it; None if unreadable."""
    try:
        if im.format == "PNG" and "exif" not in im.info:
            # Pillow's PNG plugin decodes every pixel to look for EXIF placed after them (196 MB for a 7000x7000
            # RGBA picture of 200 KB); the chunk walk finds it without decoding, and the base class reads the rest.
            with _opened(photo) as f:
                data = png_chunk(f, b"eXIf")
            if data is not None:
                im.info["exif"] = b"Exif\x00\x00" + data
            return Image.Image.getexif(im)
        return im.getexif()
    except Exception:
        return None


def _taken_at(exif: Image.Exif | None) -> datetime | None:
    try:
        ifd = exif.get_ifd(ExifTags.IFD.Exif) if exif is not None else {}
        # Some phone software writes it in the main block instead of the EXIF one.
        raw = ifd.get(_TAG_DATETIME_ORIGINAL) or (exif.get(_TAG_DATETIME_ORIGINAL) if exif is not None else None)
        if not isinstance(raw, str):
            return None
        taken = datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
        offset = ifd.get(_TAG_OFFSET_TIME_ORIGINAL)
        if isinstance(offset, str) and len(offset.strip("\x00 ")) == 6:
            sign = -1 if offset[0] == "-" else 1
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            taken = taken.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
        return taken
    except Exception:  # garbage EXIF ("0000:00:00 00:00:00", wrong types): no capture time
        return None


def _gps(exif: Image.Exif | None) -> tuple[float, float] | None:
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo) if exif is not None else {}
        if not gps:
            return None
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef), "S")
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef), "W")
    except Exception:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        return None
    if lat == 0 and lon == 0:
        return None  # what some phones write when they had no fix; no station is in the Gulf of Guinea
    return (lat, lon)


def _degrees(dms: tuple, ref: str | None, negative_ref: str) -> float:
    degrees, minutes, seconds = (float(x) for x in dms)
    value = degrees + minutes / 60 + seconds / 3600
    return -value if isinstance(ref, str) and ref.strip("\x00 ").upper() == negative_ref else value


def orientation_of(exif: Image.Exif | None) -> int:
    """EXIF orientation, 1 (as stored) to 8; 1 when there is none or it is nonsense."""
    orientation = exif.get(_TAG_ORIENTATION, 1) if exif is not None else 1
    return orientation if orientation in range(1, 9) else 1
