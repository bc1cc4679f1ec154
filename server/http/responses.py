"""Rendering replies: problem details and JSON that keeps Chinese readable."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse

from server.core.problems import Problem


class ApiResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


class ProblemResponse(ApiResponse):
    media_type = "application/problem+json"


def problem_response(problem: Problem, request_id: str | None = None) -> ProblemResponse:
    body = problem.as_api()
    if request_id:
        body["request_id"] = request_id
    return ProblemResponse(body, status_code=problem.status, headers=problem.headers)
