"""Forms, their immutable published versions, and the service catalogue."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model


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
    # Stamped by a database trigger when the form is retired: phones drop it at their next sync (`sync_seq` on
    # Household says more).
    sync_seq = fields.BigIntField(default=0, db_default=0)

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
    # Stamped by a database trigger when the version is published: phones fetch it at their next sync.
    sync_seq = fields.BigIntField(default=0, db_default=0, db_index=True)

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
    # The days a need of this item has, by its urgency, from when it is raised to when it is due.
    days_normal = fields.IntField(default=30, db_default=30)
    days_high = fields.IntField(default=7, db_default=7)
    days_urgent = fields.IntField(default=2, db_default=2)
    # A retired item is offered to no new need or offer; old needs, offers and forms still read its name.
    retired_at = fields.DatetimeField(null=True)

    class Meta:
        table = "catalogue_item"


# --- Households, photos and submissions from the field ---------------------------------------------------------
#
# Ids of households, members and submissions are made by the phones, offline, so they are the primary keys and
# a retry is caught by the key itself (IntegrityError), never by a read-then-write check.
