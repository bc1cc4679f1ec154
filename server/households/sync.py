"""Offline sync: what changed in the caller's areas since a cursor — the forms they may fill, the household files, the
service catalogue — a page at a time, for phones that stay offline for days on a weak network.

**The cursor is a place in one change sequence, not a time.** A time cursor misses writes: a transaction that
stamped `updated_at = 10:00:00` but commits at 10:00:02 is invisible to a sync that ran at 10:00:01 and handed out
"10:00:01". So every write of a household file (the household, a member, a conflict, a need), every published version
and every retirement of a form takes the next number of one counter, in the database (triggers: migrations/
0008_sync_changes.py, 0013_need_sync.py, 0019_sync_stamp_at_commit.py), whatever code made the write. The counter
is one row that the writing transaction holds locked until it commits, so a later number is never committed before
an earlier one: once a sync has seen number n committed, it has seen everything numbered up to n. (The price: the
commits of household files go one at a time; on PostgreSQL a household takes its number as its transaction commits,
so the lock covers the commit alone; SQLite commits one at a time anyway.) The
changes of a page are read in one statement, one snapshot, with the counter's committed value: the last page's
cursor is that value, so an idle phone's next sync starts where the whole installation stood.

**Departures.** A household that leaves a community (moved by a supervisor, merged away) is recorded, by trigger, as
a departure from the community it left; a member removed, a conflict resolved or a need acted on changes its
household's number, and the file is sent again whole, with its needs (`server.needs.offline`). A file whose
household the caller can no longer see when the page is read goes in `gone`, and the phone drops it: whatever the
reason, what the phone keeps is what the caller may see.

**Resets.** The cursor also carries a fingerprint of the caller's areas (a worker given another community, a
community moved to another township): when that changes, the reply says `reset` and starts from the beginning, since
files unchanged in the new areas would never come otherwise. The same when the counter stands below the cursor (the
database was restored from a backup). The catalogue goes along whole when its content differs from the fingerprint
in the cursor (it changes once a year, and has no departures).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from tortoise.functions import Count

from server.core import audit, canonical, sql
from server.core.caller import Caller
from server.core.problems import invalid
from server.core.scope import forms_where, scope_of, visible
from server.households import registry
from server.models import Area, Form, FormVersion, Household, HouseholdConflict, Member
from server.needs.offline import needs_of
from server.surveys.catalogue import get_catalogue
from server.surveys.versions import version_as_api

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# A place in the change sequence, and the fingerprints of the caller's areas and of the catalogue.
CURSOR_PATTERN = r"^(0|[1-9][0-9]{0,17})\.([0-9a-f]{8})\.([0-9a-f]{8})$"
_CURSOR = re.compile(CURSOR_PATTERN)


@dataclass(frozen=True)
class Cursor:
    seq: int
    areas: str  # fingerprint of the caller's areas
    catalogue: str  # fingerprint of the catalogue's content

    def __str__(self) -> str:
        return f"{self.seq}.{self.areas}.{self.catalogue}"


def parse_cursor(since: str | None) -> Cursor | None:
    if since is None or since == "":
        return None
    found = _CURSOR.fullmatch(since)
    if found is None:
        raise invalid("/since", "同步游标无效，请不带 since 重新完整同步")
    return Cursor(int(found[1]), found[2], found[3])


def parse_limit(limit: str | None) -> int:
    if limit is None or limit == "":
        return DEFAULT_LIMIT
    if not (limit.isascii() and limit.isdigit() and len(limit) <= 3 and 1 <= int(limit) <= MAX_LIMIT):
        raise invalid("/limit", f"每页条数应为 1 到 {MAX_LIMIT} 之间的整数")
    return int(limit)


@dataclass
class Changes:
    rows: list[tuple[str, uuid.UUID, int]]  # (kind, id, seq) in the order of the sequence
    seq: int  # where the next page starts
    more: bool


async def changes_since(caller: Caller, since: str | None, limit: str | None) -> dict:
    """One page of what changed in the caller's scope since the cursor `since` (everything when there is none)."""
    size, cursor = parse_limit(limit), parse_cursor(since)
    areas = await _areas_fingerprint(caller)
    catalogue = await get_catalogue()
    catalogue_print = canonical.digest(catalogue)[:8]
    reset = cursor is not None and cursor.areas != areas
    fresh = cursor is None or reset  # the phone holds nothing we must take back
    changes = await _changed(caller, 0 if fresh else cursor.seq, size, fresh)
    if not fresh and changes.seq < cursor.seq:  # the counter went back: a restored backup
        reset = fresh = True
        changes = await _changed(caller, 0, size, fresh)
    households, gone = await _households(caller, changes.rows, fresh)
    if households:
        await audit.record(caller, "households.synced", "household", None, households=len(households),
                           since=0 if fresh else cursor.seq)
    return {
        "reset": reset,
        "forms": await _versions([i for kind, i, _ in changes.rows if kind == "version"]),
        "retired_forms": await _retired([i for kind, i, _ in changes.rows if kind == "retired"]),
        "catalogue": catalogue if fresh or cursor.catalogue != catalogue_print else None,
        "households": households,
        "gone": gone,
        "next_cursor": str(Cursor(changes.seq, areas, catalogue_print)),
        "more": changes.more,
    }


