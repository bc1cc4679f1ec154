"""The Starlette application: routes, middleware, error rendering and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route

from media.memory import free_large_blocks_at_once
from media.thumbnails import Thumbnails
from server.core import db
from server.core.problems import HttpError, MethodNotAllowed, NotFound, Problem
from server.households.archive import Context
from server.households.export_runner import Runner, instance_id
from server.households.summary_render import SummaryRenderer
from server.http.logs import configure_logging  # noqa: F401  (the serve command's, and tests')
from server.http.metrics import Metrics
from server.http.middleware import Authentication, RequestContext
from server.http.responses import problem_response
from server.http.routes import console, field_app, operations
from server.http.routing import OPERATIONS, api_routes
from server.intake.photos import image_workers, photo_store
from server.settings import Settings, load_settings

log = logging.getLogger("doorstep.app")


def routes() -> list[Route]:
    """The API's route table, and the pages about it that need no token."""
    return [
        Route("/api/openapi.json", operations.openapi_json, include_in_schema=False),
        Route("/api/docs", operations.api_page, include_in_schema=False),
        Route("/api/docs.js", operations.api_page_script, include_in_schema=False),
        Route("/api/docs/forms", operations.form_guide, include_in_schema=False),
        Route("/", field_app.root, include_in_schema=False),
        Route("/app", field_app.bare_app, include_in_schema=False),
        Route("/app/", field_app.serve, methods=["GET", "HEAD"], include_in_schema=False),
        Route("/app/{path:path}", field_app.serve, methods=["GET", "HEAD"], include_in_schema=False),
        Route("/console", console.bare_console, include_in_schema=False),
        Route("/console/", console.serve, methods=["GET", "HEAD"], include_in_schema=False),
        Route("/console/{path:path}", console.serve, methods=["GET", "HEAD"], include_in_schema=False),
        *api_routes(),
    ]


async def render_problem(request: Request, exc: Problem):
    return problem_response(exc)


async def render_http_exception(request: Request, exc: HTTPException):
    """The framework's own errors, as problems that keep their status (and a 405 its Allow)."""
    if exc.status_code == 404:
        return problem_response(NotFound("该地址不存在。"))
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return problem_response(MethodNotAllowed(sorted(m.strip() for m in allowed.split(",") if m.strip())))
    return problem_response(HttpError(exc.status_code))


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """Build the app; tests pass manage_database=False and open the database themselves."""
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if manage_database:
            await db.connect(settings)
        # Upload temp files left by a crash go before any upload is accepted.
        removed = await app.state.photos.cleanup_temp(older_than=settings.temp_cleanup_after_seconds)
        if removed:
            log.warning("removed %d temporary upload files left by an earlier run", removed)
        runner = asyncio.create_task(app.state.exports.run_forever()) if settings.export_runner else None
        try:
            yield
        finally:
            if runner is not None:
                runner.cancel()  # a job in progress goes back to the queue
                await asyncio.wait([runner])
            await app.state.thumbnails.close()
            app.state.archives.renderer.close()
            app.state.image_workers.shutdown(wait=False)
            if manage_database:
                await db.disconnect()

    app = Starlette(
        routes=routes(),
        middleware=[Middleware(RequestContext), Middleware(Authentication)],
        exception_handlers={Problem: render_problem, HTTPException: render_http_exception},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.operations = OPERATIONS
    app.state.metrics = Metrics()
    app.state.photos = photo_store(settings)
    free_large_blocks_at_once()  # decoded photos' memory goes back to the system when they are freed
    app.state.image_workers = image_workers(settings)
    app.state.thumbnails = Thumbnails(app.state.photos, app.state.image_workers, max_pixels=settings.max_image_pixels)
    # Household archives, and area exports: the runner of this instance, run in the background by the lifespan
    # (tests drive `run_once`). Their summaries are rendered in worker processes started on first use.
    app.state.archives = Context(settings, app.state.photos, app.state.thumbnails, SummaryRenderer())
    app.state.exports = Runner(app.state.archives, instance_id())
    return app
