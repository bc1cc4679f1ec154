"""Database models. The schema itself is built only by the migrations in migrations/."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

LEVELS = ("county", "township", "community")
ROLES = ("admin", "bureau", "supervisor", "worker", "provider")


class Area(Model):
    """A county, township or community.

    The hierarchy has exactly three levels, so each area keeps the ids of its county, township and
    community (itself included) in indexed columns: "everything under this township" is one equality
    query, the same on SQLite and PostgreSQL, with no recursive CTE and no collation-sensitive LIKE.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=100)
    level = fields.CharField(max_length=16)
    parent = fields.ForeignKeyField("models.Area", null=True, related_name="children", on_delete=fields.RESTRICT)
    county_id = fields.UUIDField(db_index=True)
    township_id = fields.UUIDField(null=True, db_index=True)
    community_id = fields.UUIDField(null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "area"


class Provider(Model):
    """A social organisation that takes needs (接单)."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "provider"


class User(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    username = fields.CharField(max_length=64, unique=True)
    password_hash = fields.CharField(max_length=255)
    display_name = fields.CharField(max_length=100)
    role = fields.CharField(max_length=16)
    provider = fields.ForeignKeyField("models.Provider", null=True, related_name="users", on_delete=fields.RESTRICT)
    is_active = fields.BooleanField(default=True)
    password_changed_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "app_user"


class UserArea(Model):
    """The areas a user is assigned to: a worker's communities, a supervisor's township, a bureau's county."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    user = fields.ForeignKeyField("models.User", related_name="area_links", on_delete=fields.CASCADE)
    area = fields.ForeignKeyField("models.Area", related_name="user_links", on_delete=fields.RESTRICT)

    class Meta:
        table = "user_area"
        unique_together = (("user", "area"),)


class AccessToken(Model):
    """An opaque bearer token. Only its keyed hash is stored, so a database dump holds no usable token."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    token_hash = fields.CharField(max_length=64, unique=True)
    user = fields.ForeignKeyField("models.User", related_name="tokens", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "access_token"


class LoginFailure(Model):
    """One failed login, counted per username and per address to throttle guessing across all instances."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    username = fields.CharField(max_length=64, db_index=True)
    address = fields.CharField(max_length=64, db_index=True)
    at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "login_failure"


class AuditEvent(Model):
    """Who read, changed, revealed or exported what."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    at = fields.DatetimeField(db_index=True)
    actor = fields.ForeignKeyField("models.User", null=True, related_name="audit_events", on_delete=fields.SET_NULL)
    actor_name = fields.CharField(max_length=64)
    action = fields.CharField(max_length=64, db_index=True)
    target_type = fields.CharField(max_length=32)
    target_id = fields.CharField(max_length=64, null=True, db_index=True)
    household_id = fields.UUIDField(null=True, db_index=True)
    address = fields.CharField(max_length=64, null=True)
    detail = fields.JSONField(default=dict)

    class Meta:
        table = "audit_event"


class Form(Model):
    """A survey form and its editable draft. What workers fill is always a published FormVersion.

    `area` is the township (a supervisor's form) or county (the bureau's) it belongs to; built-in forms have
    none and are offered everywhere.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    slug = fields.CharField(max_length=64, unique=True)
    area = fields.ForeignKeyField("models.Area", null=True, related_name="forms", on_delete=fields.RESTRICT)
    draft_title = fields.CharField(max_length=200)
    draft_schema = fields.JSONField()
    draft_ui = fields.JSONField()
    draft_updated_at = fields.DatetimeField()
    latest_version = fields.IntField(default=0)
    retired_at = fields.DatetimeField(null=True)
    created_by = fields.ForeignKeyField("models.User", null=True, related_name="forms_created", on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "form"


class FormVersion(Model):
    """A published version of a form. Never changed after publishing: phones offline for a week still
    submit against the version they have."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    form = fields.ForeignKeyField("models.Form", related_name="versions", on_delete=fields.RESTRICT)
    version = fields.IntField()
    title = fields.CharField(max_length=200)
    schema = fields.JSONField()
    ui = fields.JSONField()
    etag = fields.CharField(max_length=64)
    published_at = fields.DatetimeField()
    published_by = fields.ForeignKeyField("models.User", null=True, related_name="versions_published", on_delete=fields.SET_NULL)

    class Meta:
        table = "form_version"
        unique_together = (("form", "version"),)


class CatalogueCategory(Model):
    """A category of the service catalogue (社会工作服务项目清单), e.g. 养老服务."""

    code = fields.CharField(max_length=64, primary_key=True)
    name = fields.CharField(max_length=100)
    position = fields.IntField()

    class Meta:
        table = "catalogue_category"


class CatalogueItem(Model):
    """One service a household may need and a provider may offer, e.g. 居家探视巡访."""

    code = fields.CharField(max_length=64, primary_key=True)
    name = fields.CharField(max_length=100)
    category = fields.ForeignKeyField("models.CatalogueCategory", related_name="items", on_delete=fields.RESTRICT)
    position = fields.IntField()

    class Meta:
        table = "catalogue_item"


# --- Households, photos and submissions from the field ---------------------------------------------------------
#
# Ids of households, members and submissions are made by the phones, offline, so they are the primary keys and
# a retry is caught by the key itself (IntegrityError), never by a read-then-write check.


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
    created_by = fields.ForeignKeyField("models.User", null=True, related_name="households_created", on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "household"


class Member(Model):
    """One person of a household.

    `data` holds the member fields bound by forms, `meta` their observation times as on Household.
    """

    id = fields.UUIDField(primary_key=True)
    household = fields.ForeignKeyField("models.Household", related_name="members", on_delete=fields.RESTRICT)
    data = fields.JSONField(default=dict)
    meta = fields.JSONField(default=dict)
    created_by_submission_id = fields.UUIDField(null=True)
    removed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "member"


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
