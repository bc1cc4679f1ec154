"""Pillow work on photos: type from the bytes, safe opening, EXIF evidence (time, place), thumbnails without EXIF.

Every function here is synchronous and may take a second on a large photo: call them through `media.workers`.
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
from PIL import ExifTags, Image, ImageOps

from media.errors import ImageRejected, UnsupportedType
from media.structure import is_whole, png_chunk

# iPhones send HEIC; registering is idempotent and only adds a decoder.
pillow_heif.register_heif_opener()

# The Pillow decoder allowed for each accepted type: a file is only ever parsed by the decoder of its own type.
PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF"}
TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/heif": "image/heic"}

# A 48 MP phone sensor is the largest the stations are expected to meet; decoding 50 MP RGB takes about 150 MB.
DEFAULT_MAX_PIXELS = 50_000_000
# Long side in pixels of each derived image (names as in `media.store.VARIANTS`).
VARIANT_SIDES = {"thumb": 320, "large": 1280}
THUMBNAIL_QUALITY = 82
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
    sniffed = _sniff_file(path)
    if sniffed is None:
        raise ImageRejected("文件不是可识别的图片")
    if sniffed != media_type:
        raise ImageRejected("文件内容与声明的图片类型不符")
    with open(path, "rb") as f:
        if not is_whole(f, media_type):
            raise ImageRejected(_CUT_SHORT)
    with _open_image(path, media_type, max_pixels) as im:
        exif = _exif(im, path)
        # pillow-heif applies a HEIC's rotation while decoding and resets its EXIF orientation to 1.
        orientation = exif.get(_TAG_ORIENTATION, 1) if exif is not None else 1
        if orientation not in range(1, 9):
            orientation = 1
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


def make_thumbnail(photo: str | bytes, max_side: int, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """A JPEG of at most `max_side` on its long side, the right way up, with no EXIF (so no GPS) at all.
    `photo` is a path or the photo's bytes."""
    return make_thumbnails(photo, {"thumbnail": max_side}, max_pixels=max_pixels)["thumbnail"]


def make_thumbnails(
    photo: str | bytes, sides: dict[str, int], *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> dict[str, bytes]:
    """Thumbnails by name, each a JPEG of at most its side in `sides`, from one decoding of the photo."""
    media_type = _sniff_file(photo)
    if media_type is None:
        raise ImageRejected("文件不是可识别的图片")
    largest = max(sides.values())
    with _open_image(photo, media_type, max_pixels) as im:
        icc_profile = im.info.get("icc_profile")
        if media_type == "image/jpeg":
            # Decode at 1/2, 1/4 or 1/8 scale straight from the DCT: a 12 MP photo in ~30 ms instead of ~115 ms.
            im.draft("RGB", (largest, largest))
        _load(im)
        # The box is square, so shrinking before turning gives the same result, on fewer pixels.
        im.thumbnail((largest, largest))
        im = _flattened(_oriented(im))
        made = {}
        # Largest first, each smaller one shrunk from the one before: the photo is decoded only once.
        for name, side in sorted(sides.items(), key=lambda item: -item[1]):
            im.thumbnail((side, side))
            out = io.BytesIO()
            # No exif= (nor xmp=): Pillow writes only what is passed here, which is how GPS stays out of thumbnails.
            im.save(out, "JPEG", quality=THUMBNAIL_QUALITY, icc_profile=icc_profile)
            made[name] = out.getvalue()
        return made


def _sniff_file(photo: str | bytes) -> str | None:
    with _opened(photo) as f:
        return sniff_type(f.read(SNIFF_BYTES))


def _opened(photo: str | bytes) -> BinaryIO:
    return io.BytesIO(photo) if isinstance(photo, bytes) else open(photo, "rb")


@contextmanager
def _open_image(photo: str | bytes, media_type: str, max_pixels: int) -> Iterator[Image.Image]:
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


def _load(im: Image.Image) -> None:
    try:
        im.load()
    except Exception as e:
        raise ImageRejected(_CUT_SHORT) from e


def _exif(im: Image.Image, path: str) -> Image.Exif | None:
    try:
        if im.format == "PNG" and "exif" not in im.info:
            # Pillow's PNG plugin decodes every pixel to look for EXIF placed after them (196 MB for a 7000x7000
            # RGBA picture of 200 KB); the chunk walk finds it without decoding, and the base class reads the rest.
            with open(path, "rb") as f:
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


def _oriented(im: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(im)
    except Exception:  # unreadable orientation: show the picture as stored
        return im


def _flattened(im: Image.Image) -> Image.Image:
    """RGB or L for JPEG; transparent areas become white, as on the paper forms."""
    if im.mode in ("RGB", "L"):
        return im
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if im.mode.startswith("I"):
        # 16-bit greyscale (some PNGs): scale to 8 bits, which a plain convert("L") would clip instead.
        return im.point(lambda v: v / 256).convert("L")
    return im.convert("RGB")
