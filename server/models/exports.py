"""Exports of an area's household files: background jobs that any instance may run, kept in the database."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

EXPORT_STATES = ("queued", "running", "done", "failed", "expired")


class ExportJob(Model):
    """The ZIP of every household file of an area with visits in a period, made in the background.

    queued → running (one instance claimed it: `owner`, its `heartbeat_at` kept fresh) → done (the file is in the
    media store as `blob`, kept until `expires_at`) → expired (the file removed). A running job whose heartbeat went
    stale (its instance died) is failed; a failed or expired job may be queued again (`attempt` counts the runs, and
    names each run's file, so a run thought dead can never overwrite the next one's).
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    state = fields.CharField(max_length=16, default="queued", db_index=True)
    area = fields.ForeignKeyField("models.Area", related_name="export_jobs", on_delete=fields.RESTRICT)
    period_from = fields.DateField()
    period_to = fields.DateField()
    requested_by = fields.ForeignKeyField("models.User", null=True, related_name="export_jobs",
                                          on_delete=fields.SET_NULL)
    owner = fields.CharField(max_length=100, null=True)  # the instance running it
    attempt = fields.IntField(default=0)
    heartbeat_at = fields.DatetimeField(null=True)
    households_total = fields.IntField(default=0)
    households_done = fields.IntField(default=0)
    bytes_written = fields.BigIntField(default=0)
    size = fields.BigIntField(null=True)
    sha256 = fields.CharField(max_length=64, null=True)
    blob = fields.CharField(max_length=200, null=True)
    error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "export_job"
        indexes = (("state", "created_at"),)
