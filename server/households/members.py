"""Members as replies show them, their ID numbers masked, and the one way to see a whole number: a reveal.

Workers see masked numbers too: they typed them, and the phones that need them keep their own copy. A supervisor,
the bureau or an admin may reveal one member's number (to fill in an application for 低保, say); every reveal is in
the audit log as `household.id_revealed`, and the number itself is in no log.
"""

from __future__ import annotations

from typing import Any

from server.core import audit
from server.core.caller import Caller
from server.core.ids import parse_id
from server.core.problems import MemberNotFound
from server.core.scope import visible
from server.core.sensitive import ID_NUMBER_FIELD, mask_id_number, mask_member
from server.models import Household, Member

# The fields every member of a file shows, null when no form has bound them yet; other bound fields follow them.
SHOWN = ("name", "relation", "gender", "birth_date", ID_NUMBER_FIELD)


def member_as_api(member: Member) -> dict:
    data = mask_member(member.data)
    return {"id": str(member.id), **{name: data.get(name) for name in SHOWN}, "tags": data.get("tags") or [],
            **data, "observed_at": {k: v["at"] for k, v in member.meta.items()}}


def masked_value(field: str, member_bound: bool, value: Any) -> Any:
    """A value of the history or of a conflict, as replies show it: a member's ID number masked, and a whole member
    (added or removed) with its ID number masked."""
    if not member_bound:
        return value
    if field == ID_NUMBER_FIELD:
        return None if value is None else mask_id_number(value)
    if field == "member" and isinstance(value, dict):
        return mask_member(value)
    return value


async def reveal_id_number(caller: Caller, member_id: str) -> tuple[Member, Any]:
    """A member's whole ID number (None when no form has bound one), recorded in the audit log. A member of a
    household outside the caller's areas is answered as one that does not exist."""
    member = await Member.filter(id=parse_id(member_id, MemberNotFound)).first()
    if member is None or not await (await visible(caller, Household)).filter(id=member.household_id).exists():
        raise MemberNotFound()
    await audit.record(caller, "household.id_revealed", "member", member.id, household_id=member.household_id,
                       field=ID_NUMBER_FIELD)
    return member, member.data.get(ID_NUMBER_FIELD)
