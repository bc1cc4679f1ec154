"""ASGI middleware: request ids and the error net, and authentication of every non-public API path."""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from server.core.problems import Problem, UriTooLong
from server.http import logs
from server.http.metrics import route_of
from server.http.responses import problem_response
from server.people.auth import authenticate

log = logging.getLogger("doorstep.request")

# Paths under /api/v1 that answer without a token.
PUBLIC_PATHS = frozenset({"/api/v1/auth/token"})
REQUEST_ID = re.compile(rb"[0-9A-Za-z-]{8,64}")


def client_address(scope: Scope, trusted_proxies: tuple[str, ...]) -> str:
    """The caller's address; X-Forwarded-For is believed only when the direct peer is a trusted proxy."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    if peer in trusted_proxies:
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-for":
                return value.decode("latin-1").split(",")[-1].strip()[:64] or peer
    return peer


class RequestContext:
    """Gives each request an id, logs it, counts it for /metrics, refuses a URL past its limit, and turns any
    unexpected exception into a bare 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = _forwarded_id(scope) or secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        token = logs.request_id.set(request_id)
        started, status = time.perf_counter(), 500
        response_started, received = False, 0

        async def counting_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            return message

        async def send_with_id(message):
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started, status = True, message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            if len(scope.get("raw_path") or b"") + len(scope.get("query_string", b"")) > _url_limit(scope):
                return await problem_response(UriTooLong(), request_id)(scope, receive, send_with_id)
            await self.app(scope, counting_receive, send_with_id)
        except Exception:
            log.exception("请求 %s 出错：%s %s", request_id, scope["method"], scope["path"],
                          extra={"method": scope["method"], "path": scope["path"], "route": route_of(scope)})
            if response_started:
                raise
            await problem_response(Problem(), request_id)(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            scope["app"].state.metrics.observe(scope, status, seconds, received)
            # The path without its query: `?q=` may hold a whole ID number.
            log.info("%s %s %s %d %.1fms", request_id, scope["method"], scope["path"], status, seconds * 1000,
                     extra={"request_id": request_id, "method": scope["method"], "route": route_of(scope),
                            "path": scope["path"], "status": status, "duration_ms": round(seconds * 1000, 1)})
            logs.request_id.reset(token)


def _forwarded_id(scope: Scope) -> str | None:
    """nginx's id of the request (X-Request-ID), when nginx is a trusted proxy: its access log and ours then name
    the request alike."""
    peer = (scope.get("client") or ("", 0))[0]
    if peer not in scope["app"].state.settings.trusted_proxies:
        return None
    for name, value in scope.get("headers", []):
        if name == b"x-request-id" and REQUEST_ID.fullmatch(value):
            return value.decode()
    return None


def _url_limit(scope: Scope) -> int:
    return scope["app"].state.settings.max_url_bytes


class Authentication:
    """Every /api/v1 path but the public ones needs a valid bearer token; handlers find the caller in request.user."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        settings = scope["app"].state.settings
        address = client_address(scope, settings.trusted_proxies)
        scope["state"]["address"] = address
        if scope["path"].startswith("/api/v1/") and scope["path"] not in PUBLIC_PATHS:
            authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
            try:
                scope["user"] = await authenticate(settings, authorization, address)
            except Problem as problem:
                return await problem_response(problem)(scope, receive, send)
        return await self.app(scope, receive, send)
