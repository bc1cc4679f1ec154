"""The shapes of the needs list's replies: needs, providers and offers, matches, reports and the dispatch board."""

from __future__ import annotations

from server.http.schemas import COUNT, SHA256, TEXT, TIME, UUID, _nullable, _page, _record, ref
from server.models.needs import STATUSES as NEED_STATUSES, URGENCIES
from server.needs.offline import FINISHED_DAYS

NEED = {"id": UUID, "household": _nullable(UUID), "head": _nullable(TEXT), "address": _nullable(TEXT),
        "community": UUID, "community_name": _nullable(TEXT), "member": _nullable(TEXT), "item": TEXT,
        "item_name": _nullable(TEXT), "category": _nullable(TEXT), "urgency": {"enum": list(URGENCIES)},
        "description": _nullable(TEXT), "status": {"enum": list(NEED_STATUSES)}, "version": {"type": "integer",
                                                                                             "minimum": 1},
        "overdue": {"type": "boolean"}, "consent": {"type": "boolean"}, "contact": _nullable(TEXT),
        "submission": _nullable(UUID), "raised_by": _nullable(UUID), "raised_at": TIME, "due_at": TIME,
        "provider": _nullable(UUID), "provider_name": _nullable(TEXT),
        **{f"{name}_at": _nullable(TIME) for name in ("dispatched", "accepted", "started", "done", "closed")},
        "rating": _nullable({"type": "integer", "minimum": 1, "maximum": 5})}
APPROVAL = {"state": {"enum": ["township_approved", "county_approved"]}, "state_name": TEXT,
            "township_by": _nullable(UUID), "township_at": TIME, "county_by": _nullable(UUID),
            "county_at": _nullable(TIME)}

COMPONENTS: dict[str, dict] = {
    # What a household file carries of its needs in offline sync (server.needs.offline): item names are the catalogue's.
    "SyncedNeed": _record(f"离线同步的需求（进行中的和 {FINISHED_DAYS} 天内办结的）", {
        "id": UUID, "item": TEXT, "urgency": {"enum": list(URGENCIES)}, "status": {"enum": list(NEED_STATUSES)},
        "description": _nullable(TEXT), "member": _nullable(TEXT), "raised_at": TIME, "due_at": TIME,
        "overdue": {"type": "boolean"}}),
    "Need": _record("需求（服务机构看到的：无户编号、住址，姓名打码，仅有住户同意提供的联系方式）", NEED),
    "NeedPage": _page("需求清单", "Need"),
    "NeedDetail": _record("需求及其每一步操作和服务照片", NEED | {
        "events": {"type": "array", "items": _record("需求的一步操作", {
            "action": TEXT, "from_status": _nullable({"enum": list(NEED_STATUSES)}),
            "to_status": {"enum": list(NEED_STATUSES)}, "actor": _nullable(UUID), "actor_name": TEXT,
            "provider": _nullable(UUID), "at": TIME, "reason": _nullable(TEXT), "detail": {"type": "object"}})},
        "proofs": {"type": "array", "items": SHA256}}),
    "Provider": _record("服务机构", {
        "id": UUID, "name": TEXT, "areas": {"type": "array", "items": UUID},
        "users": {"type": "array", "items": _record("服务机构的账号", {
            "id": UUID, "username": TEXT, "display_name": TEXT, "is_active": {"type": "boolean"}})},
        "created_at": TIME}),
    "ProviderPage": _page("服务机构列表", "Provider"),
    "Offer": _record("供给清单的一项", {
        "item": TEXT, "item_name": _nullable(TEXT), "monthly_capacity": COUNT, "taken_this_month": COUNT,
        "free": {"type": "boolean"}, "price": _nullable(TEXT), "contact": TEXT, "updated_at": TIME}),
    "OfferPage": _page("供给清单", "Offer"),
    "NeedsReport": _record("需求月度统计", {
        "area": _nullable(UUID), "month": TEXT, "totals": ref("NeedsFigures"),
        "approval": _nullable(_record("结账审核", APPROVAL)),
        **{group: {"type": "array", "items": {"allOf": [ref("NeedsFigures")], "type": "object", "properties": {
            "key": _nullable(TEXT), "name": _nullable(TEXT)}, "required": ["key", "name"]}}
           for group in ("by_area", "by_category", "by_provider")}}),
    "NeedsFigures": _record("需求的统计数字", {
        **{m: COUNT for m in ("raised", "dispatched", "accepted", "done", "overdue")},
        **{m: _nullable({"type": "number", "minimum": 0}) for m in ("median_days_to_accept", "median_days_to_done")}},
        open_ended=True),
    "Matches": _record("为需求排序的服务机构", {"need": UUID, "next_cursor": {"type": "null"}, "items": {
        "type": "array", "items": _record("一家匹配的服务机构", {
            "provider": UUID, "provider_name": TEXT, "score": {"type": "number", "minimum": 0, "maximum": 1},
            "capacity_left": {"type": "integer", "minimum": 1}, "free": {"type": "boolean"}, "price": _nullable(TEXT),
            "contact": TEXT, "reasons": {"type": "array", "items": TEXT, "minItems": 1},
            "acceptance_rate": _nullable({"type": "number", "minimum": 0, "maximum": 1}),
            "median_days_to_done": _nullable({"type": "number", "minimum": 0}),
            "mean_rating": _nullable({"type": "number", "minimum": 1, "maximum": 5})})}}),
    "NeedsMonth": _record("月度结账的审核情况", APPROVAL | {"area": UUID, "month": TEXT}),
    "DispatchBoard": _record("月调度看板", {
        "as_of": {"type": "string", "format": "date"}, "dispatch_day": {"type": "string", "format": "date"},
        "totals": ref("BoardCounts"),
        "by_area": {"type": "array", "items": {"allOf": [ref("BoardCounts")], "type": "object", "properties": {
            "area": UUID, "name": _nullable(TEXT)}, "required": ["area", "name"]}},
        "overdue_by_provider": {"type": "array", "items": _record("逾期的服务机构", {
            "provider": UUID, "provider_name": _nullable(TEXT), "overdue": COUNT})},
        **{name: {"type": "array", "items": ref("Need")} for name in ("undispatched_needs", "due_needs",
                                                                       "overdue_needs")}}),
    "BoardCounts": _record("月调度的计数", {"undispatched": COUNT, "due_before_dispatch_day": COUNT, "overdue": COUNT},
                           open_ended=True),
}
