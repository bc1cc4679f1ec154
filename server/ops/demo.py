"""The demo district: one person of each role, all with one shared generated password. Never on a production server."""

from __future__ import annotations

import secrets
from pathlib import Path

from tortoise.transactions import in_transaction

from server.core.clock import now
from server.models import Area, Provider, User, UserArea
from server.ops.areas_file import load_areas
from server.people.passwords import hash_password

DEMO_AREAS = Path(__file__).parent / "data" / "demo_areas.csv"
DEMO_USERS = [
    # username, display name, role, area codes
    ("bureau", "区民政局 王科长", "bureau", ["430602"]),
    ("supervisor", "城东街道社工站 李站长", "supervisor", ["430602001"]),
    ("worker", "社工 张敏", "worker", ["430602001001", "430602001002"]),
    ("worker2", "社工 刘洋", "worker", ["430602001003"]),
    ("supervisor2", "楚江街道社工站 陈站长", "supervisor", ["430602002"]),
    ("worker3", "社工 赵丽", "worker", ["430602002001"]),
]


async def load_demo() -> str:
    """The demo district and one person of each role, all with one shared generated password."""
    await load_areas(DEMO_AREAS)
    if await User.exists(username=DEMO_USERS[0][0]):
        return "演示数据已存在，未作改动。"
    password = secrets.token_urlsafe(9)
    password_hash = await hash_password(password)
    codes = {a.code: a for a in await Area.all()}
    async with in_transaction():
        provider = await Provider.create(name="巴陵区阳光助老服务中心")
        users = DEMO_USERS + [("provider", "阳光助老服务中心 接单员", "provider", [])]
        for username, display_name, role, area_codes in users:
            user = await User.create(
                username=username, display_name=display_name, role=role, password_hash=password_hash,
                provider=provider if role == "provider" else None, password_changed_at=now(),
            )
            await UserArea.bulk_create([UserArea(user=user, area=codes[c]) for c in area_codes])
    names = "、".join(u[0] for u in users)
    return f"已载入演示区县（{DEMO_AREAS.name}）和演示账号：{names}\n演示账号的共同密码（只显示这一次）：{password}"
