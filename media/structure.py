"""Is a photo file whole? A walk over its container structure to the end marker, without decoding a pixel.

A photo cut short (a camera app killed mid-write, a copy interrupted) must be refused when it is uploaded; the hash
in its name cannot tell, because the phone hashed the same cut bytes. Decoding every pixel would tell, but costs
~100 ms for a 12 MP photo, on the path that tells a phone in a weak signal that its upload is safe. Each format's
structure says where it ends, so following it from the start is enough: a few small reads per file. (Pillow's
`verify()` is no help: it passes a truncated JPEG.)

The same walk finds a PNG's EXIF wherever it lies, which Pillow only looks for after decoding every pixel.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RST0-7 carry no length
_JPEG_SOS, _JPEG_EOI = 0xDA, 0xD9
_SEARCH_CHUNK = 256 * 1024


def is_whole(f: BinaryIO, media_type: str) -> bool:
    """True when the file `f` (opened for binary reading) holds its format's structure through to its end."""
    size = f.seek(0, 2)
    f.seek(0)
    return size > 0 and _WALKERS[media_type](f, size)


def _jpeg(f: BinaryIO, size: int) -> bool:
    """Segments by their lengths up to the first scan; after it, the end-of-image marker.

    Inside entropy-coded data a 0xFF byte is always followed by 0x00 or a restart marker, so any FFD9 after the
    scan's header means the image reached its end. Data after that end (a phone's "motion photo" video) is allowed.
    """
    pos = 2  # past SOI, which the type check has seen
    while pos + 4 <= size:
        f.seek(pos)
        head = f.read(4)
        if head[0] != 0xFF:  # stray bytes between segments, which decoders skip too
            f.seek(pos)
            skipped = f.read(_SEARCH_CHUNK).find(b"\xff")
            pos += skipped if skipped != -1 else _SEARCH_CHUNK
            continue
        marker = head[1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
        elif marker in _JPEG_STANDALONE:
            pos += 2
        elif marker == _JPEG_EOI:
            return False  # an end before any scan: no picture
        else:
            length = int.from_bytes(head[2:4], "big")
            if length < 2:
                return False
            if marker == _JPEG_SOS:
                return _found_after(f, b"\xff\xd9", pos + 2 + length, size)
            pos += 2 + length
    return False


def _found_after(f: BinaryIO, needle: bytes, start: int, size: int) -> bool:
    """Whether `needle` occurs at or after `start`, looked for from the end: that is where a photo's end marker
    is, so a 12 MP photo needs one small read, not a pass over its 6 MB."""
    end = size
    while end > start:
        begin = max(start, end - _SEARCH_CHUNK)
        f.seek(begin)
        if f.read(end - begin + len(needle) - 1).find(needle) != -1:
            return True
        end = begin
    return False


def _png(f: BinaryIO, size: int) -> bool:
    """Chunks (length, type, data, CRC) from the signature through to IEND."""
    return any(kind == b"IEND" for kind, _, _ in _png_chunks(f, size))


def png_chunk(f: BinaryIO, kind: bytes) -> bytes | None:
    """The data of the first chunk of type `kind` in the PNG file `f`, or None if there is none before IEND."""
    for found, start, length in _png_chunks(f, f.seek(0, 2)):
        if found == kind:
            f.seek(start)
            data = f.read(length)
            return data if len(data) == length else None
        if found == b"IEND":
            break
    return None


def _png_chunks(f: BinaryIO, size: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, where its data starts, its length) of each chunk whose header lies within the file."""
    pos = 8
    while pos + 12 <= size:
        f.seek(pos)
        header = f.read(8)
        length = int.from_bytes(header[:4], "big")
        yield header[4:8], pos + 8, length
        pos += 12 + length


def _webp(f: BinaryIO, size: int) -> bool:
    """RIFF says how long it is."""
    header = f.read(8)
    return len(header) == 8 and int.from_bytes(header[4:8], "little") + 8 <= size


def _heic(f: BinaryIO, size: int) -> bool:
    """ISO base media boxes, one after another, ending exactly at the end of the file."""
    pos = 0
    while pos < size:
        if pos + 8 > size:
            return False
        f.seek(pos)
        header = f.read(16)
        box_size = int.from_bytes(header[:4], "big")
        if box_size == 0:  # the last box runs to the end of the file
            return True
        if box_size == 1:  # a 64-bit size follows the type
            if len(header) < 16:
                return False
            box_size = int.from_bytes(header[8:16], "big")
        if box_size < 8:
            return False
        pos += box_size
    return pos == size


_WALKERS = {"image/jpeg": _jpeg, "image/png": _png, "image/webp": _webp, "image/heic": _heic}
