"""The shapes of the API's replies as JSON Schemas (OpenAPI 3.1 components), and the pieces handlers declare their
replies and query parameters with. A test sends fuzzed requests and checks every reply against these, so a reply
that drifts from what `as_api` builds fails there, not in a client."""

from __future__ import annotations

from server.core.ids import INT_MAX, SLUG_CHARACTERS, SLUG_LENGTH
from server.households.ledger_rules import KINDS as LEDGER_KINDS
from server.models import EXPORT_STATES, LEVELS, ROLES
from server.models.needs import STATUSES as NEED_STATUSES, URGENCIES

REF = "#/components/schemas/"
SHA256_PATTERN = "^[0-9a-f]{64}$"
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")
REVIEW_STATES = ("pending", "approved", "returned", "replaced")


def ref(name: str) -> dict:
    return {"$ref": REF + name}


def _record(title: str, properties: dict, optional: tuple[str, ...] = (), *, open_ended: bool = False) -> dict:
    """An object with exactly these fields, each present (null where a value may be missing) but the optional ones."""
    return {"type": "object", "title": title, "properties": properties,
            "required": [name for name in properties if name not in optional], "additionalProperties": open_ended}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _page(title: str, item: str) -> dict:
    return _record(title, {"items": {"type": "array", "items": ref(item)}, "next_cursor": _nullable(CURSOR_TEXT)})


UUID = {"type": "string", "format": "uuid"}
TIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
TEXT = {"type": "string"}
COUNT = {"type": "integer", "minimum": 0}
SHA256 = {"type": "string", "pattern": SHA256_PATTERN}
CURSOR_TEXT = {"type": "string", "minLength": 1, "pattern": "^[A-Za-z0-9_-]+$"}
SLUG = {"type": "string", "minLength": SLUG_LENGTH[0], "maxLength": SLUG_LENGTH[1], "pattern": SLUG_CHARACTERS}
LOCATION = _record("位置", {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                           "lon": {"type": "number", "minimum": -180, "maximum": 180}})
OBSERVED = {"type": "object", "additionalProperties": TIME}  # field → when it was observed
# As every reply shows an ID number: its first 6 and last 4 characters, the rest starred (all of a short one).
MASKED_ID_NUMBER = r"^(.{6}\*+.{4}|\**)$"
SIDE = _record("冲突的一方", {"value": {}, "observed_at": TIME, "received_at": TIME, "submission": _nullable(UUID)})

FORM = {"slug": SLUG, "title": TEXT, "area": _nullable(UUID),
        "latest_version": _nullable({"type": "integer", "minimum": 1, "maximum": INT_MAX}),
        "retired": {"type": "boolean"}}
HOUSEHOLD = {"id": UUID, "community": UUID, "address": TEXT, "head": TEXT, "phone": _nullable(TEXT),
             "location": _nullable(LOCATION), "situation": {"type": "object"}, "situation_observed_at": OBSERVED,
             "created_at": TIME}
DUPLICATES = {"type": "array", "items": ref("PossibleDuplicate")}
FLAG_KINDS = ["far_from_household", "outside_visit_time", "reused", "calculation_differs", "screening"]


