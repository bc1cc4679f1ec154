"""The needs a household file shows, and what became of each: the file (`file.py`) and the archive
(`archive_contents.py`) read them alike, a batch of households in five queries whatever their number."""

from __future__ import annotations

import uuid

from server.core.sensitive import mask_id_numbers_in
from server.models import CatalogueItem, Need, NeedEvent, Provider, Submission


async def needs_by_household(ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict]]:
    """Every need of each household, newest first, with the catalogue's names, the visit that raised it (none for
    one entered at the station) and its outcome: null until someone acted on it, then its state, provider, the last
    action's time and reason, and the household's rating."""
    needs = await Need.filter(household_id__in=ids)
    if not needs:
        return {}
    # Only the visit of each submission: its answers are not read again.
    visit_of = dict(await Submission.filter(id__in={n.submission_id for n in needs if n.submission_id}).values_list(
        "id", "visit_id"))
    names = dict(await CatalogueItem.filter(code__in={n.item for n in needs}).values_list("code", "name"))
    providers = dict(await Provider.filter(id__in={n.provider_id for n in needs if n.provider_id}).values_list(
        "id", "name"))
    last: dict[uuid.UUID, NeedEvent] = {}
    for event in await NeedEvent.filter(need_id__in=[n.id for n in needs]).exclude(
            action__in=("raise", "consent")).order_by("at", "id"):
        last[event.need_id] = event
    needs.sort(key=lambda n: (n.raised_at, str(n.submission_id), -_position(n.pointer)), reverse=True)
    found: dict[uuid.UUID, list[dict]] = {}
    for n in needs:
        found.setdefault(n.household_id, []).append({
            "id": str(n.id), "item": n.item, "item_name": names.get(n.item), "urgency": n.urgency,
            "description": mask_id_numbers_in(n.description), "member": mask_id_numbers_in(n.member),
            "pointer": n.pointer,
            "submission": str(n.submission_id) if n.submission_id else None,
            "visit": str(visit_of[n.submission_id]) if n.submission_id else None,
            "raised_at": n.raised_at.isoformat(), "due_at": n.due_at.isoformat(), "status": n.status,
            "outcome": None if n.id not in last else {
                "status": n.status, "provider": str(n.provider_id) if n.provider_id else None,
                "provider_name": providers.get(n.provider_id), "at": last[n.id].at.isoformat(),
                "reason": last[n.id].reason, "rating": n.rating},
        })
    return found


def _position(pointer: str | None) -> int:
    """A need's row in its submission's list (/needs/3 → 3), so that they come in the order they were answered."""
    tail = (pointer or "").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0
