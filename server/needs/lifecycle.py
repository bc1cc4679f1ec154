"""What happens to a need: raised → dispatched → accepted | declined (back to raised, the reason kept) → in service →
done (a note, proof photos and the household's confirmation) → evaluated; closed with a reason at any point before it
is evaluated; an overdue need reassigned to another provider, which gets the item's time for the urgency from then on
(the lapsed due date stays in the event).

Each action is one conditional UPDATE on (id, status, version) and one event, in a transaction. Two dispatchers at
once both read version n; the first UPDATE moves it to n + 1 and the second changes zero rows, which is the 409. On
PostgreSQL the second waits on the row lock and then finds the version changed; SQLite, which has no row locks and
ignores SELECT … FOR UPDATE, runs one writing transaction at a time to the same end.

Lock order (migrations/0008_sync_changes.py): a need's write touches (locks) its household, and a
submission locks its household, then writes it, then its needs (a correction takes over the needs it replaces). So
an action locks the household first and writes the need after: holding the need while waiting for the household
would deadlock with such a submission. The UPDATE also names the household it locked: a need a merge moved since it
was read changes zero rows, the 409 of any change made in between.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from server.core.caller import Caller
from server.core.clock import now
from server.core.problems import FieldProblem, InvalidInput, WrongState, invalid
from server.models import Attachment, Household, Need, NeedAttachment, PhotoHolder
from server.needs import supply
from server.needs.raising import due_at, event, item_terms
from server.needs.reading import get_need, is_overdue
from server.settings import Settings

STATUS_NAMES = {"raised": "待派单", "dispatched": "已派单", "accepted": "已接单", "in_service": "服务中",
                "done": "已完成", "evaluated": "已评价", "closed": "已关闭"}
# action → (the states it may be taken from, the state it leads to; None: the state stays)
TRANSITIONS = {
    "consent": (("raised",), None),
    "dispatch": (("raised",), "dispatched"),
    "reassign": (("dispatched", "accepted", "in_service"), "dispatched"),
    "accept": (("dispatched",), "accepted"),
    "decline": (("dispatched",), "raised"),
    "start": (("accepted",), "in_service"),
    "complete": (("in_service",), "done"),
    "evaluate": (("done",), "evaluated"),
    "close": (("raised", "dispatched", "accepted", "in_service", "done"), "closed"),
}
ACTION_NAMES = {"consent": "记录住户同意", "dispatch": "派单", "reassign": "改派", "accept": "接单", "decline": "拒单",
                "start": "开始服务", "complete": "完成服务", "evaluate": "评价", "close": "关闭"}


class NoConsent(WrongState):
    type, title = "no-consent", "住户未同意提供信息"
    default_detail = "住户尚未同意向服务机构提供服务所需的信息，不能派单；请先记录住户的同意。"


async def act(caller: Caller, settings: Settings, need_id: str, action: str, body: dict) -> Need:
    """Take `action` on a need the caller may see; 409 when its state does not allow it."""
    return await take(caller, settings, await get_need(caller, need_id), action, body)


async def take(caller: Caller, settings: Settings, need: Need, action: str, body: dict) -> Need:
    """Take `action` on the need as it was read; 409 when its state does not allow it, or when another action
    changed it since it was read (the write is conditional on the state and version read)."""
    allowed, to_status = TRANSITIONS[action]
    if need.status not in allowed:
        raise WrongState(f"该需求当前为「{STATUS_NAMES[need.status]}」，不能{ACTION_NAMES[action]}。")
    stamp = now()
    async with in_transaction():
        # The household first, as every writer of a file does (the sync counter's lock order, migrations/0008); then
        # a dispatch locks the provider's offer before counting its places this month, so two dispatches to one
        # provider at once cannot both take its last place.
        await Household.filter(id=need.household_id).select_for_update().only("id").first()
        changes, detail, proofs = await _changes(caller, settings, need, action, body, stamp)
        # The provider the event concerns: the one dispatched to, or the one that answers (a decline included).
        provider_id = changes["provider_id"] if action in ("dispatch", "reassign") else need.provider_id
        updated = await Need.filter(id=need.id, household_id=need.household_id, status=need.status,
                                    version=need.version).update(
            status=to_status or need.status, version=need.version + 1, updated_at=stamp, **changes)
        if not updated:
            raise WrongState("该需求刚被他人处理过，状态已变化；请刷新后再试。")
        from_status = need.status
        for name, value in changes.items():
            setattr(need, name, value)
        need.status, need.version, need.updated_at = to_status or need.status, need.version + 1, stamp
        await event(need, action, caller, from_status, stamp, reason=body.get("reason"), provider_id=provider_id,
                    **detail).save(force_create=True)
        if proofs:
            await NeedAttachment.bulk_create([NeedAttachment(need_id=need.id, attachment_id=sha) for sha in proofs])
    return need


async def _changes(caller: Caller, settings: Settings, need: Need, action: str, body: dict,
                   stamp: datetime) -> tuple[dict, dict, list[str]]:
    """(the need's columns the action sets, what its event records besides, the proof photos)."""
    if action == "consent":
        consent = body["consent"]
        if consent and not body.get("contact"):
            raise invalid("/contact", "请填写住户同意提供给服务机构的联系方式")
        return {"consent": consent, "contact": body.get("contact") if consent else None}, {"consent": consent}, []
    if action in ("dispatch", "reassign"):
        if not need.consent:
            raise NoConsent()
        if action == "reassign" and not is_overdue(need, stamp):
            raise WrongState("只有逾期的需求才能改派。")
        provider = await supply.check_can_take(settings, need, body["provider"], stamp)
        if action == "reassign" and provider.id == need.provider_id:
            raise invalid("/provider", "改派须派给另一家服务机构")
        changes = {"provider_id": provider.id, "dispatched_at": stamp, "accepted_at": None, "started_at": None}
        detail = {"provider": str(provider.id), "before": str(need.provider_id) if need.provider_id else None}
        if action == "reassign":  # the new provider gets the item's time for the urgency; the lapsed one is kept
            item = (await item_terms({need.item})).get(need.item)
            changes["due_at"] = due_at(stamp, need.urgency, item)
            detail["due_before"] = need.due_at.isoformat()
        return changes, detail, []
    if action == "accept":
        return {"accepted_at": stamp}, {}, []
    if action == "decline":
        return {"provider_id": None, "dispatched_at": None}, {"provider": str(need.provider_id)}, []
    if action == "start":
        return {"started_at": stamp}, {}, []
    if action == "complete":
        proofs = await _proofs(caller, body["attachments"])
        return ({"done_at": stamp}, {"note": body["note"], "confirmation": body["confirmation"], "photos": proofs},
                proofs)
    if action == "evaluate":
        return {"rating": body["rating"]}, {"rating": body["rating"], "comment": body.get("comment")}, []
    return {"closed_at": stamp}, {}, []  # close


async def _proofs(caller: Caller, shas: list[str]) -> list[str]:
    """The proof photos, each stored and sent by the caller (knowing a hash proves nothing)."""
    held = set(await PhotoHolder.filter(user_id=caller.id, attachment_id__in=shas).values_list(
        "attachment_id", flat=True))
    stored = set(await Attachment.filter(sha256__in=list(held)).values_list("sha256", flat=True))
    missing = [FieldProblem(f"/attachments/{i}", f"照片尚未上传：{sha}") for i, sha in enumerate(shas)
               if sha not in stored]
    if missing:
        raise InvalidInput(errors=missing)
    return sorted(set(shas))
