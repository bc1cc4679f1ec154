"""Finding households: by area, ledger, tags and text, as workers type it on phones.

`ledger` keeps the households with a current line on that ledger, `tag` those carrying every tag given (on one of
their living members, or as their 救助类型), each by a subquery on the rows `ledgers.sync` keeps (`LedgerEntry`,
`HouseholdTag`), so the database filters and pages them alike.

`q` is matched three ways. A full ID number finds its person by a keyed hash (the index holds no number in clear).
Latin letters are pinyin: full (`zhangsan`) or initials (`zs`), each matching the start of a word, with the common
polyphones of surnames read as surnames (单 shan, 曾 zeng). Anything else is a substring of the household head's and
members' names, the address or the phone, on both databases alike. What is searched lives in columns of its own,
kept up to date whenever the file changes (`index`). On PostgreSQL a substring of two characters or more is first
looked up by its 2-character pieces in a GIN index (migration 0018, `Bigrams`); the LIKE stays the exact check.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import lazy_pinyin
from pypika_tortoise.terms import BasicCriterion, Function, ValueWrapper
from tortoise.contrib.postgres.array_functions import PostgresArrayOperators
from tortoise.expressions import Q, ResolveContext, Subquery
from tortoise.query_utils import QueryModifier
from tortoise.transactions import in_transaction

from forms.bindings import MEMBER_TAGS
from forms.formats import is_cn_id_number
from server.core import sql
from server.core.caller import Caller
from server.core.ids import parse_id
from server.core.pagination import Page, paginate
from server.core.problems import invalid
from server.core.scope import households_scanned, under, visible
from server.households.ledger_rules import KINDS
from server.households.ledgers import current, station_today
from server.models import Area, Household, HouseholdTag, LedgerEntry, Member
from server.settings import Settings

# Surnames read otherwise than the same character in a word (pypinyin reads 单 dan, 曾 ceng, 解 jie…), by syllable;
# the compound ones first, so that they are found before their first character.
SURNAMES = {
    "万俟": "mo qi", "尉迟": "yu chi", "长孙": "zhang sun", "单于": "chan yu", "澹台": "tan tai",
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha", "盖": "ge",
    "覃": "qin", "翟": "zhai", "缪": "miao", "召": "shao", "繁": "po", "员": "yun", "种": "chong", "秘": "bi",
    "能": "nai", "句": "gou", "隗": "wei", "祭": "zhai", "眭": "sui", "訾": "zi", "乜": "nie", "谌": "chen",
    "郇": "xun", "冼": "xian", "折": "she", "厍": "she", "粘": "nian", "相": "xiang", "应": "ying", "薄": "bo",
    "重": "chong", "宿": "su", "过": "guo", "参": "shen",
}
Q_LENGTH = 50
_LATIN = re.compile(r"^[a-z]+$")
_HAN = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")


def id_number_key(settings: Settings, id_number: str) -> str:
    """The keyed hash an ID number is found by (the check letter upper-cased, as the number is written)."""
    return hmac.new(settings.secret.encode(), id_number.strip().upper().encode(), hashlib.sha256).hexdigest()


def name_pinyin(name: str) -> list[str]:
    """The words a name is found by: its full pinyin and its initials, its surname read as a surname."""
    name = "".join(name.split())
    if not _HAN.search(name):
        return []
    surname = next((s for s in SURNAMES if name.startswith(s)), "")
    syllables = (SURNAMES[surname].split() if surname else []) + lazy_pinyin(name[len(surname):], errors="ignore")
    return ["".join(syllables), "".join(s[0] for s in syllables)]


def index(household: Household, members: Iterable[Member]) -> None:
    """Set the household's search columns from its head, address, phone and living members (not saved here)."""
    names = [household.head, household.situation.get("head_name") or ""]
    names += [m.data.get("name") or "" for m in members if m.removed_at is None and isinstance(m.data.get("name"), str)]
    names = [n for n in dict.fromkeys(n.strip() for n in names if isinstance(n, str)) if n]
    texts = names + [household.address, household.phone or "", str(household.situation.get("address") or ""),
                     str(household.situation.get("phone") or "")]
    household.search_text = "\n".join(t.lower() for t in texts if t)
    household.search_pinyin = "".join(f" {word}" for name in names for word in name_pinyin(name))


