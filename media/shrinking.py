"""Thumbnails drawn from a photo: shrunk, turned the right way up, flattened onto white, without EXIF; and the
memory drawing them takes, known from the photo's header before a pixel is decoded (`media.memory`).

Every function here is synchronous and may take a second on a large photo: call them through `media.workers`.
"""

from __future__ import annotations

import io
import os

from PIL import Image

from media.errors import ImageRejected
from media.images import DEFAULT_MAX_PIXELS, decode, open_image, orientation_of, read_exif, sniff_file

# Long side in pixels of each derived image (names as in `media.store.VARIANTS`).
VARIANT_SIDES = {"thumb": 320, "large": 1280}
THUMBNAIL_QUALITY = 82
# Shrink by a whole factor first (an average over boxes of pixels), then resample; the resampling still spans at
# least this many pixels of that first step for each pixel it makes, as Pillow's `thumbnail` does.
REDUCING_GAP = 2.0
# Photos with transparency, a palette or 16 bits are converted and shrunk a band of about this size at a time.
BAND_BYTES = 4 * 1024 * 1024


def make_thumbnail(photo: str | bytes, max_side: int, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """A JPEG of at most `max_side` on its long side, the right way up, with no EXIF (so no GPS) at all.
    `photo` is a path or the photo's bytes."""
    return make_thumbnails(photo, {"thumbnail": max_side}, max_pixels=max_pixels)["thumbnail"]


def make_thumbnails(
    photo: str | bytes, sides: dict[str, int], *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> dict[str, bytes]:
    """Thumbnails by name, each a JPEG of at most its side in `sides`, from one decoding of the photo.
    It holds at most `thumbnails_cost(photo, sides)` bytes while it works."""
    media_type = _type_of(photo)
    largest = max(sides.values())
    with open_image(photo, media_type, max_pixels) as im:
        icc_profile = im.info.get("icc_profile")
        orientation = orientation_of(read_exif(im, photo))
        full_size = im.size
        if media_type == "image/jpeg":
            # Decode at 1/2, 1/4 or 1/8 scale straight from the DCT: a 12 MP photo in ~30 ms instead of ~115 ms.
            im.draft("RGB", (largest, largest))
        decode(im)
        shrunk = _shrunk(im, largest)
        if shrunk is not im:
            im.close()  # the full-size pixels go now, not when the thumbnails are written
        made = {}
        # Largest first, each smaller one shrunk from the one before: the photo is decoded only once.
        for name, side in sorted(sides.items(), key=lambda item: -item[1]):
            # The box is square, so shrinking before turning gives the same result. The size comes from the photo's
            # own, not from the shrunk one's, which whole-factor shrinking may have rounded up by a pixel.
            size = _fitted(full_size, side)
            if shrunk.size != size:
                shrunk = shrunk.resize(size, Image.Resampling.BICUBIC, reducing_gap=REDUCING_GAP)
            out = io.BytesIO()
            # No exif= (nor xmp=): Pillow writes only what is passed here, which is how GPS stays out of thumbnails.
            _turned(shrunk, orientation).save(out, "JPEG", quality=THUMBNAIL_QUALITY, icc_profile=icc_profile)
            made[name] = out.getvalue()
        return made


def thumbnails_cost(photo: str | bytes, sides: dict[str, int], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> int:
    """Bytes that `make_thumbnails` holds at most for this photo (its bytes included), worked out from its header:
    what to take from the memory budget before decoding it. Raises ImageRejected as opening it would."""
    media_type = _type_of(photo)
    largest = max(sides.values())
    with open_image(photo, media_type, max_pixels) as im:
        full_pixels = im.width * im.height
        if media_type == "image/jpeg":
            im.draft("RGB", (largest, largest))  # sets the scale of decoding, decodes nothing
        decoded = im.width * im.height * _pixel_bytes(im.mode)
        if media_type == "image/heic":
            decoded *= 2  # pillow-heif hands over a buffer of its own, which Pillow copies
        elif media_type == "image/webp":
            decoded *= 4  # libwebp's animation decoder keeps two canvases, and hands over a third for Pillow to copy
        elif media_type == "image/jpeg" and im.info.get("progressive"):
            decoded += full_pixels * _jpeg_samples(im) * 2  # libjpeg keeps each coefficient of a progressive JPEG
        factor = _reduction(im.size, largest)
        as_is = im.mode in ("RGB", "L")  # shrunk straight away, with no band, and not at all by a factor of 1
        shrunk = 0 if as_is and factor == 1 else -(-im.width // factor) * -(-im.height // factor) * 4
        band = 0 if as_is else 6 * BAND_BYTES  # a band cut out, flattened (up to four copies), reduced
    size = len(photo) if isinstance(photo, bytes) else os.path.getsize(photo)
    return int(size + decoded + shrunk + band + 2 * 4 * largest * largest)  # and the thumbnails being encoded


def _type_of(photo: str | bytes) -> str:
    media_type = sniff_file(photo)
    if media_type is None:
        raise ImageRejected("文件不是可识别的图片")
    return media_type


def _fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    """`size` scaled to fit a square of `side` (never enlarged), as Pillow's `thumbnail` would make it."""
    scale = side / max(size)
    if scale >= 1:
        return size
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _reduction(size: tuple[int, int], side: int) -> int:
    return max(1, int(max(size) / side / REDUCING_GAP))


def _shrunk(im: Image.Image, side: int) -> Image.Image:
    """The decoded photo as RGB or L (transparent areas white), shrunk by a whole factor towards `side`.

    Converting makes a copy, as does Pillow's own shrinking of a transparent picture (it premultiplies alpha first):
    beside a 7000x7000 RGBA PNG that is another 196 MB, and then a third. So such a photo is converted and shrunk a
    band at a time, its bands a whole number of boxes high so that the result is the one shrinking all at once gives.
    Flattening onto white before averaging gives what averaging premultiplied pixels and then flattening gives.
    """
    factor = _reduction(im.size, side)
    if im.mode in ("RGB", "L"):
        return im.reduce(factor) if factor > 1 else im
    width, height = im.size
    rows = factor * max(1, BAND_BYTES // (4 * width * factor))
    shrunk = None
    for top in range(0, height, rows):
        band = _flattened(im.crop((0, top, width, min(height, top + rows))))
        if factor > 1:
            band = band.reduce(factor)
        if shrunk is None:
            shrunk = Image.new(band.mode, (-(-width // factor), -(-height // factor)))
        shrunk.paste(band, (0, top // factor))
    return shrunk


def _jpeg_samples(im: Image.Image) -> float:
    """Samples per pixel of a JPEG: 1.5 for the usual 4:2:0 colour, where each chroma channel has a quarter."""
    layers = getattr(im, "layer", None) or [("", 1, 1, 0)] * len(im.getbands())
    most = max(h for _, h, _, _ in layers) * max(v for _, _, v, _ in layers)
    return sum(h * v for _, h, v, _ in layers) / most


def _pixel_bytes(mode: str) -> int:
    """What Pillow keeps per pixel: 1 byte for L, P and 1, 2 for 16-bit grey, 4 for everything else (RGB too)."""
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _turned(im: Image.Image, orientation: int) -> Image.Image:
    """The picture the right way up, as EXIF orientation `orientation` (1 to 8) says (ImageOps.exif_transpose)."""
    return im.transpose(_TURNS[orientation]) if orientation in _TURNS else im


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
