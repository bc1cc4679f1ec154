"""The needs a household file carries to the phones in offline sync (`server.households.sync`): what a worker at the
door needs to know — what the household asked for, how urgent, where it stands, whether it is late — and no more
(no provider, no contact, no history: those stay at the station).

Compact, since a first sync carries hundreds of them (bench/sync.py): an item by its code only — the phone holds the
catalogue, retired items included, and gets it again when it changes, so a renamed item shows its new name without
every file that uses it coming again — and times to the second.

Which: every need still under way (raised, dispatched, accepted, in service), and those finished (done, evaluated or
closed) and last acted on in the last `FINISHED_DAYS` days, so that a worker back at the door can speak of a service just done and take
the household's rating of it (a service done months ago and never rated is the station's business, not the door's).
A file comes again whenever one of its needs changes (the need's write touches the household: migrations/
0013_need_sync.py); a finished need that ages past the window goes at the file's next change, and the phone may drop
it sooner by the same rule.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tortoise.expressions import Q

from server.core.clock import now
from server.core.sensitive import mask_id_numbers_in
from server.models import Need
from server.needs.reading import OPEN

FINISHED = ("done", "evaluated", "closed")
FINISHED_DAYS = 90
# An ID number typed where a name or a description goes (a form's free-text member field, say): the phone keeps it
# masked like every other ID number. 18 characters (GB 11643), or the old 15 digits.


async def needs_of(household_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict]]:
    """household → its needs as the phones carry them, oldest first: one query whatever their number."""
    if not household_ids:
        return {}
    at = now()
    carried: dict[uuid.UUID, list[dict]] = {}
    rows = await Need.filter(household_id__in=household_ids).filter(
        Q(status__not_in=FINISHED) | Q(updated_at__gte=at - timedelta(days=FINISHED_DAYS))).order_by(
        "raised_at", "id").values("id", "household_id", "item", "urgency", "status", "description", "member",
                                  "raised_at", "due_at")
    for row in rows:
        carried.setdefault(row["household_id"], []).append(need_as_carried(row, at))
    return carried


def need_as_carried(row: dict, at: datetime) -> dict:
    return {
        "id": str(row["id"]),
        "item": row["item"],
        "urgency": row["urgency"],
        "status": row["status"],
        "description": mask_id_numbers_in(row["description"]),
        "member": mask_id_numbers_in(row["member"]),
        "raised_at": row["raised_at"].isoformat(timespec="seconds"),
        "due_at": row["due_at"].isoformat(timespec="seconds"),
        # As of this reply: the phone compares `due_at` with its own clock afterwards.
        "overdue": row["status"] in OPEN and row["due_at"] < at,
    }

