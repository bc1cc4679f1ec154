"""Readiness: can this instance reach its database and its photo store right now?"""

from __future__ import annotations

import logging

from tortoise import connections

from server.core.problems import NotReady

log = logging.getLogger("doorstep.readiness")


async def check(state) -> dict:
    checks = {}
    try:
        await connections.get("default").execute_query("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        log.exception("database not reachable")
        checks["database"] = "unreachable"
    try:
        await state.photos.check()
        checks["storage"] = "ok"
    except Exception:
        log.exception("photo store not reachable")
        checks["storage"] = "unreachable"
    if any(v != "ok" for v in checks.values()):
        raise NotReady(f"不可用：{', '.join(k for k, v in checks.items() if v != 'ok')}")
    return {"status": "ok", "checks": checks}
