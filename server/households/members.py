"""Members as replies show them, their ID numbers masked.

Workers see masked numbers too: they typed them, and the phones that need them keep their own copy.
"""

from __future__ import annotations

from typing import Any

from server.core.sensitive import ID_NUMBER_FIELD, mask_id_number, mask_member
from server.models import Member

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

