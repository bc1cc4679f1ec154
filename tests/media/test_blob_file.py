"""A blob's file written past the page cache, or the ordinary way where the file system refuses that: the same bytes
either way, whatever the size against the buffer and the block."""

from __future__ import annotations

import hashlib
import os
import tempfile

import pytest

from media.blob_file import BLOCK, BUFFER, BlobFile

SIZES = [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, BUFFER - 1, BUFFER, BUFFER + 1, 2 * BUFFER + BLOCK + 17]


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "buffered"])
@pytest.mark.parametrize("size", SIZES)
def test_the_file_holds_exactly_the_bytes_given_and_their_hash(tmp_path, direct: bool, size: int) -> None:
    data = os.urandom(size)
    fd, path = tempfile.mkstemp(dir=tmp_path)
    file = BlobFile(fd, path, direct=direct)
    # Chunks of uneven sizes, as a ZIP's pieces come: headers of a few bytes, photos of a few hundred KB.
    cuts = sorted({0, size, *(at for at in (7, 300, BLOCK + 5, 350_000, BUFFER + 3) if at < size)})
    for start, end in zip(cuts, cuts[1:]):
        file.write([data[start:end]])
    file.finish()
    file.close()

    with open(path, "rb") as written:
        assert written.read() == data
    assert (file.size, file.digest.hexdigest()) == (size, hashlib.sha256(data).hexdigest())


def test_closing_twice_is_harmless(tmp_path) -> None:
    fd, path = tempfile.mkstemp(dir=tmp_path)
    file = BlobFile(fd, path)
    file.write([b"x" * 10])
    file.close()
    file.close()
