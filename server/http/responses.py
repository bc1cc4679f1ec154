"""Rendering replies: JSON that keeps Chinese readable, and problem details with the headers their status calls for."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse

from server.core.problems import (MethodNotAllowed, NotAuthenticated, Problem, RangeNotSatisfiable, TooLarge,
                                  TooManyAttempts)


class ApiResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


class ProblemResponse(ApiResponse):
    media_type = "application/problem+json"


def problem_response(problem: Problem, request_id: str | None = None) -> ProblemResponse:
    body = problem.as_api()
    if request_id:
        body["request_id"] = request_id
    return ProblemResponse(body, status_code=problem.status, headers=problem_headers(problem))


def problem_headers(problem: Problem) -> dict[str, str]:
    if isinstance(problem, NotAuthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(problem, TooManyAttempts):
        return {"Retry-After": str(problem.retry_after)}
    if isinstance(problem, TooLarge):
        # The rest of the body is not read: the connection cannot carry another request after it.
        return {"Connection": "close"}
    if isinstance(problem, RangeNotSatisfiable):
        return {"Content-Range": f"bytes */{problem.size}", "Accept-Ranges": "bytes"}
    if isinstance(problem, MethodNotAllowed):
        return {"Allow": ", ".join(problem.allowed)}
    return {}
