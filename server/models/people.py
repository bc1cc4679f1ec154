"""The area tree, people and their roles, logins and the audit log."""

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


class SubsistenceStandard(Model):
    """A subsistence standard (低保标准) or the extreme-hardship standard (特困供养标准) of an area, per person per
    month in yuan, from the day it took effect. Kept by the bureau; the areas below inherit it: on a date, the
    nearest area (community, township, county) with a standard of the kind in force is the one that applies. Set
    the rural standard on the county and the urban one on each 街道: that is how they differ."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    area = fields.ForeignKeyField("models.Area", related_name="standards", on_delete=fields.RESTRICT)
    kind = fields.CharField(max_length=24)  # subsistence | extreme_hardship
    amount = fields.DecimalField(max_digits=10, decimal_places=2)
    effective_from = fields.DateField()
    created_by = fields.ForeignKeyField("models.User", null=True, related_name="standards_set",
                                        on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()

    class Meta:
        table = "subsistence_standard"
        unique_together = (("area_id", "kind", "effective_from"),)
