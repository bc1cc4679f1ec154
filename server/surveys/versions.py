"""Form lifecycle: drafts, publishing immutable versions, retiring, and compiled versions for checking data."""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

import forms
from server.core import audit, canonical, sql
from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import INT_MAX, parse_id, parse_slug
from server.core.pagination import Page, paginate
from server.core.permissions import allows
from server.core.problems import Conflict, FieldProblem, Forbidden, FormNotFound, InvalidInput, invalid
from server.core.scope import forms_visible_to, forms_where, scope_of
from server.models import Area, CatalogueItem, Form, FormVersion

# Compiled validators, by FormVersion id. A published version never changes, so a per-process cache
# is derived data, never shared state: every instance can rebuild it from the database.
_COMPILED: OrderedDict = OrderedDict()
_COMPILED_MAX = 256


def compiled(version: FormVersion) -> forms.CompiledForm:
    form = _cached(version.id)
    return form if form is not None else _remember(version.id, version.schema, version.ui)


async def compiled_by_id(version_id: uuid.UUID) -> forms.CompiledForm:
    """Like `compiled`, reading the (large) schema and ui from the database only when they are not compiled yet."""
    form = _cached(version_id)
    if form is None:
        row = await FormVersion.get(id=version_id).values("schema", "ui")
        form = _remember(version_id, row["schema"], row["ui"])
    return form


def _cached(version_id: uuid.UUID) -> forms.CompiledForm | None:
    form = _COMPILED.get(version_id)
    if form is not None:
        _COMPILED.move_to_end(version_id)
    return form


def _remember(version_id: uuid.UUID, schema: dict, ui: dict) -> forms.CompiledForm:
    form = _COMPILED[version_id] = forms.compile_form(schema, ui)
    if len(_COMPILED) > _COMPILED_MAX:
        _COMPILED.popitem(last=False)
    return form


async def version_for_submission(caller: Caller, slug: str,
                                 number: int) -> tuple[uuid.UUID, uuid.UUID, forms.CompiledForm]:
    """(form id, version id, compiled version) of the named published version, ready to check data; 422 at /form or
    /version when it cannot take data. Whether the form is retired is read every time: only a version never changes."""
    params: list = [slug, number]
    visible = await forms_where(caller, "f", "a", params)
    rows = await sql.fetch(f"""
        SELECT v.id, v.form_id, f.retired_at FROM form_version v
        JOIN form f ON f.id = v.form_id
        LEFT JOIN area a ON a.id = f.area_id
        WHERE f.slug = $1 AND v.version = $2 AND {visible}""", params)
    if not rows or rows[0]["retired_at"] is not None:
        raise await _refusal(caller, slug, number)
    version_id, form_id = sql.as_uuid(rows[0]["id"]), sql.as_uuid(rows[0]["form_id"])
    return form_id, version_id, await compiled_by_id(version_id)


async def _refusal(caller: Caller, slug: str, number: int) -> InvalidInput:
    """Why the named version takes no data: no such form, a retired form, or no such version of it."""
    form = await Form.filter(await forms_visible_to(caller), slug=slug).first().values("draft_title", "retired_at")
    if form is None:
        return InvalidInput(errors=[FieldProblem("/form", "表单不存在")])
    if form["retired_at"] is not None:
        return InvalidInput(errors=[FieldProblem("/form", "该表单已停用，不再接收新的提交")])
    return InvalidInput(errors=[FieldProblem("/version", f"表单「{form['draft_title']}」没有第 {number} 版")])


def etag_of(title: str, schema: dict, ui: dict) -> str:
    return canonical.digest([title, schema, ui])


async def list_forms(caller: Caller, cursor: str | None) -> Page:
    """Designers see every form they may see, drafts and retired ones too; workers the forms they may fill."""
    query = Form.filter(await forms_visible_to(caller))
    if not allows(caller, "form.read_drafts"):
        query = query.filter(latest_version__gt=0, retired_at__isnull=True)
    return await paginate(query, cursor, order=("slug", "id"), shape=summary)


async def get_form(caller: Caller, slug: str) -> Form:
    form = await Form.filter(await forms_visible_to(caller), slug=parse_slug(slug, FormNotFound)).first()
    if form is None or (form.latest_version == 0 and not allows(caller, "form.read_drafts")):
        raise FormNotFound()
    return form


async def create_form(caller: Caller, data: dict) -> Form:
    """A supervisor's form belongs to its township, the bureau's to its county; admins may make built-ins."""
    area = await _home_area(caller, data.get("area"))
    form = Form(
        slug=data["slug"], area=area, draft_title=data["title"], draft_schema=data["schema"], draft_ui=data.get("ui", {}),
        draft_updated_at=now(), created_by_id=caller.id,
    )
    try:
        async with in_transaction():
            await form.save()
            await audit.record(caller, "form.created", "form", form.slug)
    except IntegrityError:
        raise Conflict(f"表单代号「{data['slug']}」已被使用。") from None
    return form