COMPONENTS: dict[str, dict] = {
    "Problem": _record("问题详情 (RFC 9457)", {
        "type": {"type": "string", "pattern": "^/problems/[a-z-]+$"},
        "title": {"type": "string", "minLength": 1},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "minLength": 1},
        "errors": {"type": "array", "minItems": 1, "items": _record(
            "出错的字段", {"pointer": {"type": "string"}, "detail": {"type": "string", "minLength": 1}})},
        "missing": {"type": "array", "minItems": 1, "items": SHA256},
        "request_id": {"type": "string", "minLength": 1},
        "merged_into": _nullable(UUID),
    }, optional=("errors", "missing", "request_id", "merged_into")),
    "Health": _record("进程存活", {"status": {"const": "ok"}}),
    "Ready": _record("可以服务", {"status": {"const": "ok"}, "checks": _record(
        "各项检查", {"database": {"const": "ok"}, "storage": {"const": "ok"}})}),
    "Token": _record("登录凭据", {"access_token": {"type": "string", "minLength": 32}, "token_type": {"const": "bearer"},
                              "expires_in": {"type": "integer", "minimum": 1}, "user": ref("User")}),
    "Throttle": _record("登录限制", {"username": TEXT, "address": TEXT, "failures": {"type": "integer", "minimum": 1},
                                 "until": _nullable(TIME)}),
    "ThrottleList": _page("登录限制列表", "Throttle"),
    "Area": _record("区域", {"id": UUID, "code": TEXT, "name": TEXT, "level": {"enum": list(LEVELS)},
                           "parent": _nullable(UUID)}),
    "AreaPage": _page("区域列表", "Area"),
    "User": _record("用户", {"id": UUID, "username": TEXT, "display_name": TEXT, "role": {"enum": list(ROLES)},
                           "areas": {"type": "array", "items": UUID, "uniqueItems": True},
                           "provider": _nullable(UUID), "is_active": {"type": "boolean"}, "created_at": TIME}),
    "UserPage": _page("用户列表", "User"),
    "AuditEvent": _record("操作日志", {
        "id": UUID, "at": TIME, "actor": _nullable(UUID), "actor_name": TEXT, "action": TEXT, "target_type": TEXT,
        "target_id": _nullable(TEXT), "household": _nullable(UUID), "address": _nullable(TEXT),
        "detail": {"type": "object"}}),
    "AuditPage": _page("操作日志列表", "AuditEvent"),
    "CatalogueCategory": _record("服务类别", {"code": TEXT, "name": TEXT, "items": {
        "type": "array", "items": ref("CatalogueItem")}}),
    "CatalogueItem": _record("服务项目（停用的也在，标明已停用）", {
        "code": TEXT, "name": TEXT, "category": TEXT, "retired": {"type": "boolean"},
        "days": _record("各紧急程度的默认办理天数", {u: {"type": "integer", "minimum": 1} for u in URGENCIES})}),
    "Catalogue": _page("服务项目目录", "CatalogueCategory"),
    "FormSummary": _record("表单", FORM),
    "FormPage": _page("表单列表", "FormSummary"),
    # Designers (admin, bureau, supervisor) also get the draft.
    "Form": _record("表单（设计者另见草稿）", FORM | {"draft": _record(
        "草稿", {"title": TEXT, "schema": {"type": "object"}, "ui": {"type": "object"}, "updated_at": TIME})},
        optional=("draft",)),
    "Published": _record("已发布的版本号", {"version": {"type": "integer", "minimum": 1, "maximum": INT_MAX}}),
    "FormVersion": _record("已发布的表单版本", {"slug": SLUG, "version": {"type": "integer", "minimum": 1},
                                           "title": TEXT, "schema": {"type": "object"}, "ui": {"type": "object"},
                                           "published_at": TIME}),
    "Household": _record("户", HOUSEHOLD),
    "RegisteredHousehold": _record("登记的户及疑似重复的户", HOUSEHOLD | {"possible_duplicates": DUPLICATES}),
    "PossibleDuplicate": _record("疑似重复的户（仅限辖区内）", {
        "household": UUID, "head": TEXT, "address": TEXT, "community": UUID, "community_name": TEXT,
        "reasons": {"type": "array", "minItems": 1, "items": _record("相似之处", {
            "rule": {"enum": ["id_number", "name_birth", "address"]}, "detail": TEXT, "member": _nullable(UUID),
            "member_name": _nullable(TEXT), "yours": _nullable(TEXT)})}}),
    "PossibleDuplicatePage": _page("疑似重复的户", "PossibleDuplicate"),
    "Merge": _record("户档案的合并", {
        "id": UUID, "survivor": UUID, "duplicate": UUID, "reason": TEXT, "by": _nullable(UUID), "at": TIME,
        "undone_at": _nullable(TIME), "undone_by": _nullable(UUID), "undo_reason": _nullable(TEXT),
        "moved": _record("移入保留户的内容", {name: COUNT for name in (
            "visits", "submissions", "photos", "members", "combined_members", "conflicts", "needs", "changes")})}),
    "HouseholdSummary": _record("户（列表中）", {"id": UUID, "community": UUID, "head": TEXT, "address": TEXT,
                                            "phone": _nullable(TEXT), "updated_at": TIME}),
    "HouseholdPage": _page("户列表", "HouseholdSummary"),
    "Standard": _record("低保、特困供养标准", {
        "id": UUID, "area": UUID, "kind": {"enum": ["subsistence", "extreme_hardship"]},
        "amount": {"type": "number"}, "effective_from": {"type": "string", "format": "date"}, "created_at": TIME}),
    "AreaStandards": _record("区域的标准", {
        "area": UUID, "standards": {"type": "array", "items": ref("Standard")},
        "in_force": _record("今天生效的标准（含继承）", {k: {"anyOf": [ref("Standard"), {"type": "null"}]}
                                               for k in ("subsistence", "extreme_hardship")})}),
    "Prefill": _record("从户档案预填的回答", {"household": UUID, "form": SLUG, "version": {"type": "integer", "minimum": 1},
                                         "data": {"type": "object"}}),
    "HouseholdFile": _record("户档案", HOUSEHOLD | {
        "updated_at": TIME, "situation_sources": {"type": "object", "additionalProperties": ref("SituationSource")},
        "members": {"type": "array", "items": ref("Member")}, "visits": ref("VisitPage"),
        "needs": {"type": "array", "items": ref("RaisedNeed")},
        "conflicts": {"type": "array", "items": ref("Conflict")}, "open_conflicts": COUNT}),
    "HouseholdWithMembers": _record("户及其成员", HOUSEHOLD | {
        "members": {"type": "array", "items": ref("Member")}, "possible_duplicates": DUPLICATES}),
    "SituationSource": _record("情况的来源", {"observed_at": TIME, "visit": _nullable(UUID), "submission": _nullable(UUID),
                                          "by": _nullable(UUID), "reason": _nullable(TEXT)}),
    # A member's other fields are the bound answers of forms (school, health, …): open-ended by design.
    "Member": _record("家庭成员", {
        "id": UUID, "name": _nullable(TEXT), "relation": {}, "gender": {}, "birth_date": {},
        "id_number": _nullable({"type": "string", "pattern": MASKED_ID_NUMBER}),
        "tags": {"type": "array"}, "observed_at": OBSERVED}, open_ended=True),
    "Visit": _record("走访", {"id": UUID, "observed_at": TIME, "started_at": _nullable(TIME),
                            "finished_at": _nullable(TIME), "worker": _nullable(UUID), "worker_name": _nullable(TEXT),
                            "submissions": {"type": "array", "items": ref("VisitSubmission")}}),
    "VisitPage": _page("走访列表（新的在前）", "Visit"),
    # `flags` only for those who evaluate the work, as on a submission.
    "VisitSubmission": _record("走访中的提交", {
        "id": UUID, "form": SLUG, "version": {"type": "integer", "minimum": 1},
        "review_state": {"enum": list(REVIEW_STATES)}, "received_at": TIME,
        "photos": {"type": "array", "items": _record("照片", {
            "sha256": SHA256, "pointer": TEXT, "taken_at": _nullable(TIME),
            "thumbnail": {"type": "string", "pattern": "^/api/v1/attachments/[0-9a-f]{64}\\?size=thumb$"}})},
        "flags": {"type": "array", "items": ref("Flag")}}, optional=("flags",)),
    "RaisedNeed": _record("提出的需求及其结果", {
        "id": UUID, "item": TEXT, "item_name": _nullable(TEXT), "urgency": {"enum": list(URGENCIES)},
        "description": _nullable(TEXT), "member": _nullable(TEXT), "pointer": _nullable(TEXT),
        "submission": _nullable(UUID), "visit": _nullable(UUID), "raised_at": TIME, "due_at": TIME,
        "status": {"enum": list(NEED_STATUSES)},
        "outcome": _nullable(_record("需求的结果", {
            "status": {"enum": list(NEED_STATUSES)}, "provider": _nullable(UUID), "provider_name": _nullable(TEXT),
            "at": TIME, "reason": _nullable(TEXT), "rating": _nullable({"type": "integer", "minimum": 1,
                                                                        "maximum": 5})}))}),
    "HouseholdChange": _record("户档案的变更", {
        "id": UUID, "at": TIME,
        "kind": {"enum": ["applied", "kept", "reverted", "resolved", "corrected", "merged", "merge_kept", "unmerged"]},
        "pointer": {"type": "string", "pattern": "^/"}, "member": _nullable(UUID), "old_value": {}, "new_value": {},
        "observed_at": _nullable(TIME), "submission": _nullable(UUID), "actor": _nullable(UUID),
        "actor_name": _nullable(TEXT), "reason": _nullable(TEXT)}),
    "HouseholdChangePage": _page("户档案的变更历史（新的在前）", "HouseholdChange"),
    "RevealedIdNumber": _record("成员完整的身份证号", {"member": UUID, "household": UUID, "id_number": _nullable(TEXT)}),
    # What offline sync carries of a file: the household, its members, its needs (SyncedNeed) and the pinyin its
    # search matches, not its visits (server.households.sync).
    "SyncedHousehold": _record("离线同步的户档案", HOUSEHOLD | {
        "members": {"type": "array", "items": ref("Member")}, "open_conflicts": COUNT,
        "needs": {"type": "array", "items": ref("SyncedNeed")}, "pinyin": {"type": "array", "items": TEXT}}),
    "SyncPage": _record("离线同步的一页", {
        "reset": {"type": "boolean"}, "forms": {"type": "array", "items": ref("FormVersion")},
        "retired_forms": {"type": "array", "items": SLUG},
        "catalogue": _nullable({"type": "array", "items": ref("CatalogueCategory")}),
        "households": {"type": "array", "items": ref("SyncedHousehold")}, "gone": {"type": "array", "items": UUID},
        "next_cursor": {"type": "string", "minLength": 1}, "more": {"type": "boolean"}}),
    "Conflict": _record("离线冲突", {
        "id": UUID, "household": UUID, "member": _nullable(UUID), "field": TEXT, "kept": SIDE, "lost": SIDE,
        "submission": UUID, "state": {"enum": ["open", "resolved"]},
        "resolution": _nullable({"enum": ["kept", "lost"]}), "comment": _nullable(TEXT),
        "resolved_by": _nullable(UUID), "resolved_at": _nullable(TIME), "created_at": TIME}),
    "ConflictPage": _page("冲突列表", "Conflict"),
    "Photo": _record("照片", {"id": SHA256, "sha256": SHA256, "media_type": {"enum": list(PHOTO_TYPES)},
                            "size": {"type": "integer", "minimum": 1}, "width": COUNT, "height": COUNT,
                            "taken_at": _nullable(TIME), "location": _nullable(LOCATION), "created_at": TIME}),
    "Orphan": _record("无提交引用的照片", {"id": SHA256, "sha256": SHA256, "stored_at": TIME,
                                         "recorded": {"type": "boolean"}, "uploaded_by": _nullable(UUID)}),
    "OrphanPage": _page("无提交引用的照片列表", "Orphan"),
    "Flag": _record("证据提示", {"kind": {"enum": FLAG_KINDS}, "pointer": {"type": "string", "pattern": "^/data/"},
                              "sha256": SHA256, "detail": TEXT, "distance_m": {"type": "number", "minimum": 0},
                              "taken_at": TIME, "sent": {}, "computed": {}, "standard": {"type": "number"},
                              "below_by": {"type": "number", "minimum": 0}},
                    # a photo's flags name it; a calculated answer's keep what the phone sent and the server computed
                    optional=("sha256", "distance_m", "taken_at", "sent", "computed", "standard", "below_by")),
    # `flags` only for those who evaluate the work (admin, bureau, supervisor), not for those evaluated.
    "Submission": _record("提交", {
        "id": UUID, "form": SLUG, "version": {"type": "integer", "minimum": 1}, "household": UUID, "visit": UUID,
        "author": _nullable(UUID), "data": {"type": "object"},
        "attachments": {"type": "array", "items": _record("照片", {"sha256": SHA256, "pointer": TEXT, "taken_at": _nullable(
            TIME), "distance_m": _nullable(COUNT)}, optional=("taken_at", "distance_m"))},  # these two for evaluators
        "started_at": _nullable(TIME), "finished_at": _nullable(TIME), "observed_at": TIME, "received_at": TIME,
        "location": _nullable(LOCATION), "original": UUID, "replaces": _nullable(UUID), "replaced_by": _nullable(UUID),
        "review": _record("审核", {"state": {"enum": list(REVIEW_STATES)}, "comment": _nullable(TEXT),
                                  "by": _nullable(UUID), "at": _nullable(TIME)}),
        "flags": {"type": "array", "items": ref("Flag")},
        "possible_duplicates": DUPLICATES,  # on the replies to PUT only
    }, optional=("flags", "possible_duplicates")),
    "SubmissionPage": _page("提交列表", "Submission"),
    # A ledger line's other fields are its ledger's columns (server.households.ledger_columns), by kind.
    "LedgerLine": _record("台账的一行", {"id": UUID, "kind": {"enum": list(LEDGER_KINDS)}, "household": UUID,
                                      "member": _nullable(UUID), "community": UUID}, open_ended=True),
    "LedgerPage": _page("台账", "LedgerLine"),
    "DueVisit": _record("应探访的对象", {
        "id": UUID, "kind": {"enum": list(LEDGER_KINDS)}, "household": UUID, "member": _nullable(UUID),
        "name": _nullable(TEXT), "id_number": _nullable(TEXT), "community": UUID, "community_name": TEXT,
        "address": TEXT, "phone": _nullable(TEXT),
        "plan": _record("探访要求", {"code": TEXT, "reason": _nullable(TEXT),
                                    "every_days": {"type": "integer", "minimum": 1}}),
        "last_visit_at": _nullable(TIME), "last_visit_on": _nullable(DATE), "due_on": DATE, "days_overdue": COUNT}),
    "DuePage": _page("应探访的对象列表", "DueVisit"),
    "Export": _record("区域户档案的批量导出", {
        "id": UUID, "state": {"enum": list(EXPORT_STATES)}, "area": UUID, "area_name": TEXT, "from": DATE, "to": DATE,
        "requested_by": _nullable(UUID),
        "progress": _record("进度", {"households_done": COUNT, "households_total": COUNT, "bytes": COUNT}),
        "attempt": COUNT, "size": _nullable(COUNT), "sha256": _nullable(SHA256), "error": _nullable(TEXT),
        "created_at": TIME, "started_at": _nullable(TIME), "heartbeat_at": _nullable(TIME),
        "finished_at": _nullable(TIME), "expires_at": _nullable(TIME),
        "file": _nullable({"type": "string", "pattern": "^/api/v1/exports/[0-9a-f-]{36}/file$"})}),
    "ExportPage": _page("批量导出列表（新的在前）", "Export"),
    "OverdueCounts": _record("逾期未探访统计", {
        "as_of": DATE, "overdue": COUNT, "due_today": COUNT,
        "communities": {"type": "array", "items": _record("社区（村）", {
            "id": UUID, "code": TEXT, "name": TEXT, "township": UUID, "overdue": COUNT, "due_today": COUNT})},
        "workers": {"type": "array", "items": _record("社工", {
            "id": UUID, "username": TEXT, "display_name": TEXT, "communities": {"type": "array", "items": UUID},
            "overdue": COUNT, "due_today": COUNT})}}),
}


