"""OpenAPI 3.1 description built from the routes themselves, so it lists exactly what exists."""

from __future__ import annotations

import inspect
import re

from starlette.routing import Route

PROBLEM = {"description": "问题详情 (RFC 9457)", "content": {"application/problem+json": {"schema": {"type": "object"}}}}


def describe(routes) -> dict:
    paths: dict[str, dict] = {}
    for route in routes:
        if not isinstance(route, Route) or not route.include_in_schema:
            continue
        path = route.path
        for method in sorted(route.methods or ()):
            if method == "HEAD" and "GET" in route.methods:
                continue
            paths.setdefault(path, {})[method.lower()] = _operation(route, path)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Doorstep API", "version": "1", "description": "乡镇（街道）社工站入户走访与需求清单后端"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _operation(route: Route, path: str) -> dict:
    doc = inspect.getdoc(route.endpoint) or route.name
    operation = {
        "operationId": route.name,
        "summary": doc.splitlines()[0],
        "responses": {"2XX": {"description": "成功"}, "4XX": PROBLEM, "5XX": PROBLEM},
    }
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in re.findall(r"{(\w+)", path)]
    if params:
        operation["parameters"] = params
    schema = getattr(route.endpoint, "body_schema", None)
    if schema is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return operation
