"""HTTP only: each handler parses input, calls one domain function and shapes the reply."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from server.http.bodies import BodySchema, read_json


def accepts(validator: BodySchema):
    """Read and check the JSON body before the handler runs; the schema also documents the route."""

    def decorate(handler: Callable[[Request, dict], Awaitable[Response]]):
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            return await handler(request, await read_json(request, validator))

        endpoint.body_schema = validator.schema
        return endpoint

    return decorate


def query(request: Request, *names: str) -> dict:
    return {name: request.query_params.get(name) for name in names}
