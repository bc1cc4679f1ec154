"""OpenAPI 3.1 description built from the routes themselves, so it lists exactly what exists."""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING

from server.core import permissions

if TYPE_CHECKING:
    from server.http.routing import Operation

_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")

PROBLEM = {"description": "问题详情 (RFC 9457)", "content": {"application/problem+json": {"schema": {"type": "object"}}}}


def describe(operations: list[Operation]) -> dict:
    paths: dict[str, dict] = {}
    for op in operations:
        paths.setdefault(_PARAM.sub(r"{\1}", op.path), {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Doorstep API", "version": "1", "description": "乡镇（街道）社工站入户走访与需求清单后端"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _operation(op: Operation) -> dict:
    doc = inspect.getdoc(op.handler) or op.handler.__name__
    operation = {
        "operationId": op.handler.__name__,
        "summary": doc.splitlines()[0],
        "responses": {"2XX": {"description": "成功"}, "4XX": PROBLEM, "5XX": PROBLEM},
    }
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "integer" if kind == "int" else "string"}}
              for name, kind in _PARAM.findall(op.path)]
    if params:
        operation["parameters"] = params
    if op.action is None:
        operation["security"] = []
    else:
        action = permissions.ACTIONS[op.action]
        roles = "、".join(permissions.ROLE_NAMES[r] for r in permissions.ROLES if r in action.roles)
        operation["description"] = f"权限 `{op.action}`（{action.meaning}）：{roles}"
        operation["x-permission"] = op.action
    schema = getattr(op.handler, "body_schema", None)
    if schema is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return operation
