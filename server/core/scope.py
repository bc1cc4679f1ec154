"""The one scoping layer: turns a caller into the filter of the records they may see or change.

Every domain query that reaches area-bound rows goes through here: `visible(caller, Model)` for a query of what the
caller may see, `get_visible` to load one record or answer 404, and `Scope.where` for the few hand-written
statements. A record outside the scope is answered exactly like one that does not exist (404), so ids cannot be
probed. How each model reaches its area is named once, in `AREA_PATH`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from typing import TypeVar

from tortoise.expressions import F, Q, Subquery
from tortoise.functions import Coalesce
from tortoise.models import Model
from tortoise.queryset import QuerySet

from server.core import sql
from server.core.caller import Caller
from server.core.ids import parse_id
from server.core.problems import NotFound
from server.models import (LEVELS, Area, ExportJob, Household, HouseholdConflict, LedgerEntry, Need, Submission,
                           SubmissionAttachment, UserArea)

M = TypeVar("M", bound=Model)

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
        parts = [Q(**{f"{via}{level}_id__in": list(ids)}) for level, ids in self._assigned()]
        if not parts:
            return _NOTHING
        return Q(*parts, join_type=Q.OR)

    def where(self, alias: str, params: list) -> str:
        """The filter of `areas`, as SQL over the area rows of table `alias`, for the statements of `server.sql`."""
        if self.everything:
            return "1 = 1"
        parts = [f"{alias}.{level}_id IN ({sql.placeholders(sorted(map(str, ids)), params)})"
                 for level, ids in self._assigned()]
        return f"({' OR '.join(parts)})" if parts else "1 = 0"

    def _assigned(self) -> list[tuple[str, frozenset[uuid.UUID]]]:
        """(level, ids) of each level with assigned areas."""
        return [(level, ids) for level, ids in zip(LEVELS, (self.counties, self.townships, self.communities)) if ids]

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
    if caller.role in ("admin", "provider"):
        return scope_from(caller.role, [])
    return scope_from(caller.role, await Area.filter(user_links__user_id=caller.id))


def scope_from(role: str, assigned: list[Area]) -> Scope:
    """The scope of a user of `role` assigned to the areas `assigned`."""
    if role == "admin":
        return Scope(everything=True)
    if role == "provider":
        # Providers reach households only through the needs dispatched to them, never by area.
        return Scope(everything=False)
    by_level: dict[str, set[uuid.UUID]] = {"county": set(), "township": set(), "community": set()}
    above: set[uuid.UUID] = set()
    for area in assigned:
        by_level[area.level].add(area.id)
        above |= {area.county_id, area.township_id} - {None}
    return Scope(
        everything=False,
        counties=frozenset(by_level["county"]),
        townships=frozenset(by_level["township"]),
        communities=frozenset(by_level["community"]),
        above=frozenset(above),
    )


# The join from each area-bound model to the area row whose county, township and community ids the scope filters.
AREA_PATH: dict[type[Model], str] = {
    Area: "",
    ExportJob: "area__",
    Household: "community__",
    Submission: "household__community__",
    HouseholdConflict: "household__community__",
    LedgerEntry: "household__community__",
    Need: "household__community__",
    SubmissionAttachment: "submission__household__community__",
}


async def visible(caller: Caller, model: type[M]) -> QuerySet[M]:
    """The rows of `model` the caller may see."""
    return model.filter((await scope_of(caller)).areas(AREA_PATH[model]))


async def households_scanned(caller: Caller, query: QuerySet[Household]) -> QuerySet[Household]:
    """`query` (already filtered) narrowed to the households the caller may see, for a filter that reads every row
    anyway (a substring of a text column).

    The area join of `visible` leads both planners to walk the households community by community through the
    community index, one row lookup each (on SQLite, 100,000 households took ~4x a plain scan). Here the scope is
    tested on each row the filter kept, against the communities in scope: the filter must come first in `query`,
    and the community is read through an expression so that no index is walked for it."""
    scope = await scope_of(caller)
    if scope.everything:
        return query
    communities = Area.filter(scope.areas(), level="community").values("id")
    return query.annotate(home=Coalesce(F("community_id"), F("community_id"))).filter(home__in=Subquery(communities))


def under(model: type[Model], area_id: uuid.UUID) -> Q:
    """Filter for rows of `model` in the area `area_id` or below it (a county, township or community)."""
    via = AREA_PATH[model]
    return Q(*(Q(**{f"{via}{level}_id": area_id}) for level in LEVELS), join_type=Q.OR)


async def get_visible(caller: Caller, model: type[M], raw_id: object, not_found: type[NotFound]) -> M:
    """The record with this id if the caller may see it; `not_found` otherwise, and for an id that is no id."""
    found = await (await visible(caller, model)).filter(id=parse_id(raw_id, not_found)).first()
    if found is None:
        raise not_found()
    return found


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


async def forms_where(caller: Caller, form: str, area: str, params: list) -> str:
    """`forms_visible_to` as SQL over the form rows of table `form` and their areas `area` (an outer join)."""
    if caller.role == "admin":
        return "1 = 1"
    if caller.role == "provider":
        return "1 = 0"
    scope = await scope_of(caller)
    above = f" OR {form}.area_id IN ({sql.placeholders(sorted(map(str, scope.above)), params)})" if scope.above else ""
    return f"({form}.area_id IS NULL{above} OR {scope.where(area, params)})"
