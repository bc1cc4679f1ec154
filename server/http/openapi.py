"""OpenAPI 3.1 description built from the routes themselves, so it lists exactly what exists: every path and method
(HEAD too, which Starlette answers wherever there is a GET), typed parameters, the bodies the handlers check, the
replies they make (`server.http.schemas`), and the problem shape of every error."""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING

from server.core import permissions
from server.http import schemas

if TYPE_CHECKING:
    from server.http.routing import Operation

_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")

# Path parameters by name: what the server takes there. A malformed one is a 404, like a record that does not exist.
PATH_PARAMETERS = {
    "id": ("编号", schemas.UUID),
    "slug": ("表单代号", schemas.SLUG),
    "version": ("版本号", {"type": "integer", "minimum": 1}),
    "sha256": ("照片内容的 SHA-256（十六进制）", {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}),
    "format": ("文件格式", {"enum": ["xlsx", "csv"]}),
}

REQUEST_ID = {"X-Request-Id": schemas.header("本次请求的编号，服务器日志中可查")}
PROBLEM = {"description": "问题详情 (RFC 9457)", "headers": REQUEST_ID,
           "content": {"application/problem+json": {"schema": schemas.ref("Problem")}}}
NOT_AUTHENTICATED = PROBLEM | {"description": "未登录，或令牌无效、过期", "headers": REQUEST_ID | {
    "WWW-Authenticate": schemas.header("认证方式", {"const": "Bearer"})}}
TOO_MANY_ATTEMPTS = PROBLEM | {"description": "登录失败次数过多，须等待", "headers": REQUEST_ID | {
    "Retry-After": schemas.header("须等待的秒数", {"type": "integer", "minimum": 1})}}


def describe(operations: list[Operation]) -> dict:
    paths: dict[str, dict] = {}
    for op in operations:
        paths.setdefault(_PARAM.sub(r"{\1}", op.path), {})[op.method.lower()] = _operation(op)
    for item in paths.values():
        if "get" in item and "head" not in item:
            item["head"] = _head_of(item["get"])
    return {
        "openapi": "3.1.0",
        "info": {"title": "Doorstep API", "version": "1", "description": "乡镇（街道）社工站入户走访与需求清单后端"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas.COMPONENTS,
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _operation(op: Operation) -> dict:
    # A handler that declares no replies (a test fails on it) is still listed, with its success left undescribed.
    replies = getattr(op.handler, "replies", None) or {"2XX": {"description": "成功"}}
    doc = inspect.getdoc(op.handler) or op.handler.__name__
    responses = {str(status): _with_request_id(reply) for status, reply in sorted(replies.items())}
    responses |= {"4XX": PROBLEM, "5XX": PROBLEM}
    if op.action is not None or op.path.endswith("/auth/token"):
        responses["401"] = NOT_AUTHENTICATED
    if op.path.endswith("/auth/token"):
        responses["429"] = TOO_MANY_ATTEMPTS
    operation = {"operationId": op.handler.__name__, "summary": doc.splitlines()[0], "responses": responses}
    declared = list(getattr(op.handler, "params", ()))
    named = {p["name"] for p in declared if p["in"] == "path"}
    params = [_path_parameter(name, kind) for name, kind in _PARAM.findall(op.path) if name not in named] + declared
    if params:
        operation["parameters"] = params
    if op.action is None:
        operation["security"] = []
    else:
        action = permissions.ACTIONS[op.action]
        roles = "、".join(permissions.ROLE_NAMES[r] for r in permissions.ROLES if r in action.roles)
        operation["description"] = f"权限 `{op.action}`（{action.meaning}）：{roles}"
        operation["x-permission"] = op.action
    if (schema := getattr(op.handler, "body_schema", None)) is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    elif media_types := getattr(op.handler, "raw_body", ()):
        operation["requestBody"] = {"required": True, "description": "照片的原始字节", "content": {
            t: {"schema": {"type": "string", "format": "binary"}} for t in media_types}}
    return operation


def _path_parameter(name: str, converter: str) -> dict:
    """The common path parameters by name; another is a string (or Starlette's integer), unless its handler
    declares it (`schemas.path`)."""
    title, schema = PATH_PARAMETERS.get(name, (name, {"type": "integer" if converter == "int" else "string"}))
    return {"name": name, "in": "path", "required": True, "description": title, "schema": schema}


def _with_request_id(reply: dict) -> dict:
    return reply | {"headers": REQUEST_ID | reply.get("headers", {})}


def _head_of(get: dict) -> dict:
    """HEAD is the GET without its body: the same statuses and headers."""
    head = get | {"operationId": get["operationId"] + "_head", "summary": get["summary"] + "（仅响应头）"}
    head["responses"] = {status: {k: v for k, v in reply.items() if k != "content"} if status[0] in "23" else reply
                         for status, reply in get["responses"].items()}
    return head
