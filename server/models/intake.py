"""What comes in from the field: photos, visits, submissions, their photo links and reviews."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model


class Attachment(Model):
    """A photo stored by its sha256, with the evidence its EXIF gives (time, place).

    Recorded only once its file is synced in the store, so a row never points to a missing file.
    """

    sha256 = fields.CharField(max_length=64, primary_key=True)
    media_type = fields.CharField(max_length=32)
    size = fields.BigIntField()
    width = fields.IntField()
    height = fields.IntField()
    taken_at = fields.DatetimeField(null=True)
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    uploaded_by = fields.ForeignKeyField("models.User", null=True, related_name="attachments_uploaded", on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()

    class Meta:
        table = "attachment"


class PhotoHolder(Model):
    """A user who has sent a photo's bytes, and so may use and open it.

    Content addressing names a photo by its hash, but knowing the hash (from a screenshot, an export, a log) must not
    open it: only sending the bytes, or seeing a submission that uses the photo, does. Photos stored before this
    table existed have no holders: a phone still holding one is told it is missing, uploads it again and is recorded.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    attachment = fields.ForeignKeyField("models.Attachment", related_name="holders", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("models.User", related_name="photos_held", on_delete=fields.CASCADE)
    at = fields.DatetimeField()

    class Meta:
        table = "photo_holder"
        unique_together = (("attachment", "user"),)


class Visit(Model):
    """One contact between a worker and a household, carrying one or more submissions.

    A correction joins the visit of the submission it replaces.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    household = fields.ForeignKeyField("models.Household", related_name="visits", on_delete=fields.RESTRICT)
    worker = fields.ForeignKeyField("models.User", null=True, related_name="visits", on_delete=fields.SET_NULL)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    observed_at = fields.DatetimeField(db_index=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "visit"
        # A household's visits newest first: its last visit, which the visit plans count from.
        indexes = (("household_id", "observed_at"),)


class Submission(Model):
    """One filled form version for one household. Never changed after it is stored, except its review.

    `original_id` is the first submission of a chain of corrections (itself for an original); `replaces` names the
    one a correction replaces and is unique, so one submission is replaced at most once, even by racing phones.
    """

    id = fields.UUIDField(primary_key=True)
    form = fields.ForeignKeyField("models.Form", related_name="submissions", on_delete=fields.RESTRICT)
    form_version = fields.ForeignKeyField("models.FormVersion", related_name="submissions", on_delete=fields.RESTRICT)
    household = fields.ForeignKeyField("models.Household", related_name="submissions", on_delete=fields.RESTRICT)
    visit = fields.ForeignKeyField("models.Visit", related_name="submissions", on_delete=fields.RESTRICT)
    author = fields.ForeignKeyField("models.User", null=True, related_name="submissions", on_delete=fields.SET_NULL)
    data = fields.JSONField()
    changes = fields.JSONField(default=dict)
    flags = fields.JSONField(default=list)
    body_hash = fields.CharField(max_length=64)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    observed_at = fields.DatetimeField()
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    received_at = fields.DatetimeField(db_index=True)
    original_id = fields.UUIDField(db_index=True)
    replaces = fields.OneToOneField("models.Submission", null=True, related_name="replaced_by", on_delete=fields.RESTRICT)
    review_state = fields.CharField(max_length=16, default="pending", db_index=True)
    reviewed_by = fields.ForeignKeyField("models.User", null=True, related_name="submissions_reviewed", on_delete=fields.SET_NULL)
    reviewed_at = fields.DatetimeField(null=True)
    review_comment = fields.TextField(null=True)

    class Meta:
        table = "submission"


class SubmissionAttachment(Model):
    """A photo a submission refers to, at the pointer of the photo question that holds it."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    submission = fields.ForeignKeyField("models.Submission", related_name="attachment_links", on_delete=fields.RESTRICT)
    attachment = fields.ForeignKeyField("models.Attachment", related_name="submission_links", on_delete=fields.RESTRICT)
    pointer = fields.CharField(max_length=500)

    class Meta:
        table = "submission_attachment"
        unique_together = (("submission", "pointer"),)
        # A new submission looks up the other uses of its photos (evidence of reuse).
        indexes = (("attachment_id",),)


class Review(Model):
    """A supervisor's approval or return of a submission, with the comment.

    The submission keeps the latest review. These rows keep every one.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    submission = fields.ForeignKeyField("models.Submission", related_name="reviews", on_delete=fields.RESTRICT)
    reviewer = fields.ForeignKeyField("models.User", null=True, related_name="reviews", on_delete=fields.SET_NULL)
    state = fields.CharField(max_length=16)
    comment = fields.TextField(null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "review"
