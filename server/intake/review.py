"""Reading submissions as the caller may see them: one, a filtered list, and a supervisor's review."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from server.core import audit
from server.core.caller import Caller
from server.core.clock import now, parse_time
from server.core.ids import parse_id, parse_slug
from server.core.pagination import Page, paginate
from server.core.permissions import allows
from server.core.problems import Conflict, SubmissionNotFound, invalid
from server.core.scope import get_visible, under, visible
from server.intake import replies
from server.models import Review, Submission

STATES = ("pending", "approved", "returned", "replaced")


async def read_submission(caller: Caller, submission_id: str) -> dict:
    """One submission; earlier versions of a corrected one stay readable."""
    found = await get_visible(caller, Submission, submission_id, SubmissionNotFound)
    return (await replies.for_caller(caller, [found]))[0]


async def list_submissions(caller: Caller, filters: dict, cursor: str | None) -> Page:
    query = await visible(caller, Submission)
    if filters.get("form"):
        query = query.filter(form__slug=parse_slug(filters["form"]))
    if filters.get("household"):
        query = query.filter(household_id=parse_id(filters["household"], pointer="/household"))
    if filters.get("area"):
        area_id = parse_id(filters["area"], pointer="/area")
        query = query.filter(under(Submission, area_id))
    if filters.get("author"):
        query = query.filter(author_id=parse_id(filters["author"], pointer="/author"))
    if filters.get("flagged"):
        if filters["flagged"] not in ("true", "false"):
            raise invalid("/flagged", "应为 true 或 false")
        # An evidence warning is an evaluator's to see: to others the filter is refused as the flags are hidden.
        if not allows(caller, "submission.see_flags"):
            raise invalid("/flagged", "只有督导、民政局和管理员能按证据提示筛选")
        query = query.exclude(flags=[]) if filters["flagged"] == "true" else query.filter(flags=[])
    if filters.get("since"):
        since = parse_time(filters["since"])
        if since is None:
            raise invalid("/since", "时间格式不正确，应为 RFC 3339，例如 2025-03-18T09:00:00+08:00")
        if since.tzinfo is None:
            raise invalid("/since", "时间须带时区")
        query = query.filter(received_at__gte=since)
    if filters.get("state"):
        if filters["state"] not in STATES:
            raise invalid("/state", f"应为 {'、'.join(STATES)} 之一")
        query = query.filter(review_state=filters["state"])
    page = await paginate(query, cursor, order=("received_at", "id"), shape=lambda s: s)
    page.items = await replies.for_caller(caller, page.items)
    return page


async def review(caller: Caller, submission_id: str, body: dict) -> dict:
    """A supervisor of the township approves a submission or returns it to the worker with a comment."""
    found = await get_visible(caller, Submission, submission_id, SubmissionNotFound)
    if body["state"] == "returned" and not (body.get("comment") or "").strip():
        raise invalid("/comment", "退回时请写明需要修改的地方")
    stamp = now()
    async with in_transaction():
        updated = await Submission.filter(id=found.id, review_state__in=("pending", "approved", "returned")).update(
            review_state=body["state"], review_comment=body.get("comment"), reviewed_by_id=caller.id, reviewed_at=stamp)
        if not updated:
            raise Conflict("该提交已被更正，请审核最新版本。")
        await Review.create(submission_id=found.id, reviewer_id=caller.id, state=body["state"],
                            comment=body.get("comment"), at=stamp)
        await audit.record(caller, f"submission.{body['state']}", "submission", found.id,
                           household_id=found.household_id)
    return await read_submission(caller, str(found.id))
