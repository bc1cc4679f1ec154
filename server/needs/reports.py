"""The needs report of an area and a month (月调度, 季督导): needs raised in the month, how many were dispatched,
accepted, done and are overdue, and the median days to accept (from dispatch) and to done (from raising); by the
areas one level below, by category and by provider. Computed in the database, GROUP BY and window functions, one
statement on either database: a county's year is a million needs, never loaded into Python.

`dispatched`, `accepted` and `done` count the needs that reached that step and are there still or beyond (a declined
need is back to raised, and counts again once dispatched anew); `overdue` counts those open past their due date at the
end of the month (or now, for the current month).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import datetime, timezone

from server.core import audit, sheets, sql
from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.problems import invalid
from server.core.scope import scope_of, visible
from server.models import Area, CatalogueCategory, Need, Provider
from server.needs.reading import month_range
from server.settings import Settings

CHILD = {"county": "township_id", "township": "community_id", "community": "community_id"}
METRICS = ("raised", "dispatched", "accepted", "done", "overdue", "median_days_to_accept", "median_days_to_done")
TITLES = ("提出", "已派单", "已接单", "已完成", "逾期", "接单中位天数", "办结中位天数")


async def needs_report(caller: Caller, settings: Settings, area: str | None, month: str) -> dict:
    start, end = month_range(settings, month)
    stamp = now()
    if start > stamp:
        raise invalid("/month", "不能统计尚未到来的月份")
    params: list = [_at(start), _at(end)]
    if area:
        found = await (await visible(caller, Area)).filter(id=parse_id(area, pointer="/area")).first()
        if found is None:
            raise invalid("/area", "该区域不存在或不在您的管辖范围内")
        params.append(str(found.id))
        where, child = f"a.{found.level}_id = $3", CHILD[found.level]
    else:
        where, child = (await scope_of(caller)).where("a", params), "township_id"
    cut = len(params) + 1
    params.append(_at(min(end, stamp)))
    reply: dict = {"area": area, "month": month}
    reply.update(await _figures(f"a.{child}", where, params, cut))
    for name in GROUPS:
        reply[name] = await _named(name, reply[name])
    return reply


GROUPS = ("by_area", "by_category", "by_provider")
MEDIANS = (("median_days_to_accept", "accepted_at", "dispatched_at"), ("median_days_to_done", "done_at", "raised_at"))


async def _figures(area_key: str, where: str, params: list, cut: int) -> dict:
    """The totals and the figures by area, category and provider, in one statement on either database."""
    if sql.is_postgres(sql.connection()):
        return await _figures_postgres(area_key, where, params, cut)
    return await _figures_sqlite(area_key, where, params, cut)


async def _figures_sqlite(area_key: str, where: str, params: list, cut: int) -> dict:
    """SQLite has neither GROUPING SETS nor a percentile: the month's needs are read once (materialised with their
    two spans); the counts are one GROUP BY over (area, category, provider), whose few rows add up to each grouping;
    a median does not add up, so each span is ranked within the area, the category, the provider and the whole (one
    ROW_NUMBER sort each) and only the one or two middle rows of each are returned, the middle found from the cells'
    counts. The rows of both kinds come back in one result: `m` is null on a cell's counts, else the span's index."""
    spans = ", ".join(f"CASE WHEN n.{later} IS NOT NULL AND n.{earlier} IS NOT NULL "
                      f"THEN {_days(f'n.{later}', f'n.{earlier}')} END AS v{i}"
                      for i, (_, later, earlier) in enumerate(MEDIANS))
    span_counts = ", ".join(f"COUNT(v{i}) AS n{i}" for i in range(len(MEDIANS)))
    middles = " ".join(_middle_rows(i, name, key) for i in range(len(MEDIANS))
                       for name, key in (("totals", None), *zip(GROUPS, ("ka", "kc", "kp"))))
    rows = await sql.fetch(f"""
        WITH d AS MATERIALIZED (
            SELECT {_keys(area_key)}, n.dispatched_at IS NOT NULL AS was_dispatched,
                   n.accepted_at IS NOT NULL AS was_accepted, n.done_at IS NOT NULL AS was_done,
                   {_overdue_at(cut)} AS is_overdue, {spans}
            {_base(where)}),
        c AS MATERIALIZED (
            SELECT ka, kc, kp, COUNT(*) AS raised, SUM(was_dispatched) AS dispatched, SUM(was_accepted) AS accepted,
                   SUM(was_done) AS done, SUM(is_overdue) AS overdue, {span_counts}
            FROM d GROUP BY ka, kc, kp)
        SELECT NULL AS m, NULL AS g, ka, kc, kp, raised, dispatched, accepted, done, overdue, NULL AS v FROM c
        {middles}""", params)
    found: dict = {"totals": {None: _empty()}} | {name: {} for name in GROUPS}
    middle: dict = {}
    for row in rows:
        if row["m"] is None:
            for name, key in (("totals", None), *zip(GROUPS, (row["ka"], row["kc"], row["kp"]))):
                figures = found[name].setdefault(_key(key), _empty())
                for metric in METRICS[:5]:
                    figures[metric] += int(row[metric] or 0)
        else:
            middle.setdefault((row["m"], row["g"], _key(row["ka"])), []).append(float(row["v"]))
    for (m, name, key), days in middle.items():
        found[name][key][MEDIANS[m][0]] = round(sum(days) / len(days), 1)
    found["totals"] = found["totals"][None]
    return found


def _middle_rows(span: int, grouping: str, key: str | None) -> str:
    """The middle one or two rows of a span ranked within each group of a grouping (the whole when `key` is None)."""
    k, partition, group = (key, f"PARTITION BY {key} ", f" GROUP BY {key}") if key else ("NULL", "", "")
    return f"""UNION ALL SELECT {span}, '{grouping}', x.k, NULL, NULL, NULL, NULL, NULL, NULL, NULL, x.v
        FROM (SELECT {k} AS k, v{span} AS v, ROW_NUMBER() OVER ({partition}ORDER BY v{span}) AS r
              FROM d WHERE v{span} IS NOT NULL) x
        JOIN (SELECT {k} AS k, SUM(n{span}) AS n FROM c{group}) m ON x.k IS m.k
        WHERE x.r IN ((m.n + 1) / 2, (m.n + 2) / 2)"""


async def _figures_postgres(area_key: str, where: str, params: list, cut: int) -> dict:
    """The same figures on PostgreSQL, where GROUPING SETS and percentile_cont do what SQLite is given by hand above
    (the median of an even number of values is the mean of the middle two there too)."""
    medians = ", ".join(f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {_days(f'n.{later}', f'n.{earlier}')}) AS {m}"
                        for m, later, earlier in MEDIANS)
    rows = await sql.fetch(f"""
        SELECT {_keys(area_key)}, GROUPING({area_key}, n.category, n.provider_id) AS g, COUNT(*) AS raised,
               COUNT(n.dispatched_at) AS dispatched, COUNT(n.accepted_at) AS accepted, COUNT(n.done_at) AS done,
               SUM(CASE WHEN {_overdue_at(cut)} THEN 1 ELSE 0 END) AS overdue, {medians}
        {_base(where)} GROUP BY GROUPING SETS (({area_key}), (n.category), (n.provider_id), ())""", params)
    found: dict = {"totals": _empty()} | {name: {} for name in GROUPS}
    for row in rows:
        figures = {m: int(row[m] or 0) for m in METRICS[:5]} | {
            m: None if row[m] is None else round(float(row[m]), 1) for m in METRICS[5:]}
        # GROUPING sets a bit for each column left out of the row's grouping set: area 4, category 2, provider 1.
        if row["g"] == 7:
            found["totals"] = figures
        else:
            name, key = {3: ("by_area", "ka"), 5: ("by_category", "kc"), 6: ("by_provider", "kp")}[row["g"]]
            found[name][_key(row[key])] = figures
    return found


def _base(where: str) -> str:
    return (f"FROM need n JOIN household h ON h.id = n.household_id JOIN area a ON a.id = h.community_id "
            f"WHERE n.raised_at >= $1 AND n.raised_at < $2 AND {where}")


def _overdue_at(cut: int) -> str:
    """Open past its due date at the cut (the month's end, or now): not done nor closed by then, whatever it is
    now (a need overdue at the end of March and done in April counts in March's report)."""
    return (f"n.due_at < ${cut} AND (n.done_at IS NULL OR n.done_at >= ${cut}) "
            f"AND (n.closed_at IS NULL OR n.closed_at >= ${cut})")


def _keys(area_key: str) -> str:
    return f"{area_key} AS ka, n.category AS kc, n.provider_id AS kp"


def _at(value: datetime):
    """A time as the need table's columns hold it (text in UTC on SQLite, compared as text there)."""
    return Need._meta.fields_map["raised_at"].to_db_value(value.astimezone(timezone.utc), None)


def _days(later: str, earlier: str) -> str:
    if sql.is_postgres(sql.connection()):
        return f"EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0"
    return f"(julianday({later}) - julianday({earlier}))"


def _key(value) -> str | None:
    return None if value is None else str(value)


def _empty() -> dict:
    return {m: (0 if i < 5 else None) for i, m in enumerate(METRICS)}


async def _named(group: str, found: dict) -> list[dict]:
    keys = [k for k in found if k is not None]
    if group == "by_area":
        names = {str(i): n for i, n in await Area.filter(id__in=keys).values_list("id", "name")}
    elif group == "by_category":
        names = dict(await CatalogueCategory.filter(code__in=keys).values_list("code", "name"))
    else:
        names = {str(i): n for i, n in await Provider.filter(id__in=keys).values_list("id", "name")}
    rows = [{"key": k, "name": names.get(k) if k else None} | m for k, m in found.items()]
    return sorted(rows, key=lambda r: (r["key"] is None, r["name"] or "", r["key"] or ""))


async def needs_workbook(report: dict, caller: Caller, area: str | None, month: str) -> str:
    """The report as an XLSX file (its path; the caller streams and removes it); audited as `needs_report.exported`."""
    fd, path = tempfile.mkstemp(prefix="doorstep-needs-", suffix=".xlsx")
    os.close(fd)
    book = None
    try:
        book = sheets.Book(path)
        for group, title in (("by_area", "按区域"), ("by_category", "按服务类别"), ("by_provider", "按服务机构")):
            sheet = book.add_sheet(title, ["名称", *TITLES])
            sheet.layout([24] + [12] * len(TITLES))
            for row in report[group] + [{"name": "合计"} | report["totals"]]:
                sheet.append([row["name"] or "（未指定）", *(row[m] for m in METRICS)])
        await asyncio.to_thread(book.close)
    except BaseException:
        await asyncio.shield(asyncio.to_thread(sheets.give_up, book, path))
        raise
    await audit.record(caller, "needs_report.exported", "needs_report", month, area=area, format="xlsx")
    return path
