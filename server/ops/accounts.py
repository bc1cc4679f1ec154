"""The first admin of an installation, made from the command line before anyone can log in."""

from __future__ import annotations

from server.core.clock import now
from server.models import User
from server.ops.errors import SetupError
from server.people.passwords import hash_password


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
