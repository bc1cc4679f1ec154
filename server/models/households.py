"""Household files: the household, its members, and the history and conflicts of what visits observed."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model


class Household(Model):
    """People sharing a home in one community: the unit a file (一户一档) is kept on.

    `situation` is the situation as last seen, one value per binding target; `situation_meta` keeps, per target,
    when that value was observed (`at`, the visit's time), when it reached the server (`received`), by which
    submission and author: later observations win field by field, whatever order phones send them in.
    """

    id = fields.UUIDField(primary_key=True)
    community = fields.ForeignKeyField("models.Area", related_name="households", on_delete=fields.RESTRICT)
    address = fields.CharField(max_length=200)
    head = fields.CharField(max_length=50)
    phone = fields.CharField(max_length=20, null=True)
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    situation = fields.JSONField(default=dict)
    situation_meta = fields.JSONField(default=dict)
    body_hash = fields.CharField(max_length=64)
    # What `q` searches, kept in columns of their own (neither database searches inside JSON alike): the names,
    # address and phone in lower case, and the names' pinyin, full and initials, each word after a space.
    search_text = fields.TextField(default="", db_default="")
    search_pinyin = fields.TextField(default="", db_default="")
    created_by = fields.ForeignKeyField("models.User", null=True, related_name="households_created", on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    # Where the file stands in the one change sequence that offline sync reads (`server.households.sync`). Written by
    # the database, never by the app: triggers stamp it on every write of the household, its members, its
    # conflicts and its needs (migrations/0008_sync_changes.py, 0013_need_sync.py), whatever code made the write.
    sync_seq = fields.BigIntField(default=0, db_default=0, db_index=True)
    # The registered address as duplicates are found by (`server.households.lookalikes.address_key`).
    address_key = fields.CharField(max_length=200, default="", db_default="")
    # A file merged into another (`server.households.merges`): the survivor's id. The row stays, with what it held
    # before, so that the merge can be undone; no foreign key, so that SQLite adds the column without a table rebuild
    # (a rebuild would drop the sync triggers).
    merged_into = fields.UUIDField(null=True, db_index=True)
    merged_at = fields.DatetimeField(null=True)

    class Meta:
        table = "household"
        indexes = (("community_id", "sync_seq"), ("community_id", "address_key"), ("created_at", "id"))


class Member(Model):
    """One person of a household.

    `data` holds the member fields bound by forms, `meta` their observation times as on Household.
    """

    id = fields.UUIDField(primary_key=True)
    household = fields.ForeignKeyField("models.Household", related_name="members", on_delete=fields.RESTRICT)
    data = fields.JSONField(default=dict)
    meta = fields.JSONField(default=dict)
    # A keyed hash (HMAC with the installation's secret) of the ID number: a full number finds its person, and the
    # index holds no number in clear.
    id_number_key = fields.CharField(max_length=64, null=True, db_index=True)
    # The name and birth date, normalised (`server.households.lookalikes.name_birth_key`): one person met twice.
    name_birth_key = fields.CharField(max_length=100, null=True, db_index=True)
    # Set aside by a merge as the same person as this member of the survivor: a phone's later visit that names it
    # (the phone still holds the merged-away file) updates that member instead.
    merged_into = fields.UUIDField(null=True)
    created_by_submission_id = fields.UUIDField(null=True)
    removed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "member"
        indexes = (("household_id",),)


class HouseholdDeparture(Model):
    """A household that left a community: moved to another one, or deleted (merged into another file).

    Written by a database trigger when a household's community changes or its row goes, so that the phones of the
    community it left drop it at their next sync; `seq` is its place in the change sequence.
    """

    seq = fields.BigIntField(primary_key=True, generated=False)
    household_id = fields.UUIDField()
    community_id = fields.UUIDField(db_index=True)

    class Meta:
        table = "household_departure"


class HouseholdChange(Model):
    """History of the household file, one field at a time.

    What a submission set, what lost to a later observation, what a correction took back: nothing a phone sent
    is ever silently dropped.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    household = fields.ForeignKeyField("models.Household", related_name="changes", on_delete=fields.RESTRICT)
    member_id = fields.UUIDField(null=True)
    field = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=16)  # applied, kept (lost to a later observation), reverted, resolved
    old_value = fields.JSONField(null=True)
    old_meta = fields.JSONField(null=True)
    new_value = fields.JSONField(null=True)
    new_meta = fields.JSONField(null=True)
    submission_id = fields.UUIDField(null=True, db_index=True)
    actor = fields.ForeignKeyField("models.User", null=True, related_name="household_changes", on_delete=fields.SET_NULL)
    at = fields.DatetimeField()

    class Meta:
        table = "household_change"


