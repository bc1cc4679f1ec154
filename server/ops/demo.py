"""The demo: a district with one person of each role, and what its workers met in the field (demo_field.py), loaded
through the same domain functions the API calls, so that the first household file a newcomer opens is not empty.

Never on a production server: the accounts share one password, printed once.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from tortoise.transactions import in_transaction

from media.store import PhotoStore
from media.thumbnails import Thumbnails
from media.workers import ImageWorkers
from server.core.caller import Caller
from server.core.clock import now
from server.core.permissions import ROLE_NAMES
from server.core.problems import IdInUse, Problem
from server.households.registry import register_household
from server.intake import photos
from server.intake.store import put_submission
from server.models import Area, Form, Member, Provider, User, UserArea
from server.ops.areas_file import load_areas
from server.ops.builtins import publish_builtins
from server.ops.demo_field import HOUSEHOLDS, DemoHousehold, DemoSubmission, Photo, submissions
from server.ops.errors import SetupError
from server.people.passwords import hash_password
from server.settings import Settings

DATA = Path(__file__).parent / "data"
DEMO_AREAS = DATA / "demo_areas.csv"
DEMO_PHOTOS = DATA / "demo_photos"
PROVIDER_NAME = "巴陵区阳光助老服务中心"
DEMO_USERS = [
    # username, display name, role, area codes
    ("bureau", "区民政局 王科长", "bureau", ["430602"]),
    ("supervisor", "城东街道社工站 李站长", "supervisor", ["430602001"]),
    ("worker", "社工 张敏", "worker", ["430602001001", "430602001002"]),
    ("worker2", "社工 刘洋", "worker", ["430602001003"]),
    ("supervisor2", "楚江街道社工站 陈站长", "supervisor", ["430602002"]),
    ("worker3", "社工 赵丽", "worker", ["430602002001"]),
    ("provider", "阳光助老服务中心 接单员", "provider", []),
]
ADDRESS = "127.0.0.1"  # the audit log's address for what the demo's workers do: this machine's command line


@dataclass
class Loaded:
    """What this run added; all zero and False when the demo was already there."""

    areas: int = 0
    password: str | None = None  # set when the accounts were made now
    households: int = 0
    photos: int = 0
    submissions: int = 0
    catalogue_items: int = 0
    forms: list[str] = field(default_factory=list)  # the built-in forms published now

    @property
    def changed(self) -> bool:
        return bool(self.areas or self.catalogue_items or self.forms or self.password or self.households
                    or self.photos or self.submissions)


async def load_demo(settings: Settings) -> str:
    """Load the demo district, its accounts and its households; a second run changes nothing and says so."""
    loaded = Loaded()
    loaded.areas, _ = await load_areas(DEMO_AREAS)
    # The demo's submissions are of the built-in forms.
    loaded.catalogue_items, loaded.forms = await publish_builtins()
    loaded.password = await _create_users()
    callers = {u.username: Caller(u, ADDRESS) for u in await User.filter(username__in=[u[0] for u in DEMO_USERS])}
    try:
        loaded.households = await _register_households(callers)
        loaded.photos, loaded.submissions = await _send_visits(settings, callers)
    except Problem as problem:  # e.g. an admin has since moved a demo worker to other areas
        where = "；".join(f"{e.pointer} {e.detail}" for e in problem.errors)
        said = f"演示数据未能载入：{problem.title}：{problem.detail}" + (f"（{where}）" if where else "")
        if loaded.password:  # the accounts were made: their password is not lost with the rest
            said += f"\n演示账号已创建，共同密码（只显示这一次）：{loaded.password}"
        raise SetupError(said) from None
    return await _report(loaded)


async def _create_users() -> str | None:
    """The demo accounts with one shared generated password (returned), or None if they exist already."""
    if await User.exists(username=DEMO_USERS[0][0]):
        return None
    password = secrets.token_urlsafe(9)
    password_hash = await hash_password(password)
    codes = {a.code: a for a in await Area.all()}
    async with in_transaction():
        provider = await Provider.create(name=PROVIDER_NAME)
        for username, display_name, role, area_codes in DEMO_USERS:
            user = await User.create(
                username=username, display_name=display_name, role=role, password_hash=password_hash,
                provider=provider if role == "provider" else None, password_changed_at=now(),
            )
            await UserArea.bulk_create([UserArea(user=user, area=codes[c]) for c in area_codes])
    return password


async def _register_households(callers: dict[str, Caller]) -> int:
    communities = {a.code: a.id for a in await Area.filter(code__in=[h.community for h in HOUSEHOLDS])}
    created = 0
    for household in HOUSEHOLDS:
        body = registration_body(household, communities[household.community])
        try:
            _, new = await register_household(callers[household.worker], household.id, body)
        except IdInUse:
            new = False  # registered by an earlier demo whose data differed: kept as it is
        created += new
    return created


async def _send_visits(settings: Settings, callers: dict[str, Caller]) -> tuple[int, int]:
    """Each visit's photos, then its submission, as the worker's phone sends them; (new photos, new submissions)."""
    # The photo services as the app builds them (server/app.py), for as long as the load takes.
    store = photos.photo_store(settings)
    workers = photos.image_workers(settings)
    thumbnails = Thumbnails(store, workers, max_pixels=settings.max_image_pixels)
    new_photos = new_submissions = 0
    try:
        for item in submissions():
            caller = callers[item.household.worker]
            new_photos += await _upload_photos(caller, settings, store, workers, thumbnails, item)
            new_submissions += await _send(caller, settings, item)
        await thumbnails.settle()  # a newcomer's first look at a photo need not wait for its thumbnails
    finally:
        await thumbnails.close()
        workers.shutdown(wait=True)
    return new_photos, new_submissions


def registration_body(household: DemoHousehold, community_id: uuid.UUID) -> dict:
    """What a phone sends to register the household (PUT /api/v1/households/{id})."""
    return {"community": str(community_id), "address": household.address, "head": household.head,
            "phone": household.phone, "location": {"lat": household.location[0], "lon": household.location[1]}}


def submission_body(item: DemoSubmission, version: int) -> dict:
    """What a phone sends with the form filled on the visit (PUT /api/v1/submissions/{id})."""
    data, found = resolve_photos(item.data)
    body = {"form": item.form, "version": version, "household": item.household.id, "data": data,
            "attachments": [{"sha256": hashlib.sha256(b).hexdigest(), "pointer": p} for p, b in found],
            "started_at": item.started_at, "finished_at": item.finished_at}
    if item.location:
        body["location"] = {"lat": item.location[0], "lon": item.location[1]}
    return body


def resolve_photos(answers: dict) -> tuple[dict, list[tuple[str, bytes]]]:
    """The answers with each Photo replaced by its sha256, as a phone sends them, and the (pointer, bytes) of every
    photo in them."""
    found: list[tuple[str, bytes]] = []

    def walk(value, pointer: str):
        if isinstance(value, Photo):
            data = (DEMO_PHOTOS / value.file).read_bytes()
            found.append((pointer, data))
            return hashlib.sha256(data).hexdigest()
        if isinstance(value, dict):
            return {key: walk(item, f"{pointer}/{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, f"{pointer}/{i}") for i, item in enumerate(value)]
        return value

    return walk(answers, ""), found


def photo_hashes() -> set[str]:
    """The photos the demo's submissions use."""
    return {hashlib.sha256(data).hexdigest() for item in submissions() for _, data in resolve_photos(item.data)[1]}


