"""`doorstep backup`, `doorstep restore`, `doorstep verify-restore`: a backup folder an operator can put back and
check, whatever the photo store is.

A backup folder holds the database copy (`database.dump` or `database.sqlite3`), `manifest.json` (rows per table
and the recorded photos of that copy) and, unless told otherwise, the photos in `photos/ab/<sha256>`. The database
is copied FIRST and the photos SECOND: the server stores a photo before it records it, so every photo the copy
records is in the store by then. Photos go through the store interface (`media`), so the same command copies a
local folder or a bucket; each one's bytes are checked against its hash on the way out and on the way back in.
A photo folder may be shared by successive backups: a photo already there is not copied again.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from media.errors import PhotoNotFound
from media.store import PhotoStore
from server.ops import database_copy
from server.ops.database_copy import Contents, CopyFailed
from server.settings import Settings

MANIFEST = "manifest.json"
FORMAT = 1


async def back_up(settings: Settings, store: PhotoStore, folder: Path, photos: Path | None) -> dict:
    """Database, manifest, then (unless `photos` is None) the recorded photos into `photos`."""
    url = settings.resolved_database_url
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / MANIFEST).exists():
        raise CopyFailed(f"{folder} 中已有一份备份：每次备份用一个新文件夹（照片文件夹可以共用）")
    held = await database_copy.dump(url, folder)
    copied = await _photos_out(store, held.photos, photos) if photos is not None else {"copied": 0, "bytes": 0}
    manifest = {"format": FORMAT, "made_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "database": database_copy.kind_of(url), "tables": held.tables, "photos": held.photos,
                "photos_copied_to": str(photos) if photos is not None else None}
    # Written last: a folder with a manifest is a finished backup.
    _write_atomically(folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    return {"rows": sum(held.tables.values()), "photos": len(held.photos), **copied}


async def restore(settings: Settings, store: PhotoStore, folder: Path, photos: Path | None) -> dict:
    """Put a backup into an empty database and a store; `photos` None leaves the store as it is (photos restored
    by other means, e.g. the bucket's own copy). Returns what `verify` finds."""
    manifest = read_manifest(folder)
    url = settings.resolved_database_url
    if database_copy.kind_of(url) != manifest["database"]:
        raise CopyFailed(f"这份备份来自 {manifest['database']} 数据库，不能恢复到 {database_copy.kind_of(url)}")
    await database_copy.restore(url, folder)
    copied = await _photos_in(store, manifest["photos"], photos) if photos is not None else {"copied": 0, "bytes": 0}
    return {**copied, "problems": await verify(settings, store, folder)}


async def verify(settings: Settings, store: PhotoStore, folder: Path) -> list[str]:
    """What differs between the backup's manifest and the database and store now: rows per table, recorded photos,
    and every recorded photo present in the store with bytes that match its hash. Empty when all agree.
    Run it before `doorstep migrate`: a migration may add rows (its own bookkeeping at least)."""
    manifest = read_manifest(folder)
    now = await database_copy.contents(settings.resolved_database_url)
    problems = [f"表 {name}：备份时 {count} 行，现在 {now.tables.get(name, '无此表')}"
                for name, count in sorted(manifest["tables"].items()) if now.tables.get(name) != count]
    problems += [f"表 {name}：备份中没有，现在 {count} 行" for name, count in sorted(now.tables.items())
                 if name not in manifest["tables"]]
    if now.photos != manifest["photos"]:
        problems.append(f"登记的照片：备份时 {len(manifest['photos'])} 张，现在 {len(now.photos)} 张，清单不同")
    for sha256 in now.photos:
        try:
            digest = await _digest(store, sha256)
        except PhotoNotFound:
            problems.append(f"照片 {sha256} 已登记但存储中没有")
            continue
        if digest != sha256:
            problems.append(f"照片 {sha256} 的内容与其哈希不符")
    return problems


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise CopyFailed(f"{folder} 中没有 {MANIFEST}：不是一份完成的备份") from None
    if manifest.get("format") != FORMAT:
        raise CopyFailed(f"不认识的备份格式 {manifest.get('format')!r}")
    return manifest


def photo_path(photos: Path, sha256: str) -> Path:
    return photos / sha256[:2] / sha256


async def _photos_out(store: PhotoStore, hashes: list[str], photos: Path) -> dict:
    copied = size = 0
    for sha256 in hashes:
        dest = photo_path(photos, sha256)
        if dest.is_file():
            continue  # named by its content: the copy already there is this photo
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".partial")
        digest = hashlib.sha256()
        try:
            stream = await store.open(sha256)
        except PhotoNotFound:
            raise CopyFailed(f"照片 {sha256} 已登记但存储中没有：先查明原因再备份") from None
        with open(partial, "wb") as out:
            async for chunk in stream:
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            partial.unlink()
            raise CopyFailed(f"存储中的照片 {sha256} 内容与其哈希不符：先查明原因再备份")
        partial.replace(dest)
        copied, size = copied + 1, size + stream.size
    return {"copied": copied, "bytes": size}


async def _photos_in(store: PhotoStore, hashes: list[str], photos: Path) -> dict:
    copied = size = 0
    for sha256 in hashes:
        if await store.exists(sha256):
            continue
        source = photo_path(photos, sha256)
        if not source.is_file():
            raise CopyFailed(f"备份的照片文件夹 {photos} 中缺少照片 {sha256}")
        fd, temp = store.make_temp("restore-")
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            while chunk := src.read(256 * 1024):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            os.unlink(temp)
            raise CopyFailed(f"备份中的照片 {source} 内容与其哈希不符")
        await store.put(sha256, temp)
        copied, size = copied + 1, size + source.stat().st_size
    return {"copied": copied, "bytes": size}


async def _digest(store: PhotoStore, sha256: str) -> str:
    digest = hashlib.sha256()
    async for chunk in await store.open(sha256):
        digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)


__all__ = ["Contents", "CopyFailed", "back_up", "restore", "verify", "read_manifest"]
