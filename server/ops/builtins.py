"""The service catalogue and the built-in forms every installation starts with, loaded again after an upgrade."""

from __future__ import annotations

import forms
from server.core.clock import now
from server.core.problems import InvalidInput
from server.models import Form
from server.ops.errors import SetupError
from server.surveys.catalogue import load_catalogue
from server.surveys.versions import etag_of, latest_etag, publish_draft


async def load_builtins() -> str:
    """The service catalogue and the built-in forms, and what changed in words."""
    added, published = await publish_builtins()
    return f"服务目录：新增 {added} 项；内置表单：" + ("发布了 " + "、".join(published) if published else "均已是最新")


async def publish_builtins() -> tuple[int, list[str]]:
    """(catalogue categories and items added, forms published): a form is published again only when its definition
    changed; the catalogue only gains what it lacks (`load_catalogue`)."""
    added = await load_catalogue(forms.catalogue())
    published = []
    for builtin in forms.builtin_forms():
        draft = {"draft_title": builtin["title"], "draft_schema": builtin["schema"], "draft_ui": builtin["ui"]}
        form, _ = await Form.get_or_create(slug=builtin["slug"], defaults=draft | {"draft_updated_at": now()})
        if etag_of(builtin["title"], builtin["schema"], builtin["ui"]) == await latest_etag(form):
            continue
        await form.update_from_dict(draft | {"draft_updated_at": now()}).save()
        try:
            await publish_draft(form, None)
        except InvalidInput as exc:
            raise SetupError(f"内置表单 {builtin['slug']} 有误：{exc.errors[0].pointer} {exc.errors[0].detail}") from None
        published.append(f"{builtin['title']}（第 {form.latest_version} 版）")
    return added, published
