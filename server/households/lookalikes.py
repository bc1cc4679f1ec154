"""Files that look like the one being registered: possible duplicates, offered to the worker, never refused.

Two workers meet one household on different days, each offline, and each registers it: the server cannot refuse the
second file (the phone registered it already), it warns, and a supervisor decides and merges (`merges`). Three
rules, each within what the caller may see (a warning never tells of a file outside the caller's areas):

- `id_number`: a living member of another file has the same ID number (found by its keyed hash, as search does);
- `name_birth`: a living member of another file of the same community has the same name and birth date;
- `address`: another file of the same community has the same address once both are normalised (`address_key`).

Addresses are compared after normalising, not by an edit distance: 3 组 12 号 and 3 组 13 号 are neighbours, not
duplicates, and a distance of one character cannot tell them from a typing slip.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date

from tortoise.expressions import Q, Subquery

from server.core.caller import Caller
from server.core.scope import visible
from server.households import search
from server.models import Area, Household, Member
from server.settings import Settings

MAX_SHOWN = 20  # households offered at most, nearest first
RULES = {"id_number": "身份证号相同", "name_birth": "同一社区（村）内姓名和出生日期相同", "address": "同一社区（村）内住址相同"}
_SPACES = re.compile(r"\s+")
# Dashes, slashes and 之 between two numbers all say "building-unit" (12-3, 12/3, 12之3, 12－3).
_BETWEEN_NUMBERS = re.compile(r"(?<=\d)\s*[-‐‑‒–—―−~/之]\s*(?=\d)")
_LANE = re.compile(r"(\d+)弄(\d+)")  # 123弄4号, written 123-4号 as often
_NOT_WORD = re.compile(r"[^\w-]|_")
_COMMUNITY_SUFFIX = re.compile(r"(社区|居委会|村委会|村)$")


def address_key(address: str, community_name: str = "") -> str:
    """The address as duplicates are found by: full-width characters as half-width (NFKC), no spaces or
    punctuation, # and 號 read as 号, a trailing 号 dropped, 123弄4 as 123-4, and the community's own name (with or
    without 社区/村) dropped from its start, since both files are of that community anyway."""
    text = unicodedata.normalize("NFKC", address or "").casefold()
    text = text.replace("#", "号").replace("號", "号")
    text = _SPACES.sub("", _BETWEEN_NUMBERS.sub("-", text))
    text = _LANE.sub(r"\1-\2", _NOT_WORD.sub("", text)).removesuffix("号")
    name = _NOT_WORD.sub("", _SPACES.sub("", unicodedata.normalize("NFKC", community_name or "").casefold()))
    for prefix in (name, _COMMUNITY_SUFFIX.sub("", name)):
        if prefix and text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix):]
            break
    return text[:200]


def name_birth_key(name: object, birth_date: object) -> str | None:
    """A person's name and birth date as one person is found by (spaces and the middle dot of names such as
    买买提·艾力 left out); None unless both are there."""
    if not isinstance(name, str) or not isinstance(birth_date, str):
        return None
    try:
        born = date.fromisoformat(birth_date.strip())
    except ValueError:
        return None
    plain = re.sub(r"[\s·•・.]", "", unicodedata.normalize("NFKC", name).casefold())
    return f"{plain[:80]}|{born.isoformat()}" if plain else None


def key_member(settings: Settings, member: Member) -> None:
    """Set a member's keyed ID number and name-and-birth key from its fields (not saved here)."""
    number = member.data.get("id_number")
    member.id_number_key = search.id_number_key(settings, number) if isinstance(number, str) and number else None
    member.name_birth_key = name_birth_key(member.data.get("name"), member.data.get("birth_date"))


@dataclass(frozen=True)
class Person:
    """One person being registered: `ref` names them in the reply (the member's id, when there is one)."""

    ref: str | None
    id_number_key: str | None
    name_birth_key: str | None


def person_of(settings: Settings, ref: str | None, fields: dict) -> Person:
    number = fields.get("id_number")
    return Person(ref, search.id_number_key(settings, number) if isinstance(number, str) and number else None,
                  name_birth_key(fields.get("name"), fields.get("birth_date")))


