"""Answers a form starts from for one household: what the household file knows (forms/prefill.py says which).

The phone gets the same file through sync and prefills offline; this is the server's answer for one household, for
the console and for a phone that is online. The household must be in the caller's scope (else 404), the form version
one the caller may see and fill.
"""

from __future__ import annotations

from server.core import audit
from server.core.caller import Caller
from server.core.sensitive import mask_member
from server.households import registry
from server.households.ledgers import station_today
from server.models import Member
from server.settings import Settings
from server.surveys import versions


async def prefill(caller: Caller, settings: Settings, household_id: str, slug: str, number: int) -> dict:
    household = await registry.get_household(caller, household_id)
    version = await versions.get_version(caller, slug, number)
    members = await Member.filter(household_id=household.id, removed_at__isnull=True).order_by("created_at", "id")
    file = {
        "address": household.address, "phone": household.phone, "head": household.head,
        "situation": household.situation,
        "members": [{**mask_member(m.data), "id": str(m.id)} for m in members],
    }
    await audit.record(caller, "household.read", "household", household.id, household_id=household.id,
                       part="prefill", form=slug, version=number)
    today = station_today(settings).isoformat()  # for ages (prefill_members)
    return {"household": str(household.id), "form": slug, "version": number,
            "data": versions.compiled(version).prefill(file, today)}
