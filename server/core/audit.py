"""The audit log: who read, changed, revealed or exported what, and from where."""

from __future__ import annotations

import uuid

from tortoise.expressions import Subquery

from server.core import sql
from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.pagination import Page, paginate
from server.core.problems import invalid
from server.core.scope import scope_of, users_visible_to
from server.models import AuditEvent, User


ACTION_LENGTH = AuditEvent._meta.fields_map["action"].max_length


async def record(
    caller: Caller | None,
    action: str,
    target_type: str,
    target_id: object = None,
    *,
    address: str | None = None,
    actor_name: str | None = None,
    household_id: uuid.UUID | None = None,
    **detail,
) -> None:
    await sql.insert(AuditEvent(
        at=now(),
        actor_id=caller.id if caller else None,
        actor_name=actor_name or (caller.user.username if caller else ""),
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        household_id=household_id,
        address=address or (caller.address if caller else None),
        detail=detail,
    ))


async def list_events(caller: Caller, filters: dict, cursor: str | None) -> Page:
    """Admins read everything; the bureau reads the events of people in its county and its own."""
    query = AuditEvent.all()
    if not (await scope_of(caller)).everything:
        query = query.filter(actor_id__in=Subquery(User.filter(await users_visible_to(caller)).values("id")))
    for name in ("actor", "household"):
        if value := filters.get(name):
            query = query.filter(**{f"{name}_id": parse_id(value, pointer=f"/{name}")})
    if action := filters.get("action"):
        if len(action) > ACTION_LENGTH or not action.isprintable():
            raise invalid("/action", f"操作名称应为不超过 {ACTION_LENGTH} 个可见字符")
        query = query.filter(action=action)
    return await paginate(query, cursor, order=("-at", "-id"), shape=as_api)


def as_api(event: AuditEvent) -> dict:
    return {
        "id": str(event.id),
        "at": event.at.isoformat(),
        "actor": str(event.actor_id) if event.actor_id else None,
        "actor_name": event.actor_name,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "household": str(event.household_id) if event.household_id else None,
        "address": event.address,
        "detail": event.detail,
    }