class HouseholdConflict(Model):
    """An offline conflict on one field of a household file, flagged for the supervisor.

    Two observations made without knowledge of each other (phones offline) disagreed: the later one won, the other
    is kept here for the supervisor to confirm or overturn.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    household = fields.ForeignKeyField("models.Household", related_name="conflicts", on_delete=fields.RESTRICT)
    member_id = fields.UUIDField(null=True)
    field = fields.CharField(max_length=64)
    kept_value = fields.JSONField(null=True)
    kept_meta = fields.JSONField()
    lost_value = fields.JSONField(null=True)
    lost_meta = fields.JSONField()
    submission_id = fields.UUIDField(db_index=True)  # the submission whose arrival found the conflict
    state = fields.CharField(max_length=16, default="open", db_index=True)
    resolution = fields.CharField(max_length=16, null=True)
    comment = fields.TextField(null=True)
    resolved_by = fields.ForeignKeyField("models.User", null=True, related_name="conflicts_resolved", on_delete=fields.SET_NULL)
    resolved_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "household_conflict"


class LedgerEntry(Model):
    """One line of a ledger (台账): a person or a household of one kind, with its visit plan.

    A person's line on the elderly, children and disability ledgers; a household's (`member` null) on assistance.
    It carries the visit plan that applies and when the next visit is due. Derived from the file, never edited:
    `server.households.ledgers.sync` rewrites a household's lines whenever its file changes, from what the forms
    bound (tags, birth dates, situation). Ledgers and due lists then filter and sort on these columns; neither
    database filters inside JSON alike.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    household = fields.ForeignKeyField("models.Household", related_name="ledger_entries", on_delete=fields.CASCADE)
    member = fields.ForeignKeyField("models.Member", null=True, related_name="ledger_entries", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=16)
    plan = fields.CharField(max_length=32)  # the code of the visit-plan rule that applies
    every_days = fields.IntField()
    # A child leaves the children's ledger on their 18th birthday, whether or not the file changes that day.
    birth_date = fields.DateField(null=True)
    last_visit_at = fields.DatetimeField(null=True)
    due_at = fields.DatetimeField(db_index=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "ledger_entry"
        indexes = (("household_id",), ("kind", "created_at"))


class HouseholdMerge(Model):
    """Two files of one household merged by a supervisor: `duplicate` into `survivor`, by whom and why.

    `before` keeps what the merge changed on the survivor itself (its updated_at, the situation fields it filled);
    the rows it moved are its `moves`. Undoing the merge puts them back, and is recorded here too.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    survivor = fields.ForeignKeyField("models.Household", related_name="merges_absorbed", on_delete=fields.RESTRICT)
    duplicate = fields.ForeignKeyField("models.Household", related_name="merges_into", on_delete=fields.RESTRICT)
    reason = fields.TextField()
    actor = fields.ForeignKeyField("models.User", null=True, related_name="merges_made", on_delete=fields.SET_NULL)
    at = fields.DatetimeField()
    before = fields.JSONField(default=dict)
    undone_at = fields.DatetimeField(null=True)
    undone_by = fields.ForeignKeyField("models.User", null=True, related_name="merges_undone",
                                       on_delete=fields.SET_NULL)
    undo_reason = fields.TextField(null=True)

    class Meta:
        table = "household_merge"


class HouseholdMergeMove(Model):
    """One row a merge moved or changed (the undo trail): a visit, submission, history row, conflict or member
    moved to the survivor (`kind` names its table), a member combined with the survivor's (`detail`: which one,
    and the fields it filled), or an earlier merge's pointer moved on to the survivor."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    merge = fields.ForeignKeyField("models.HouseholdMerge", related_name="moves", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=16)
    row_id = fields.UUIDField()
    detail = fields.JSONField(null=True)

    class Meta:
        table = "household_merge_move"


class HouseholdTag(Model):
    """A tag of a household: one its living members carry (独居, 残疾, 留守…), or its 救助类型 (低保, 特困).

    Derived from the file, never edited: `server.households.ledgers.sync` rewrites them with the ledger lines. The
    household search filters on them here (`tag=`), as neither database filters inside JSON alike; a row of its own
    table, and not a column of the household, so that rewriting them never stamps the household for offline sync.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    household = fields.ForeignKeyField("models.Household", related_name="tags", on_delete=fields.CASCADE)
    tag = fields.CharField(max_length=32)

    class Meta:
        table = "household_tag"
        unique_together = (("household_id", "tag"),)
        indexes = (("tag", "household_id"),)
