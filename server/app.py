"""The Starlette application: routes, middleware, error rendering and lifespan."""

from __future__ import annotations

import contextlib
import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route

from media.thumbnails import Thumbnails
from media.workers import ImageWorkers
from server.core import db
from server.core.problems import MethodNotAllowed, NotFound, Problem
from server.http.middleware import Authentication, RequestContext
from server.http.responses import problem_response
from server.http.routes import areas, attachments, audit, auth, forms, households, operations, submissions, users
from server.intake.photos import photo_store
from server.settings import Settings, load_settings

API = "/api/v1"
log = logging.getLogger("doorstep.app")


def routes() -> list[Route]:
    return [
        Route("/healthz", operations.healthz),
        Route("/readyz", operations.readyz),
        Route("/api/openapi.json", operations.openapi_json, include_in_schema=False),
        Route("/api/docs", operations.api_page, include_in_schema=False),
        Route("/api/docs.js", operations.api_page_script, include_in_schema=False),
        Route(f"{API}/auth/token", auth.issue_token, methods=["POST"]),
        Route(f"{API}/auth/logout", auth.logout, methods=["POST"]),
        Route(f"{API}/me", auth.me),
        Route(f"{API}/areas", areas.list_areas),
        Route(f"{API}/areas", areas.create_area, methods=["POST"]),
        Route(f"{API}/areas/{{id}}", areas.get_area),
        Route(f"{API}/areas/{{id}}", areas.update_area, methods=["PATCH"]),
        Route(f"{API}/users", users.list_users),
        Route(f"{API}/users", users.create_user, methods=["POST"]),
        Route(f"{API}/users/{{id}}", users.get_user),
        Route(f"{API}/users/{{id}}", users.update_user, methods=["PATCH"]),
        Route(f"{API}/audit", audit.list_events),
        # Forms and the service catalogue
        Route(f"{API}/catalogue", forms.get_catalogue),
        Route(f"{API}/forms", forms.list_forms),
        Route(f"{API}/forms", forms.create_form, methods=["POST"]),
        Route(f"{API}/forms/{{slug}}", forms.get_form),
        Route(f"{API}/forms/{{slug}}/draft", forms.replace_draft, methods=["PUT"]),
        Route(f"{API}/forms/{{slug}}/publish", forms.publish, methods=["POST"]),
        Route(f"{API}/forms/{{slug}}/retire", forms.retire, methods=["POST"]),
        Route(f"{API}/forms/{{slug}}/versions/{{version:int}}", forms.get_version),
        # Households, photos and submissions from the field
        Route(f"{API}/households/{{id}}", households.register_household, methods=["PUT"]),
        Route(f"{API}/households/{{id}}", households.get_household),
        Route(f"{API}/households/{{id}}/conflicts", households.list_conflicts),
        Route(f"{API}/conflicts/{{id}}/resolve", households.resolve_conflict, methods=["POST"]),
        Route(f"{API}/attachments/{{sha256}}", attachments.put_attachment, methods=["PUT"]),
        Route(f"{API}/attachments/{{sha256}}", attachments.get_attachment, methods=["GET", "HEAD"]),
        Route(f"{API}/orphan-photos", attachments.list_orphans),
        Route(f"{API}/submissions", submissions.list_submissions),
        Route(f"{API}/submissions/{{id}}", submissions.put_submission, methods=["PUT"]),
        Route(f"{API}/submissions/{{id}}", submissions.get_submission),
        Route(f"{API}/submissions/{{id}}/review", submissions.review_submission, methods=["POST"]),
        Route(f"{API}/forms/{{slug}}/submissions.{{format}}", submissions.export_submissions),
    ]


async def render_problem(request: Request, exc: Problem):
    return problem_response(exc)


async def render_http_exception(request: Request, exc: HTTPException):
    if exc.status_code == 405:
        return problem_response(MethodNotAllowed(), None)
    return problem_response(NotFound("该地址不存在。"))


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
        try:
            yield
        finally:
            await app.state.thumbnails.close()
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
    app.state.photos = photo_store(settings)
    app.state.image_workers = ImageWorkers(settings.image_workers)
    app.state.thumbnails = Thumbnails(app.state.photos, app.state.image_workers, max_pixels=settings.max_image_pixels)
    return app


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