async def _upload_photos(caller: Caller, settings: Settings, store: PhotoStore, workers: ImageWorkers,
                         thumbnails: Thumbnails, item: DemoSubmission) -> int:
    """Upload a submission's photos before it, as a phone does; returns how many were new."""
    _, found = resolve_photos(item.data)
    created = 0
    for _, data in found:
        _, new = await photos.upload(caller, settings, store, workers, thumbnails, hashlib.sha256(data).hexdigest(),
                                     "image/jpeg", str(len(data)), _chunks(data))
        created += new
    return created


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _send(caller: Caller, settings: Settings, item: DemoSubmission) -> int:
    form = await Form.get(slug=item.form)
    try:
        _, created = await put_submission(caller, settings, item.id, submission_body(item, form.latest_version))
    except IdInUse:
        created = False  # sent by an earlier demo against an older version of its form: kept as it is
    return int(created)


async def _report(loaded: Loaded) -> str:
    """What a newcomer needs to start: who to log in as, the password once, and what there is to look at."""
    headline = f"已载入演示数据（区域见 {DEMO_AREAS.name}，本次新增 {loaded.areas} 个区域）。"
    lines = [headline if loaded.changed else "演示数据已存在，未作改动。"]
    if loaded.forms:
        lines.append("发布了内置表单：" + "、".join(loaded.forms))
    lines.append("演示账号（POST /api/v1/auth/token 登录）：")
    users = {u.username: u for u in await User.filter(username__in=[u[0] for u in DEMO_USERS])
             .prefetch_related("area_links__area", "provider")}
    for username, *_ in DEMO_USERS:
        user = users[username]
        areas = "、".join(link.area.name for link in sorted(user.area_links, key=lambda link: link.area.code))
        reach = areas or (f"服务机构：{user.provider.name}" if user.provider else "（无）")
        lines.append(f"  {username:<12} {_pad(ROLE_NAMES[user.role], 10)} {_pad(user.display_name, 24)} {reach}")
    if loaded.password:
        lines.append(f"所有演示账号的共同密码（只显示这一次）：{loaded.password}")
    else:
        lines.append("演示账号的密码只在首次载入时显示。")
    members = await Member.filter(household_id__in=[h.id for h in HOUSEHOLDS], removed_at__isnull=True).count()
    totals = f"演示户 {len(HOUSEHOLDS)} 户（{members} 名成员），走访提交 {len(submissions())} 份，照片 {len(photo_hashes())} 张"
    added = f"；本次新增 {loaded.households} 户、{loaded.submissions} 份提交、{loaded.photos} 张照片。"
    lines.append(totals + (added if loaded.changed else "。"))
    lines.append("户档案（GET /api/v1/households/{id}，以负责的社工登录）：")
    for household in HOUSEHOLDS:
        lines.append(f"  {household.id}  {_pad(household.head, 8)} {_pad(household.address, 30)} {household.worker}")
    return "\n".join(lines)


def _pad(text: str, width: int) -> str:
    """Pad to a width in terminal columns: a Chinese character takes two."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(1, width - columns)