async def find(caller: Caller, community_id: uuid.UUID | None, key: str, people: list[Person],
               exclude: uuid.UUID | None = None) -> list[dict]:
    """The living files the caller may see that look like the one described, each with why."""
    files = (await visible(caller, Household)).filter(merged_into__isnull=True)
    if exclude is not None:
        files = files.exclude(id=exclude)
    reasons: dict[uuid.UUID, list[dict]] = {}
    if community_id is not None and key:
        for hid in await files.filter(community_id=community_id, address_key=key).limit(MAX_SHOWN).values_list(
                "id", flat=True):
            reasons.setdefault(hid, []).append(_reason("address", None, None, None))
    numbers = {p.id_number_key for p in people if p.id_number_key}
    births = {p.name_birth_key for p in people if p.name_birth_key} if community_id is not None else set()
    if numbers or births:
        match = Q(id_number_key__in=list(numbers)) if numbers else Q(id__in=[])
        if births:
            same = Subquery(files.filter(community_id=community_id).values("id"))
            match |= Q(name_birth_key__in=list(births), household_id__in=same)
        found = await Member.filter(match, removed_at__isnull=True, household_id__in=Subquery(files.values("id"))) \
            .limit(MAX_SHOWN * 5).values("id", "household_id", "data", "id_number_key", "name_birth_key",
                                         community="household__community_id")
        for member in found:
            for person in people:
                rules = [("id_number", person.id_number_key, member["id_number_key"]),
                         ("name_birth", person.name_birth_key, member["name_birth_key"])]
                for rule, mine, theirs in rules:
                    if mine and mine == theirs and (rule == "id_number" or member["community"] == community_id):
                        reasons.setdefault(member["household_id"], []).append(
                            _reason(rule, member["id"], (member["data"] or {}).get("name"), person.ref))
    return await _shown(reasons)


def _reason(rule: str, member: uuid.UUID | None, name: object, ref: str | None) -> dict:
    return {"rule": rule, "detail": RULES[rule], "member": str(member) if member else None,
            "member_name": name if isinstance(name, str) else None, "yours": ref}


async def _shown(reasons: dict[uuid.UUID, list[dict]]) -> list[dict]:
    """The households as a warning shows them: the strongest reasons first (an ID number before an address)."""
    if not reasons:
        return []
    strength = {"id_number": 0, "name_birth": 1, "address": 2}
    households = {h.id: h for h in await Household.filter(id__in=list(reasons)).select_related("community")}
    order = sorted(reasons, key=lambda h: (min(strength[r["rule"]] for r in reasons[h]), -len(reasons[h]), str(h)))
    return [{"household": str(hid), "head": households[hid].head, "address": households[hid].address,
             "community": str(households[hid].community_id), "community_name": households[hid].community.name,
             "reasons": reasons[hid]} for hid in order[:MAX_SHOWN]]


async def for_registration(caller: Caller, household: Household) -> list[dict]:
    """What a newly registered household looks like: its address (a registration names no person yet)."""
    return await find(caller, household.community_id, household.address_key, [], exclude=household.id)


async def for_members(caller: Caller, settings: Settings, household: Household, rows: list[dict]) -> list[dict]:
    """What the members a submission or a correction carried look like, in other files than their own."""
    people = [person_of(settings, row.get("id"), row) for row in rows if not row.get("remove")]
    people = [p for p in people if p.id_number_key or p.name_birth_key]
    if not people:
        return []
    return await find(caller, household.community_id, "", people, exclude=household.id)


async def ask(caller: Caller, settings: Settings, community: Area, filters: dict) -> list[dict]:
    """Before registering: the files that look like a household of `community` at `address`, whose head is `head`
    born on `birth_date`, or with a member of ID number `id_number`."""
    person = person_of(settings, None, {"name": filters.get("head"), "birth_date": filters.get("birth_date"),
                                        "id_number": filters.get("id_number")})
    key = address_key(filters["address"], community.name) if filters.get("address") else ""
    people = [person] if person.id_number_key or person.name_birth_key else []
    return await find(caller, community.id, key, people)
