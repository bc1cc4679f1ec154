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
