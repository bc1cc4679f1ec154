"""Form lifecycle: drafts, publishing immutable versions, retiring, and compiled versions for checking data."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict

import forms
from server.caller import Caller
from server.models import Form, FormVersion
from server.problems import FieldProblem, InvalidInput
from server.scope import forms_visible_to

# Compiled validators, by FormVersion id. A published version never changes, so a per-process cache
# is derived data, never shared state: every instance can rebuild it from the database.
_COMPILED: OrderedDict = OrderedDict()
_COMPILED_MAX = 256


def compiled(version: FormVersion) -> forms.CompiledForm:
    form = _COMPILED.get(version.id)
    if form is None:
        form = forms.compile_form(version.schema, version.ui)
        _COMPILED[version.id] = form
        if len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    else:
        _COMPILED.move_to_end(version.id)
    return form


async def version_for_submission(caller: Caller, slug: str, number: int) -> tuple[FormVersion, forms.CompiledForm]:
    """The named published version, ready to check data; 422 at /form or /version when it cannot take data."""
    form = await Form.filter(await forms_visible_to(caller), slug=slug).first()
    if form is None:
        raise InvalidInput(errors=[FieldProblem("/form", "表单不存在")])
    if form.retired_at is not None:
        raise InvalidInput(errors=[FieldProblem("/form", "该表单已停用，不再接收新的提交")])
    version = await FormVersion.get_or_none(form_id=form.id, version=number)
    if version is None:
        raise InvalidInput(errors=[FieldProblem("/version", f"表单「{form.draft_title}」没有第 {number} 版")])
    return version, compiled(version)


def etag_of(title: str, schema: dict, ui: dict) -> str:
    canonical = json.dumps([title, schema, ui], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