# --- Replies ----------------------------------------------------------------------------------------------------

def reply(name: str, description: str | None = None, headers: dict | None = None) -> dict:
    """A JSON reply whose body is the named component."""
    answer = {"description": description or COMPONENTS[name]["title"],
              "content": {"application/json": {"schema": ref(name)}}}
    return answer | ({"headers": headers} if headers else {})


def binary(media_types: tuple[str, ...], description: str, headers: dict | None = None) -> dict:
    """Bytes that are not JSON: a photo, an export."""
    answer = {"description": description,
              "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in media_types}}
    return answer | ({"headers": headers} if headers else {})


def header(description: str, schema: dict | None = None, required: bool = True) -> dict:
    return {"description": description, "required": required, "schema": schema or {"type": "string", "minLength": 1}}


NO_CONTENT = {"description": "完成，无内容"}
IMMUTABLE = {
    "ETag": header("内容的标签：以 If-None-Match 发回即得 304"),
    "Cache-Control": header("内容永不改变，可长期缓存", {"const": "private, max-age=31536000, immutable"}),
}
NOT_MODIFIED = {"description": "客户端已有此内容（If-None-Match 匹配）", "headers": IMMUTABLE}


# --- Query parameters ---------------------------------------------------------------------------------------------

def query(name: str, description: str, schema: dict, *, empty_is_absent: bool = False, required: bool = False) -> dict:
    """A query parameter; `empty_is_absent` where `?name=` means the same as leaving it out (a filter not set)."""
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema,
            **({"allowEmptyValue": True} if empty_is_absent else {})}


def path(name: str, description: str, schema: dict) -> dict:
    """A path parameter whose schema is the handler's own (an enum of kinds, say)."""
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


CURSOR = query("cursor", "上一页回复中的 next_cursor，取下一页；不给或留空为第一页", CURSOR_TEXT, empty_is_absent=True)
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False,
                 "description": "已有内容的 ETag；匹配则答 304，不再发送内容", "schema": {"type": "string"}}


# The needs list's shapes live beside these (this module would outgrow one sitting); they use its pieces above.
from server.http.schemas_needs import COMPONENTS as _NEEDS  # noqa: E402
from server.http.schemas_people import COMPONENTS as _PEOPLE  # noqa: E402
COMPONENTS.update(_NEEDS | _PEOPLE)
