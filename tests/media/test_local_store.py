"""What only the local-disk store promises: its layout on disk, untouched files on retry, no hard links needed."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import stat
import time

import anyio
import pytest

from media import store as store_module
from media.store import LocalPhotoStore
from photo_factories import sha256_of, temp_files, write_temp

PHOTO = b"\xff\xd8\xff" + b"local photo " * 500


async def test_photos_are_sharded_by_the_first_characters_of_their_hash(local_store: LocalPhotoStore) -> None:
    sha = sha256_of(PHOTO)
    await local_store.put(sha, write_temp(local_store, PHOTO))

    path = local_store.root / "originals" / sha[:2] / sha[2:4] / sha
    assert local_store.original_path(sha) == path
    assert path.read_bytes() == PHOTO
    derived = local_store.root / "derived" / "thumb" / sha[:2] / sha[2:4] / f"{sha}.jpg"
    assert local_store.derived_path(sha, "thumb") == derived
    assert local_store.temp_dir == local_store.root / "tmp"


async def test_a_retry_never_rewrites_the_stored_file(local_store: LocalPhotoStore) -> None:
    sha = sha256_of(PHOTO)
    await local_store.put(sha, write_temp(local_store, PHOTO))
    before = local_store.original_path(sha).stat()
    time.sleep(0.02)  # so that a rewrite would show in the modification time

    assert await local_store.put(sha, write_temp(local_store, PHOTO)) is False

    after = local_store.original_path(sha).stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)


async def test_a_photo_is_synced_before_its_name_appears_and_the_name_is_synced_before_put_returns(
    local_store: LocalPhotoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Durability that killing a process cannot show (the page cache survives it): the order of the syscalls."""
    sha = sha256_of(PHOTO)
    temp = write_temp(local_store, PHOTO)
    dest = local_store.original_path(sha)
    calls: list[tuple[str, str]] = []
    real_fsync, real_link = os.fsync, os.link

    def fsync(fd: int) -> None:
        calls.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def link(source, target, **kwargs) -> None:
        calls.append(("link", str(target)))
        real_link(source, target, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "link", link)
    assert await local_store.put(sha, temp) is True
    # The bytes first; then the name (new folders on its way synced too); then the folder holding the name.
    linked = calls.index(("link", str(dest)))
    assert calls[0] == ("fsync", str(temp)) and calls[linked + 1:] == [("fsync", str(dest.parent))], calls


async def test_stored_originals_are_read_only(local_store: LocalPhotoStore) -> None:
    sha = sha256_of(PHOTO)
    await local_store.put(sha, write_temp(local_store, PHOTO))
    assert stat.S_IMODE(local_store.original_path(sha).stat().st_mode) == 0o444


async def test_a_filesystem_without_hard_links_still_stores_once(
    local_store: LocalPhotoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: str, dst: str) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(store_module.os, "link", no_links)
    sha = sha256_of(PHOTO)

    assert await local_store.put(sha, write_temp(local_store, PHOTO)) is True
    assert await local_store.put(sha, write_temp(local_store, PHOTO)) is False

    assert local_store.original_path(sha).read_bytes() == PHOTO
    assert temp_files(local_store) == []


async def test_a_store_opens_on_an_existing_folder(local_store: LocalPhotoStore) -> None:
    sha = sha256_of(PHOTO)
    await local_store.put(sha, write_temp(local_store, PHOTO))

    reopened = LocalPhotoStore(local_store.root)

    assert await reopened.exists(sha)
    assert [s async for s in reopened.list_hashes()] == [sha]


async def test_stray_files_in_the_shards_are_not_listed_as_photos(local_store: LocalPhotoStore) -> None:
    sha = sha256_of(PHOTO)
    await local_store.put(sha, write_temp(local_store, PHOTO))
    (local_store.original_path(sha).parent / "notes.txt").write_text("left by an operator")

    assert [s async for s in local_store.list_hashes()] == [sha]


def open_paths() -> set[str]:
    paths = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # closed meanwhile
            paths.add(os.readlink(f"/proc/self/fd/{fd}"))
    return paths


async def test_a_download_cancelled_half_way_leaves_the_photo_closed(local_store: LocalPhotoStore) -> None:
    data = os.urandom(3 * store_module.CHUNK_SIZE)
    sha = sha256_of(data)
    await local_store.put(sha, write_temp(local_store, data))
    path = str(local_store.original_path(sha))
    with anyio.CancelScope() as download:
        async for _ in await local_store.open(sha):
            download.cancel()  # the phone went away: every await from here on is cancelled, clean-up's too
    assert download.cancelled_caught
    for _ in range(200):  # the shielded close finishes on its own
        if path not in open_paths():
            break
        await asyncio.sleep(0.01)
    assert path not in open_paths()
