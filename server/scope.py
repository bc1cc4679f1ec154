"""The one scoping layer: turns a caller into the filter of the records they may see or change.

Every domain query that reaches area-bound rows goes through `scope_of(caller)`; a record outside the
scope is answered exactly like one that does not exist (404), so ids cannot be probed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tortoise.expressions import Q, Subquery

from server.caller import Caller
from server.models import Area, UserArea
from server.problems import Forbidden

_NOTHING = Q(id__in=[])


@dataclass(frozen=True)
class Scope:
    everything: bool
    counties: frozenset[uuid.UUID] = frozenset()
    townships: frozenset[uuid.UUID] = frozenset()
    communities: frozenset[uuid.UUID] = frozenset()
    # The counties and townships the assigned areas lie in (themselves included): their forms are offered too.
    above: frozenset[uuid.UUID] = frozenset()

    def areas(self, via: str = "") -> Q:
        """Filter for rows whose area (reached through `via`, e.g. "community__") lies in the scope."""
        if self.everything:
            return Q()
        parts = [
            Q(**{f"{via}{level}_id__in": list(ids)})
            for level, ids in (("county", self.counties), ("township", self.townships), ("community", self.communities))
            if ids
        ]
        if not parts:
            return _NOTHING
        return Q(*parts, join_type=Q.OR)

    def covers(self, area: Area) -> bool:
        return (
            self.everything
            or area.county_id in self.counties
            or area.township_id in self.townships
            or area.community_id in self.communities
        )


async def scope_of(caller: Caller) -> Scope:
    if caller._scope is None:
        caller._scope = await _load_scope(caller)
    return caller._scope


async def _load_scope(caller: Caller) -> Scope:
    if caller.role == "admin":
        return Scope(everything=True)
    if caller.role == "provider":
        # Providers reach households only through the needs dispatched to them, never by area.
        return Scope(everything=False)
    assigned = await Area.filter(user_links__user_id=caller.id).values("id", "level", "county_id", "township_id")
    by_level: dict[str, set[uuid.UUID]] = {"county": set(), "township": set(), "community": set()}
    above: set[uuid.UUID] = set()
    for area in assigned:
        by_level[area["level"]].add(area["id"])
        above |= {area["county_id"], area["township_id"]} - {None}
    return Scope(
        everything=False,
        counties=frozenset(by_level["county"]),
        townships=frozenset(by_level["township"]),
        communities=frozenset(by_level["community"]),
        above=frozenset(above),
    )


def require_role(caller: Caller, *roles: str) -> None:
    if caller.role not in roles:
        raise Forbidden()


async def assigned_area_ids(user_id: uuid.UUID) -> list[uuid.UUID]:
    return [link.area_id for link in await UserArea.filter(user_id=user_id).only("area_id")]


async def users_visible_to(caller: Caller) -> Q:
    """Admins see everyone; bureau and supervisors the people with an area in their scope; others themselves."""
    if caller.role == "admin":
        return Q()
    if caller.role in ("bureau", "supervisor"):
        scope = await scope_of(caller)
        in_scope = UserArea.filter(scope.areas("area__")).values("user_id")
        return Q(Q(id__in=Subquery(in_scope)), Q(id=caller.id), join_type=Q.OR)
    return Q(id=caller.id)


async def forms_visible_to(caller: Caller, via: str = "") -> Q:
    """Built-in forms, the forms of the caller's own township and county, and (for designers) those below them.

    `via` reaches the form from another model, e.g. "form__" from a FormVersion."""
    if caller.role == "admin":
        return Q()
    if caller.role == "provider":
        return _NOTHING
    scope = await scope_of(caller)
    return Q(Q(**{f"{via}area_id__isnull": True}), Q(**{f"{via}area_id__in": list(scope.above)}),
             scope.areas(f"{via}area__"), join_type=Q.OR)