async def _areas_fingerprint(caller: Caller) -> str:
    """What decides which files and forms the caller gets: the role, the areas in scope (those below the assigned
    ones included, as a community moved between townships changes them), and the areas above them."""
    scope = await scope_of(caller)
    ids = sorted(map(str, await Area.filter(scope.areas()).values_list("id", flat=True)))
    return canonical.digest([caller.role, ids, sorted(map(str, scope.above))])[:8]


async def _changed(caller: Caller, after: int, size: int, fresh: bool) -> Changes:
    """The next `size` changes after number `after`, and the counter, in one statement (one snapshot)."""
    params: list = [after]
    scope = await scope_of(caller)
    branches = [
        f"""SELECT 'household' AS kind, h.id AS id, h.sync_seq AS seq, 0 AS last FROM household h
        JOIN area a ON a.id = h.community_id WHERE h.sync_seq > $1 AND {scope.where("a", params)}""",
        # Only the latest version of a form in use: a phone fills the latest, and keeps the ones it had.
        f"""SELECT 'version', v.id, v.sync_seq, 0 FROM form_version v JOIN form f ON f.id = v.form_id
        LEFT JOIN area fa ON fa.id = f.area_id WHERE v.sync_seq > $1 AND v.version = f.latest_version
        AND f.retired_at IS NULL AND {await forms_where(caller, "f", "fa", params)}""",
    ]
    if not fresh:  # what the phone must take back; a phone that holds nothing has nothing to drop
        branches += [
            f"""SELECT 'gone', d.household_id, d.seq, 0 FROM household_departure d
            JOIN area a ON a.id = d.community_id WHERE d.seq > $1 AND {scope.where("a", params)}""",
            f"""SELECT 'retired', f.id, f.sync_seq, 0 FROM form f LEFT JOIN area fa ON fa.id = f.area_id
            WHERE f.sync_seq > $1 AND f.retired_at IS NOT NULL AND {await forms_where(caller, "f", "fa", params)}""",
        ]
    # The counter's committed value comes last of its number: every change numbered up to it is in this snapshot.
    branches.append("SELECT 'top', NULL, value, 1 FROM sync_counter WHERE id = 1")
    rows = await sql.fetch(f"SELECT kind, id, seq FROM ({' UNION ALL '.join(branches)}) changes "
                           f"ORDER BY seq, last LIMIT {size + 1}", params)
    found = [(r["kind"], sql.as_uuid(r["id"]), int(r["seq"])) for r in rows if r["kind"] != "top"]
    top = next((int(r["seq"]) for r in rows if r["kind"] == "top"), None)
    if top is None:  # more than a page: the next one starts after the last change of this one
        return Changes(found[:size], found[size - 1][2], True)
    return Changes(found, top, False)


async def _households(caller: Caller, rows: list, fresh: bool) -> tuple[list[dict], list[str]]:
    """The files of the changed households the caller may see now, with their needs (`server.needs.offline`), and
    the ids of those they may not (moved away, merged, out of the caller's areas)."""
    changed = [i for kind, i, _ in rows if kind == "household"]
    departed = [i for kind, i, _ in rows if kind == "gone"]
    if not changed and not departed:
        return [], []
    # A file merged into another is gone too: its row stays (for an undo), its content is in the survivor.
    found = {h.id: h for h in await (await visible(caller, Household)).filter(
        id__in=changed + departed, merged_into__isnull=True)}
    members: dict[uuid.UUID, list[Member]] = {}
    # A file shows a member's id and bound fields: the rest of a row, its times above all, is not converted (a first
    # sync reads thousands of members, and parsing their times took two thirds of its time).
    for member in await Member.filter(household_id__in=list(found), removed_at__isnull=True).order_by(
            "created_at", "id").only("id", "household_id", "data", "meta"):
        members.setdefault(member.household_id, []).append(member)
    conflicts = dict(await HouseholdConflict.filter(household_id__in=list(found), state="open").group_by(
        "household_id").annotate(n=Count("id")).values_list("household_id", "n"))
    # `pinyin`: the words the server's search matches Latin letters against (full pinyin and initials of the
    # names), so that the phone finds `zs` offline as the server does, without a pinyin table of its own.
    sent = [i for i in dict.fromkeys(changed) if i in found]
    needs = await needs_of(sent)
    files = [_for_phone(registry.as_api(found[i], members.get(i, []), conflicts.get(i, 0))) | {
        "pinyin": found[i].search_pinyin.split(), "needs": needs.get(i, [])} for i in sent]
    gone = [] if fresh else [str(i) for i in dict.fromkeys(changed + departed) if i not in found]
    return files, gone


def _for_phone(file: dict) -> dict:
    """A file as the phone keeps it: without the time each member field was observed, which the phone never shows
    (a tenth of a first sync's bytes; `GET /api/v1/households/{id}` has them)."""
    for member in file["members"]:
        del member["observed_at"]
    return file


async def _versions(ids: list[uuid.UUID]) -> list[dict]:
    if not ids:
        return []
    versions = await FormVersion.filter(id__in=ids).select_related("form")
    return [version_as_api(v) for v in sorted(versions, key=lambda v: v.form.slug)]


async def _retired(ids: list[uuid.UUID]) -> list[str]:
    return sorted(await Form.filter(id__in=ids).values_list("slug", flat=True)) if ids else []
