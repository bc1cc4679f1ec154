"""HTTP only: each handler parses input, calls one domain function and shapes the reply."""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from server.core.problems import InvalidInput
from server.http.bodies import BodySchema, check_body, obj, read_json


def accepts(validator: BodySchema):
    """Read and check the JSON body before the handler runs; the schema also documents the route."""

    def decorate(handler: Callable[[Request, dict], Awaitable[Response]]):
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            return await handler(request, await read_json(request, validator))

        endpoint.body_schema = validator.schema
        return endpoint

    return decorate


def replies(responses: dict[int, dict], *, params: tuple[dict, ...] = (), takes: tuple[str, ...] = ()):
    """Describe the handler for /api/openapi.json: its successful replies by status (`schemas.reply`, …), its
    parameters (`schemas.query`), and the media types of a raw body it reads itself (photos). The query parameters
    are checked against their schemas before the handler runs, as bodies are: what the description says is taken
    is what is taken."""
    queries = [p for p in params if p["in"] == "query"]
    checker = obj({p["name"]: p["schema"] | {"title": p["name"]} for p in queries},
                  tuple(p["name"] for p in queries if p["required"]), additionalProperties=True)

    def decorate(handler: Callable[..., Awaitable[Response]]):
        endpoint = _checking_query(handler, queries, checker) if queries else handler
        endpoint.replies = responses
        endpoint.params = params
        endpoint.raw_body = takes
        return endpoint

    return decorate


def _checking_query(handler: Callable[..., Awaitable[Response]], declared: list[dict], checker: BodySchema):
    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            check_body(checker, _query_values(request, declared))
        except InvalidInput as problem:
            # One complaint per parameter: "too short" and "wrong characters" about one slug say one thing.
            # A query is flat: an error about one item of a repeated parameter is the parameter's ("/tag/1" is "/tag").
            first = {}
            for error in problem.errors:
                pointer = "/".join(error.pointer.split("/")[:2])
                first.setdefault(pointer, replace(error, pointer=pointer))
            raise InvalidInput(errors=list(first.values())) from None
        return await handler(request)

    return endpoint


def _query_values(request: Request, declared: list[dict]) -> dict:
    """The declared parameters that were given, read as their schemas' types."""
    values = {}
    for parameter in declared:
        schema = parameter["schema"]
        if schema.get("type") == "array":
            # Repeated (`tag=a&tag=b`) or a comma list (`tag=a,b`), or both.
            given = request.query_params.getlist(name := parameter["name"])
            items = [item for value in given for item in value.split(",") if item.strip()]
            if items or (given and not parameter.get("allowEmptyValue")):
                values[name] = items
            continue
        value = request.query_params.get(name := parameter["name"])
        if value is None or (value == "" and parameter.get("allowEmptyValue")):
            continue
        if schema.get("type") == "integer" and _DIGITS.fullmatch(value):
            # Past 18 digits a number is only "too large" (and int() of thousands of digits is refused).
            value = int(value) if len(value) <= 18 else 10**18
        elif schema.get("format") == "date-time":
            # A "+" the client left unencoded in the query string arrives as a space: "…T09:00:00 08:00".
            value = _OFFSET_AS_SPACE.sub("+", value)
        values[name] = value
    return values


_DIGITS = re.compile(r"[0-9]+")
_OFFSET_AS_SPACE = re.compile(r" (?=\d\d:\d\d$)")


def query(request: Request, *names: str) -> dict:
    return {name: request.query_params.get(name) for name in names}