async def find(caller: Caller, settings: Settings, filters: dict, cursor: str | None) -> Page:
    """The households the caller may see, filtered by `area`, `ledger`, `tags` (a list) and `q`, oldest first."""
    text = (filters.get("q") or "").strip()
    matching = await _matching(settings, text) if text else None
    if matching is not None and matching.scans:
        query = await households_scanned(caller, Household.filter(matching.q))
    else:
        query = await visible(caller, Household)
        if matching is not None:
            query = query.filter(matching.q)
    query = query.filter(merged_into__isnull=True)  # a merged file lives on in another
    if filters.get("area"):
        # By the communities of the area, joining nothing: a join would name community_id twice.
        area = under(Area, parse_id(filters["area"], pointer="/area"))
        query = query.filter(community_id__in=Subquery(Area.filter(area, level="community").values("id")))
    if kind := filters.get("ledger"):
        if kind not in KINDS:
            raise invalid("/ledger", f"台账只有 {'、'.join(KINDS)} 四种")
        lines = LedgerEntry.filter(current(station_today(settings)), kind=kind)
        query = query.filter(id__in=Subquery(lines.values("household_id")))
    for tag in parse_tags(filters.get("tags") or []):
        query = query.filter(id__in=Subquery(HouseholdTag.filter(tag=tag).values("household_id")))
    if matching is not None and matching.pieces:
        # Planned for this query's own pieces, never by a plan cached for any: a generic plan guesses a handful of
        # rows and joins the scope by a nested loop, 460 ms for a text that 60,000 of 100,000 households hold.
        async with in_transaction() as conn:
            await conn.execute_script("SET LOCAL plan_cache_mode = force_custom_plan")
            return await paginate(query, cursor, order=("created_at", "id"), shape=summary)
    return await paginate(query, cursor, order=("created_at", "id"), shape=summary)


def parse_tags(given: list[str]) -> list[str]:
    """The tags asked for, given as repeated parameters or comma lists (`tag=living_alone,disability`)."""
    tags = list(dict.fromkeys(t.strip() for value in given for t in value.split(",") if t.strip()))
    if unknown := [t for t in tags if t not in MEMBER_TAGS]:
        raise invalid("/tag", f"未知的标签「{unknown[0][:32]}」；可用的标签：{'、'.join(MEMBER_TAGS)}")
    return tags


@dataclass(frozen=True)
class Matching:
    q: Q
    scans: bool  # a substring: every row is read, or (`pieces`) the rows the bigram index gives
    pieces: bool = False


async def _matching(settings: Settings, text: str) -> Matching:
    if len(text) > Q_LENGTH or not text.isprintable():
        raise invalid("/q", f"搜索内容应为不超过 {Q_LENGTH} 个可见字符")
    if is_cn_id_number(text.upper()) and len(text) == 18:
        # The few households of the person, as values: the planners then look them up by key, where a subquery
        # left them walking every household in scope.
        key = id_number_key(settings, text)
        found = await Member.filter(id_number_key=key, removed_at__isnull=True).values_list("household_id", flat=True)
        return Matching(Q(id__in=sorted(set(found))), scans=False)
    lowered = text.lower().replace(" ", "")
    if _LATIN.match(lowered):
        return Matching(Q(search_pinyin__contains=f" {lowered}"), scans=True)
    lowered = text.lower()
    if len(lowered) > 1 and sql.is_postgres(sql.connection()):
        # The index lookup first (it comes first in the WHERE), then the exact check on the few rows it leaves.
        return Matching(Q(Bigrams(lowered), Q(search_text__contains=lowered)), scans=True, pieces=True)
    return Matching(Q(search_text__contains=lowered), scans=True)


class Bigrams(Q):
    """PostgreSQL only: the households whose `search_text` holds every 2-character piece of `text`, which every
    household holding `text` does; the GIN index on `doorstep_bigrams(search_text)` (migration 0018) answers it.
    The text goes in as a parameter."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def __bool__(self) -> bool:  # a Q without filters counts as empty
        return True

    def resolve(self, resolve_context: ResolveContext) -> QueryModifier:
        pieces = Function("doorstep_bigrams", resolve_context.table["search_text"])
        wanted = Function("doorstep_bigrams", ValueWrapper(self.text))
        return QueryModifier(where_criterion=BasicCriterion(PostgresArrayOperators.CONTAINS, pieces, wanted))


def summary(household: Household) -> dict:
    return {
        "id": str(household.id),
        "community": str(household.community_id),
        "head": household.head,
        "address": household.address,
        "phone": household.phone,
        "updated_at": household.updated_at.isoformat(),
    }
