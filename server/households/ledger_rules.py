"""Who is on which ledger (台账), and how often they are visited: decided from what the forms bound into the file.

A ledger lists the people (elderly, children, disability) or households (assistance) of one kind. Nobody is put on
one by hand: the built-in ledger forms bind member tags (`elderly_ledger`: 老人类别, `child_file`: 儿童类别,
`disability_ledger`: 是否持有残疾人证 → `disability`, 严重精神障碍 → `mental_disorder`), birth dates and ID numbers
(an age is read from the ID number when no birth date was asked), disability type and level, and the household's
situation (`economic_survey`: 救助类型). The rules below read those values only, so a correction, a conflict settled
by a supervisor or a custom form using the same bindings moves a person on or off a ledger alike.

The visit plans (助老敲门, 护童 follow-ups) are data: `PLANS`, first match per ledger wins. Changing the table takes
effect for a household at its next visit or correction; a migration that computes the lines again (as
`0007_ledger_entries` fills them) applies it at once.
Pure: no database, no clock (today is passed in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from forms.formats import is_cn_id_number

KINDS = ("elderly", "children", "disability", "assistance")
KIND_NAMES = {"elderly": "困难老年人台账", "children": "困境儿童台账", "disability": "残疾人与精神障碍台账",
              "assistance": "低保、特困家庭台账"}
HOUSEHOLD_KINDS = frozenset({"assistance"})  # one line per household; the others one per person
ELDERLY_AGE = 60
ADULT_AGE = 18

# Tags that put someone on the elderly ledger whatever their recorded age (elderly_ledger's 老人类别 老年人, 独居,
# 空巢), unless a known age says they are younger; and the difficulties that do so from 60 on.
ELDERLY_TAGS = frozenset({"elderly", "living_alone", "empty_nest"})
ELDERLY_DIFFICULTIES = frozenset({"left_behind", "disability", "mental_disorder", "subsistence_allowance",
                                  "extreme_hardship", "low_income", "serious_illness"})
# 护童: left-behind children, orphans, children nobody raises in fact, and (under 18) disabled children.
CHILD_TAGS = frozenset({"left_behind", "orphan", "de_facto_unsupported"})
DISABILITY_TAGS = frozenset({"disability", "mental_disorder"})
ASSISTANCE = frozenset({"subsistence_allowance", "extreme_hardship"})  # 低保, 特困: as tags and as 救助类型


@dataclass(frozen=True)
class Plan:
    """One rule of the visit plans: the people of ledger `kind` who match every condition given (any of `tags`,
    and each situation target among its values) are visited every `every_days` days."""

    kind: str
    code: str
    reason: str  # zh-CN, as the ledger and the due list show it
    every_days: int
    tags: frozenset[str] = frozenset()
    situation: dict[str, frozenset[str]] = field(default_factory=dict)

    def applies(self, tags: set[str], situation: dict) -> bool:
        if self.tags and not self.tags & tags:
            return False
        return all(situation.get(target) in values for target, values in self.situation.items())

    @property
    def frequency(self) -> str:
        return FREQUENCIES.get(self.every_days, f"每 {self.every_days} 天")


def _plan(kind: str, code: str, reason: str, every_days: int, tags: tuple[str, ...] = (),
          **situation: tuple[str, ...]) -> Plan:
    return Plan(kind, code, reason, every_days, frozenset(tags), {k: frozenset(v) for k, v in situation.items()})


FREQUENCIES = {7: "每周", 14: "每两周", 30: "每月", 90: "每季度"}
# The elderly ledger form itself requires weekly visits of high-risk elders (its if/then on 风险等级); 独居 is asked
# both as a tag of the elder and as the family structure.
PLANS: tuple[Plan, ...] = (
    _plan("elderly", "high_risk", "高风险老人", 7, risk_level=("high",)),
    _plan("elderly", "living_alone", "独居老人", 7, ("living_alone",)),
    _plan("elderly", "living_alone", "独居老人", 7, family_structure=("living_alone",)),
    _plan("elderly", "other", "困难老年人", 30),
    _plan("children", "unsupervised", "无人监护儿童", 7, guardianship=("none",)),
    _plan("children", "other", "困境儿童", 30),
    _plan("disability", "mental_risk", "有风险的严重精神障碍患者", 14, ("mental_disorder",), risk_level=("1", "2", "3")),
    _plan("disability", "mental", "严重精神障碍患者", 30, ("mental_disorder",)),
    _plan("disability", "other", "残疾人", 90),
    # A household's tags are its members' and its 救助类型 (`household_tags`).
    _plan("assistance", "extreme_hardship", "特困家庭", 30, ("extreme_hardship",)),
    _plan("assistance", "other", "低保家庭", 90),
)
assert all(any(p.kind == k and not p.tags and not p.situation for p in PLANS) for k in KINDS), "a catch-all per kind"


def plan_for(kind: str, tags: set[str], situation: dict) -> Plan:
    return next(p for p in PLANS if p.kind == kind and p.applies(tags, situation))


def tags_of(data: dict) -> set[str]:
    tags = data.get("tags")
    return {t for t in tags if isinstance(t, str)} if isinstance(tags, list) else set()


def birth_date_of(data: dict) -> date | None:
    """The birth date answered, or else the one an ID number carries (GB 11643: digits 7 to 14)."""
    answered = data.get("birth_date")
    if isinstance(answered, str):
        try:
            return date.fromisoformat(answered)
        except ValueError:
            pass
    number = data.get("id_number")
    if isinstance(number, str) and len(number) == 18 and is_cn_id_number(number.upper()):
        try:
            return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            return None
    return None


def age_on(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def adult_from(today: date) -> date:
    """Born on or before this date, one is 18 today (a child born on 29 February comes of age on 1 March)."""
    try:
        return today.replace(year=today.year - ADULT_AGE)
    except ValueError:
        return today.replace(year=today.year - ADULT_AGE, day=28)


def person_kinds(data: dict, today: date) -> list[str]:
    """The person ledgers a member is on, in the order of `KINDS`."""
    tags, age = tags_of(data), age_on(birth_date_of(data), today)
    kinds = []
    if (tags & ELDERLY_TAGS and (age is None or age >= ELDERLY_AGE)) or (
            age is not None and age >= ELDERLY_AGE and tags & ELDERLY_DIFFICULTIES):
        kinds.append("elderly")
    if (age is not None and age < ADULT_AGE and tags & (CHILD_TAGS | {"disability"})) or (
            age is None and tags & CHILD_TAGS and not tags & ELDERLY_TAGS):
        kinds.append("children")
    if tags & DISABILITY_TAGS or data.get("disability_type") or data.get("disability_level") \
            or data.get("health") == "disabled":  # economic_survey's 健康状况 残疾
        kinds.append("disability")
    return kinds


def household_tags(situation: dict, members: list[dict]) -> set[str]:
    """What a household-level ledger matches on: its members' tags, and its 救助类型 as a tag."""
    tags = set().union(*(tags_of(m) for m in members)) if members else set()
    if situation.get("assistance_type") in ASSISTANCE:
        tags.add(situation["assistance_type"])
    return tags


@dataclass(frozen=True)
class Wanted:
    """A line a household's file puts on a ledger: `member` None for a household line."""

    member: Any
    kind: str
    plan: Plan
    birth_date: date | None


def entries_for(situation: dict, members: list[tuple[Any, dict]], today: date) -> dict[tuple[Any, str], Wanted]:
    """Every ledger line of one household, by (member id or None, kind); `members` are (id, data) of the living."""
    wanted: dict[tuple[Any, str], Wanted] = {}
    for member_id, data in members:
        for kind in person_kinds(data, today):
            plan = plan_for(kind, tags_of(data), situation)
            wanted[(member_id, kind)] = Wanted(member_id, kind, plan, birth_date_of(data))
    tags = household_tags(situation, [data for _, data in members])
    if tags & ASSISTANCE:
        wanted[(None, "assistance")] = Wanted(None, "assistance", plan_for("assistance", tags, situation), None)
    return wanted
