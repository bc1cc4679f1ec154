"""The shape of the permission table as the API gives it (the console's 人员与区域 shows it in words)."""

from __future__ import annotations

from server.http.schemas import TEXT, _record
from server.models import ROLES

ROLE = {"enum": list(ROLES)}
COMPONENTS: dict[str, dict] = {
    "PermissionTable": _record("权限表", {
        "roles": {"type": "array", "items": _record("角色", {"role": ROLE, "name": TEXT})},
        "items": {"type": "array", "items": _record("操作", {
            "action": TEXT, "meaning": TEXT, "roles": {"type": "array", "items": ROLE, "uniqueItems": True}})},
    }),
}
