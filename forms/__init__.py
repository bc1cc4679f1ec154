"""Doorstep's form engine: JSON Schema 2020-12 forms with UI hints and household bindings.

Pure and synchronous: no database, no network, no clock. The server calls only what is
exported here.
"""

from __future__ import annotations

from typing import Any

from forms.bindings import Changes
from forms.computing import Computed, Difference
from forms.definition import check_definition
from forms.depth import TOO_DEEP, too_deep
from forms.engine import CompiledForm
from forms.errors import FieldError, FormDefinitionError
from forms.library import builtin_forms, catalogue

__all__ = ["Changes", "CompiledForm", "Computed", "Difference", "compute", "FieldError", "FormDefinitionError", "binding_changes",
           "builtin_forms", "catalogue", "check", "check_definition", "compile_form"]


def compile_form(schema: dict, ui: dict) -> CompiledForm:
    """Compile a published definition once; reuse the result for every submission to it.

    Expects a definition check_definition accepted; raises FormDefinitionError if it cannot compile.
    """
    for name, part in (("schema", schema), ("ui", ui)):
        if (at := too_deep(part)) is not None:  # a version stored before the bound: refused before it is walked
            raise FormDefinitionError([FieldError(f"/{name}{at}", TOO_DEEP)])
    try:
        return CompiledForm(schema, ui)
    except (ValueError, TypeError, KeyError, LookupError) as e:
        raise FormDefinitionError([FieldError("/schema", f"表单无法编译：{str(e).splitlines()[0] if str(e) else e!r}")]) from e


def check(form: CompiledForm, data: Any) -> list[FieldError]:
    """Every error in `data`, pointers relative to the data root; [] when it may be accepted."""
    # Depth is checked before the validator or any walk meets it; when the form itself bounds it, only data the
    # validator refuses can be too deep, and valid data is spared the walk.
    walked = form.depth_bound is None
    if walked and (at := too_deep(data)) is not None:
        return [FieldError(at, TOO_DEEP)]
    try:
        valid = form.is_valid(data)
    except (ValueError, TypeError):
        valid = None  # not JSON, unless it is too deep
    if valid:
        return [] if form.rules.empty else form.rules.errors(data)
    if not walked and (at := too_deep(data)) is not None:
        return [FieldError(at, TOO_DEEP)]
    if valid is None:
        return [FieldError("", "提交内容不是有效的 JSON")]
    errors = form.report(data)
    return errors if form.rules.empty else list(dict.fromkeys(errors + form.rules.errors(data)))


def compute(form: CompiledForm, data: Any) -> Computed:
    """`data` with the server's own value for each calculated question, and where the sent values differed.

    Run before check(): the checks then judge the server's values. Never raises on any JSON."""
    return form.rules.compute(data)  # walks only where calculated answers go, and checks depth before copying


def binding_changes(form: CompiledForm, data: dict) -> Changes:
    """What valid `data` does to the household file: situation, members, needs."""
    return form.changes(data)
