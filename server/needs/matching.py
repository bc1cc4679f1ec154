"""Matching a need with providers: those whose offers cover its item and whose areas cover the household's community,
with capacity left this month, ranked by their record, each with the reasons for its place in words.

The record: the share of dispatches accepted (of those accepted or declined), the median days from dispatch to done,
and the mean rating, over the last year. A provider without a record counts as middling on that point (0.5), so a
new organisation is offered work and earns one. The score weighs acceptance 0.4, speed 0.3 and ratings 0.3.
"""

from __future__ import annotations

import statistics
import uuid
from datetime import timedelta

from tortoise.functions import Avg, Count

from server.core.caller import Caller
from server.core.clock import now
from server.models import Area, Household, Need, NeedEvent, Provider, ProviderOffer
from server.needs import supply
from server.needs.reading import get_need
from server.settings import Settings

YEAR = timedelta(days=365)
WEIGHTS = {"acceptance": 0.4, "speed": 0.3, "rating": 0.3}
DONE = ("done", "evaluated")


async def matches(caller: Caller, settings: Settings, need_id: str) -> dict:
    need = await get_need(caller, need_id)
    household = await Household.get(id=need.household_id)
    community = await Area.get(id=household.community_id)
    offers = {o.provider_id: o for o in await ProviderOffer.filter(item=need.item)}
    serving = await supply.serves(list(offers), community)
    stamp = now()
    taken = await supply.taken_this_month(settings, list(serving), [need.item], stamp, besides=need.id)
    left = {p: offers[p].monthly_capacity - taken.get((p, need.item), 0) for p in serving}
    candidates = [p for p in serving if left[p] > 0]
    names = dict(await Provider.filter(id__in=candidates).values_list("id", "name"))
    records = await _records(candidates, stamp - YEAR)
    ranked = []
    for provider_id in candidates:
        score, reasons = _score(records.get(provider_id, {}))
        offer = offers[provider_id]
        reasons.append(f"本月还可接 {left[provider_id]} 单（共 {offer.monthly_capacity} 单）")
        ranked.append({"provider": str(provider_id), "provider_name": names.get(provider_id, ""),
                       "score": round(score, 3), "capacity_left": left[provider_id], "free": offer.free,
                       "price": offer.price, "contact": offer.contact, "reasons": reasons,
                       **{k: records.get(provider_id, {}).get(k) for k in ("acceptance_rate", "median_days_to_done",
                                                                             "mean_rating")}})
    ranked.sort(key=lambda m: (-m["score"], m["provider_name"], m["provider"]))
    return {"need": str(need.id), "items": ranked, "next_cursor": None}


async def _records(providers: list[uuid.UUID], since) -> dict[uuid.UUID, dict]:
    """Each provider's record over the period: three grouped queries and one of durations."""
    if not providers:
        return {}
    records: dict[uuid.UUID, dict] = {p: {} for p in providers}
    answers = await NeedEvent.filter(provider_id__in=providers, action__in=("accept", "decline"), at__gte=since) \
        .annotate(n=Count("id")).group_by("provider_id", "action").values("provider_id", "action", "n")
    for row in answers:
        records[row["provider_id"]][row["action"]] = row["n"]
    for record in records.values():
        answered = record.get("accept", 0) + record.get("decline", 0)
        record["answered"] = answered
        record["acceptance_rate"] = round(record.get("accept", 0) / answered, 3) if answered else None
    durations: dict[uuid.UUID, list[float]] = {}
    for row in await Need.filter(provider_id__in=providers, status__in=DONE, done_at__gte=since).values(
            "provider_id", "dispatched_at", "done_at"):
        days = (row["done_at"] - row["dispatched_at"]).total_seconds() / 86400
        durations.setdefault(row["provider_id"], []).append(days)
    for provider_id, found in durations.items():
        records[provider_id]["median_days_to_done"] = round(statistics.median(found), 1)
        records[provider_id]["done"] = len(found)
    ratings = await Need.filter(provider_id__in=providers, rating__isnull=False, done_at__gte=since) \
        .annotate(mean=Avg("rating"), n=Count("id")).group_by("provider_id").values("provider_id", "mean", "n")
    for row in ratings:
        records[row["provider_id"]]["mean_rating"] = round(float(row["mean"]), 2)
        records[row["provider_id"]]["ratings"] = row["n"]
    return records


def _score(record: dict) -> tuple[float, list[str]]:
    reasons = []
    rate = record.get("acceptance_rate")
    if rate is None:
        acceptance = 0.5
        reasons.append("近一年没有接单或拒单记录，接单率按中等计")
    else:
        acceptance = rate
        reasons.append(f"近一年接单率 {rate:.0%}（{record['answered']} 次派单中接 {record.get('accept', 0)} 次）")
    median = record.get("median_days_to_done")
    if median is None:
        speed = 0.5
        reasons.append("近一年没有完成的服务，办理速度按中等计")
    else:
        speed = 1 / (1 + median / 7)
        reasons.append(f"从派单到完成的中位天数 {median:g} 天（{record['done']} 单）")
    mean = record.get("mean_rating")
    if mean is None:
        rating = 0.5
        reasons.append("近一年没有评价，评分按中等计")
    else:
        rating = (mean - 1) / 4
        reasons.append(f"平均评分 {mean:g} 分（满分 5 分，{record['ratings']} 次评价）")
    score = WEIGHTS["acceptance"] * acceptance + WEIGHTS["speed"] * speed + WEIGHTS["rating"] * rating
    return score, reasons
