"""Needs (需求清单), what became of each, and the providers' supply list (供给清单): areas served and offers."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

STATUSES = ("raised", "dispatched", "accepted", "in_service", "done", "evaluated", "closed")
URGENCIES = ("normal", "high", "urgent")


class Need(Model):
    """One demand of one household, raised by a submission's needs bindings or entered by a worker.

    `item` is a catalogue code kept as text, not a foreign key: a phone offline for a week submits against the form
    version it has, and its needs are taken even when the catalogue moved on (retired items stay readable).
    `category` is the item's category when it was raised, for the filters and reports.

    Every state change is a conditional UPDATE on (id, status, version): SQLite ignores SELECT … FOR UPDATE, so a
    change made by someone else in between changes zero rows, and that is the conflict (409).

    Every write of a need touches its household, by trigger (migrations/0013_need_sync.py), so offline sync sends
    the file again with its needs; that takes the sync counter's lock: lock the household before writing a need.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    household = fields.ForeignKeyField("models.Household", related_name="needs", on_delete=fields.RESTRICT)
    member = fields.CharField(max_length=64, null=True)  # a member's id, or the name a form gave
    item = fields.CharField(max_length=64, db_index=True)
    category = fields.CharField(max_length=64, null=True)
    urgency = fields.CharField(max_length=16, default="normal")
    description = fields.TextField(null=True)
    # Set when a submission's bindings raised it: one need per (submission, pointer), whatever retries.
    submission = fields.ForeignKeyField("models.Submission", null=True, related_name="needs", on_delete=fields.RESTRICT)
    pointer = fields.CharField(max_length=500, null=True)
    raised_by = fields.ForeignKeyField("models.User", null=True, related_name="needs_raised", on_delete=fields.SET_NULL)
    raised_at = fields.DatetimeField(db_index=True)
    due_at = fields.DatetimeField()
    status = fields.CharField(max_length=16, default="raised", db_index=True)
    version = fields.IntField(default=1)
    # The household's consent to share what a provider needs to serve it, and the contact it agreed to share.
    consent = fields.BooleanField(default=False)
    contact = fields.CharField(max_length=100, null=True)
    provider = fields.ForeignKeyField("models.Provider", null=True, related_name="needs", on_delete=fields.RESTRICT)
    dispatched_at = fields.DatetimeField(null=True)
    accepted_at = fields.DatetimeField(null=True)
    started_at = fields.DatetimeField(null=True)
    done_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    rating = fields.SmallIntField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "need"
        unique_together = (("submission", "pointer"),)
        indexes = (("household_id", "raised_at"), ("provider_id", "status"))


class NeedEvent(Model):
    """Every action on a need: who, when, from which state to which, and why (a decline's or a closing's reason,
    the provider dispatched to, the completion's note and confirmation, a rating)."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    need = fields.ForeignKeyField("models.Need", related_name="events", on_delete=fields.CASCADE)
    action = fields.CharField(max_length=16)
    from_status = fields.CharField(max_length=16, null=True)
    to_status = fields.CharField(max_length=16)
    actor = fields.ForeignKeyField("models.User", null=True, related_name="need_events", on_delete=fields.SET_NULL)
    actor_name = fields.CharField(max_length=64)
    provider = fields.ForeignKeyField("models.Provider", null=True, related_name="need_events",
                                      on_delete=fields.RESTRICT)
    at = fields.DatetimeField()
    reason = fields.TextField(null=True)
    detail = fields.JSONField(default=dict)

    class Meta:
        table = "need_event"
        indexes = (("need_id", "at"), ("provider_id", "action"))


class NeedAttachment(Model):
    """A photo that proves a service was done."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    need = fields.ForeignKeyField("models.Need", related_name="proofs", on_delete=fields.CASCADE)
    attachment = fields.ForeignKeyField("models.Attachment", related_name="need_links", on_delete=fields.RESTRICT)

    class Meta:
        table = "need_attachment"
        unique_together = (("need", "attachment"),)


class ProviderArea(Model):
    """An area a provider serves: a community, or a whole township or county."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    provider = fields.ForeignKeyField("models.Provider", related_name="area_links", on_delete=fields.CASCADE)
    area = fields.ForeignKeyField("models.Area", related_name="provider_links", on_delete=fields.RESTRICT)

    class Meta:
        table = "provider_area"
        unique_together = (("provider", "area"),)


class ProviderOffer(Model):
    """One line of a provider's supply list: an item, how many a month, free or at what price, whom to call."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    provider = fields.ForeignKeyField("models.Provider", related_name="offers", on_delete=fields.CASCADE)
    item = fields.CharField(max_length=64, db_index=True)
    monthly_capacity = fields.IntField()
    free = fields.BooleanField(default=True)
    price = fields.CharField(max_length=100, null=True)
    contact = fields.CharField(max_length=100)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "provider_offer"
        unique_together = (("provider", "item"),)


class NeedsMonth(Model):
    """A township's month of needs, closed: its report frozen when the township approved it, then approved by the
    county (the bureau). Once closed, the month's report is this copy, whatever changes later."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    area = fields.ForeignKeyField("models.Area", related_name="needs_months", on_delete=fields.RESTRICT)
    month = fields.CharField(max_length=7)
    report = fields.JSONField()
    state = fields.CharField(max_length=32)  # township_approved → county_approved
    township_by = fields.ForeignKeyField("models.User", null=True, related_name="months_closed",
                                         on_delete=fields.SET_NULL)
    township_at = fields.DatetimeField()
    county_by = fields.ForeignKeyField("models.User", null=True, related_name="months_approved",
                                       on_delete=fields.SET_NULL)
    county_at = fields.DatetimeField(null=True)

    class Meta:
        table = "needs_month"
        unique_together = (("area", "month"),)