async def replace_draft(caller: Caller, slug: str, data: dict) -> Form:
    form = await _designable(caller, slug)
    if form.retired_at is not None:
        raise Conflict("该表单已停用，不能再修改。")
    form.draft_title, form.draft_schema, form.draft_ui = data["title"], data["schema"], data.get("ui", {})
    form.draft_updated_at = now()
    async with in_transaction():
        await form.save()
        await audit.record(caller, "form.draft_replaced", "form", form.slug)
    return form


async def publish(caller: Caller, slug: str) -> FormVersion:
    """The draft becomes version n+1 after a full check of the definition; it never changes again."""
    form = await _designable(caller, slug)
    if form.retired_at is not None:
        raise Conflict("该表单已停用，不能再发布。")
    version = await publish_draft(form, caller)
    if version is None:
        raise Conflict(f"草稿与第 {form.latest_version} 版完全相同，无需发布。")
    return version


async def publish_draft(form: Form, publisher: Caller | None) -> FormVersion | None:
    """Publish the form's draft as its next version, or return None if it is the latest version already.
    `publisher` is None for what Doorstep itself publishes (the built-in forms)."""
    items = set(await CatalogueItem.all().values_list("code", flat=True))
    # Off the event loop: a large definition takes a while to check and compile.
    errors = await asyncio.to_thread(forms.check_definition, form.draft_schema, form.draft_ui, catalogue_items=items)
    if errors:
        raise InvalidInput("表单定义有误，未能发布。", [FieldProblem(e.pointer, e.detail) for e in errors])
    etag = etag_of(form.draft_title, form.draft_schema, form.draft_ui)
    if etag == await latest_etag(form):
        return None
    version = FormVersion(
        form=form, version=form.latest_version + 1, title=form.draft_title, schema=form.draft_schema, ui=form.draft_ui,
        etag=etag, published_at=now(), published_by_id=publisher.id if publisher else None,
    )
    try:
        async with in_transaction():
            await version.save()
            # Guarded by the old number: of two concurrent publishes, one wins and the other is a conflict.
            moved = await Form.filter(id=form.id, latest_version=form.latest_version).update(latest_version=version.version)
            if not moved:
                raise IntegrityError("concurrent publish")
            await audit.record(publisher, "form.published", "form", form.slug, actor_name=None if publisher else "系统",
                               version=version.version)
    except IntegrityError:
        raise Conflict("该表单刚刚被他人发布，请刷新后重试。") from None
    form.latest_version = version.version
    return version


async def latest_etag(form: Form) -> str | None:
    return await FormVersion.filter(form_id=form.id, version=form.latest_version).first().values_list("etag", flat=True)


async def retire(caller: Caller, slug: str) -> Form:
    """No new submissions; everything submitted stays readable against its version."""
    form = await _designable(caller, slug)
    if form.retired_at is None:
        form.retired_at = now()
        async with in_transaction():
            await form.save()
            await audit.record(caller, "form.retired", "form", form.slug)
    return form


async def get_version(caller: Caller, slug: str, number: int) -> FormVersion:
    form = await get_form(caller, slug)
    version = await FormVersion.get_or_none(form_id=form.id, version=number) if number <= INT_MAX else None
    if version is None:
        raise FormNotFound(f"表单「{form.draft_title}」没有第 {number} 版。")
    version.form = form
    return version


async def _designable(caller: Caller, slug: str) -> Form:
    form = await get_form(caller, slug)
    if not allows(caller, "form.design_any") and form.area_id not in await _own_area_ids(caller):
        raise Forbidden("只能修改本辖区的表单。")
    return form


async def _home_area(caller: Caller, area_id: str | None) -> Area | None:
    if allows(caller, "form.design_any"):
        return await Area.get_or_none(id=parse_id(area_id, pointer="/area")) if area_id else None
    own = await _own_area_ids(caller)
    if area_id is None and len(own) == 1:
        return await Area.get(id=next(iter(own)))
    if area_id is None or parse_id(area_id, pointer="/area") not in own:
        raise invalid("/area", "请指定您所负责的一个乡镇（街道）或区（县）")
    return await Area.get(id=area_id)


async def _own_area_ids(caller: Caller) -> set:
    scope = await scope_of(caller)
    return set(scope.townships | scope.counties)


def summary(form: Form) -> dict:
    return {
        "slug": form.slug,
        "title": form.draft_title,
        "area": str(form.area_id) if form.area_id else None,
        "latest_version": form.latest_version or None,
        "retired": form.retired_at is not None,
    }


def as_api(form: Form, caller: Caller) -> dict:
    body = summary(form)
    if allows(caller, "form.read_drafts"):
        body["draft"] = {"title": form.draft_title, "schema": form.draft_schema, "ui": form.draft_ui,
                         "updated_at": form.draft_updated_at.isoformat()}
    return body


def version_as_api(version: FormVersion) -> dict:
    return {
        "slug": version.form.slug,
        "version": version.version,
        "title": version.title,
        "schema": version.schema,
        "ui": version.ui,
        "published_at": version.published_at.isoformat(),
    }
