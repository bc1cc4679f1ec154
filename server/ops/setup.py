"""Setting up an installation from the command line: areas from a file, the first admin, built-ins, demo data."""

from __future__ import annotations

import csv
import secrets
from pathlib import Path

from tortoise.transactions import in_transaction

import forms
from server.core.clock import now
from server.core.problems import InvalidInput
from server.models import LEVELS, Area, Form, Provider, User, UserArea
from server.people.areas import PARENT_LEVEL, new_area
from server.people.passwords import hash_password
from server.surveys.catalogue import load_catalogue
from server.surveys.versions import etag_of, latest_etag, publish_draft

DEMO_AREAS = Path(__file__).parent / "data" / "demo_areas.csv"
COLUMNS = ("code", "name", "level", "parent_code")


class SetupError(Exception):
    pass


async def any_admin() -> bool:
    return await User.exists(role="admin", is_active=True)


async def create_admin(username: str, password: str) -> User:
    if len(password) < 8:
        raise SetupError("密码至少 8 个字符。")
    if await User.exists(username=username):
        raise SetupError(f"用户名 {username} 已存在。")
    return await User.create(
        username=username, password_hash=await hash_password(password), display_name="管理员", role="admin",
        password_changed_at=now(),
    )


def read_area_rows(path: Path) -> list[dict]:
    """Rows of code,name,level,parent_code from a UTF-8 CSV (with or without BOM) or the first sheet of an XLSX."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True).worksheets[0]
        rows = [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
    else:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = [[v.strip() for v in row] for row in csv.reader(f)]
    if not rows or tuple(h.lower() for h in rows[0][:4]) != COLUMNS:
        raise SetupError(f"第 1 行应为表头：{','.join(COLUMNS)}")
    return [dict(zip(COLUMNS, row + [""] * 4)) | {"line": n} for n, row in enumerate(rows[1:], start=2) if any(row)]


async def load_areas(file: str | Path) -> tuple[int, int]:
    """Create the areas a file lists; existing codes are kept as they are. All or nothing."""
    rows = read_area_rows(Path(file))
    bad = [r for r in rows if r["level"] not in LEVELS]
    if bad:
        raise SetupError(f"第 {bad[0]['line']} 行：层级应为 county、township 或 community")
    known = {a.code: a for a in await Area.all()}
    created, kept = 0, 0
    async with in_transaction():
        for level in LEVELS:  # parents before children, whatever the file's order
            for row in (r for r in rows if r["level"] == level):
                if row["code"] in known:
                    kept += 1
                    continue
                parent = known.get(row["parent_code"]) if row["parent_code"] else None
                wanted = PARENT_LEVEL[level]
                if (parent.level if parent else None) != wanted:
                    raise SetupError(f"第 {row['line']} 行：上级区域 {row['parent_code'] or '（空）'} 不是{wanted or '空'}级")
                if not row["code"] or not row["name"] or len(row["name"]) > 100 or len(row["code"]) > 32:
                    raise SetupError(f"第 {row['line']} 行：代码或名称为空或过长")
                area = new_area(row["code"], row["name"], level, parent)
                await area.save()
                known[area.code] = area
                created += 1
    return created, kept


async def load_builtins() -> str:
    """The service catalogue and the built-in forms; a form is published again only when its definition changed."""
    added = await load_catalogue(forms.catalogue())
    published = []
    for builtin in forms.builtin_forms():
        draft = {"draft_title": builtin["title"], "draft_schema": builtin["schema"], "draft_ui": builtin["ui"]}
        form, _ = await Form.get_or_create(slug=builtin["slug"], defaults=draft | {"draft_updated_at": now()})
        if etag_of(builtin["title"], builtin["schema"], builtin["ui"]) == await latest_etag(form):
            continue
        await form.update_from_dict(draft | {"draft_updated_at": now()}).save()
        try:
            await publish_draft(form, None)
        except InvalidInput as exc:
            raise SetupError(f"内置表单 {builtin['slug']} 有误：{exc.errors[0].pointer} {exc.errors[0].detail}") from None
        published.append(f"{builtin['title']}（第 {form.latest_version} 版）")
    return f"服务目录：新增 {added} 项；内置表单：" + ("发布了 " + "、".join(published) if published else "均已是最新")


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
