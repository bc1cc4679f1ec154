"""The route table: every path, method, handler and the action of the permission table it needs.

One Starlette route per path dispatches on the method, so that a method the path does not serve is a 405 whose
`Allow` names every method it does serve. The action is checked before the handler runs (and so before a body is
read): a role that may not act gets 403 whatever it sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.core import permissions
from server.http.routes import (areas, attachments, audit, auth, exports, forms, households, ledgers, merges,
                                needs, operations, providers, reports, submissions, sync, users)

API = "/api/v1"
PUBLIC = None  # no token needed, no action checked

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    action: str | None


def _table() -> list[Operation]:
    def op(method: str, path: str, handler: Handler, action: str | None) -> Operation:
        assert action is PUBLIC or action in permissions.ACTIONS, action
        return Operation(method, path, handler, action)

    return [
        op("GET", "/healthz", operations.healthz, PUBLIC),
        op("GET", "/readyz", operations.readyz, PUBLIC),
        # Public to the routing table: who may read it is decided by its own rule (a token, or this machine only).
        op("GET", "/metrics", operations.metrics, PUBLIC),
        op("POST", f"{API}/auth/token", auth.issue_token, PUBLIC),
        op("POST", f"{API}/auth/logout", auth.logout, "account.self"),
        op("GET", f"{API}/me", auth.me, "account.self"),
        op("GET", f"{API}/login-throttles", auth.list_throttles, "login.lift_throttle"),
        op("DELETE", f"{API}/login-throttles", auth.lift_throttle, "login.lift_throttle"),
        op("GET", f"{API}/areas", areas.list_areas, "area.read"),
        op("POST", f"{API}/areas", areas.create_area, "area.manage"),
        op("GET", f"{API}/areas/{{id}}", areas.get_area, "area.read"),
        op("PATCH", f"{API}/areas/{{id}}", areas.update_area, "area.manage"),
        op("GET", f"{API}/areas/{{id}}/standards", areas.list_standards, "standard.read"),
        op("POST", f"{API}/areas/{{id}}/standards", areas.set_standard, "standard.set"),
        op("GET", f"{API}/users", users.list_users, "user.list"),
        op("POST", f"{API}/users", users.create_user, "user.create"),
        op("GET", f"{API}/users/{{id}}", users.get_user, "user.read"),
        op("PATCH", f"{API}/users/{{id}}", users.update_user, "user.update"),
        op("GET", f"{API}/permissions", users.list_permissions, "account.self"),
        op("GET", f"{API}/audit", audit.list_events, "audit.read"),
        # Forms and the service catalogue
        op("GET", f"{API}/catalogue", forms.get_catalogue, "catalogue.read"),
        op("POST", f"{API}/catalogue/items", forms.add_catalogue_item, "catalogue.manage"),
        op("PATCH", f"{API}/catalogue/items/{{code}}", forms.change_catalogue_item, "catalogue.manage"),
        op("GET", f"{API}/forms", forms.list_forms, "form.read"),
        op("POST", f"{API}/forms", forms.create_form, "form.design"),
        op("GET", f"{API}/forms/{{slug}}", forms.get_form, "form.read"),
        op("PUT", f"{API}/forms/{{slug}}/draft", forms.replace_draft, "form.design"),
        op("POST", f"{API}/forms/{{slug}}/publish", forms.publish, "form.design"),
        op("POST", f"{API}/forms/{{slug}}/retire", forms.retire, "form.design"),
        op("GET", f"{API}/forms/{{slug}}/versions/{{version:int}}", forms.get_version, "form.read"),
        # Households, photos and submissions from the field
        op("GET", f"{API}/households", households.find_households, "household.read"),
        op("PUT", f"{API}/households/{{id}}", households.register_household, "household.register"),
        op("GET", f"{API}/households/{{id}}", households.get_household, "household.read"),
        op("PATCH", f"{API}/households/{{id}}", households.correct_household, "household.correct"),
        op("GET", f"{API}/households/{{id}}/history", households.household_history, "household.read"),
        op("GET", f"{API}/households/{{id}}/conflicts", households.list_conflicts, "household.read"),
        op("GET", f"{API}/households/{{id}}/prefill", households.prefill_household, "household.read"),
        op("GET", f"{API}/households/{{id}}/archive", households.archive_household, "household.archive"),
        op("GET", f"{API}/lookalikes", merges.find_lookalikes, "household.register"),
        op("POST", f"{API}/households/{{id}}/merge", merges.merge_households, "household.merge"),
        op("GET", f"{API}/merges/{{id}}", merges.get_merge, "household.read"),
        op("POST", f"{API}/merges/{{id}}/undo", merges.undo_merge, "household.merge"),
        op("POST", f"{API}/members/{{id}}/reveal", households.reveal_id_number, "household.reveal_id"),
        op("POST", f"{API}/conflicts/{{id}}/resolve", households.resolve_conflict, "conflict.resolve"),
        op("GET", f"{API}/sync", sync.sync_changes, "household.sync"),
        op("GET", f"{API}/exports", exports.list_exports, "export.read"),
        op("POST", f"{API}/exports", exports.start_export, "export.start"),
        op("GET", f"{API}/exports/{{id}}", exports.get_export, "export.read"),
        op("POST", f"{API}/exports/{{id}}/restart", exports.restart_export, "export.start"),
        op("GET", f"{API}/exports/{{id}}/file", exports.download_export, "export.read"),
        # Ledgers and visit plans; the workbook's path first, since {kind} would take "elderly.xlsx" whole
        op("GET", f"{API}/ledgers/{{kind}}.xlsx", ledgers.export_ledger, "ledger.read"),
        op("GET", f"{API}/ledgers/{{kind}}", ledgers.read_ledger, "ledger.read"),
        op("GET", f"{API}/visit-plans/due", ledgers.list_due_visits, "visit_plan.due"),
        op("GET", f"{API}/visit-plans/overdue", ledgers.count_overdue_visits, "visit_plan.overdue"),
        op("PUT", f"{API}/attachments/{{sha256}}", attachments.put_attachment, "photo.upload"),
        op("HEAD", f"{API}/attachments/{{sha256}}", attachments.head_attachment, "photo.read"),
        op("GET", f"{API}/attachments/{{sha256}}", attachments.get_attachment, "photo.read"),
        op("GET", f"{API}/orphan-photos", attachments.list_orphans, "photo.orphans"),
        op("GET", f"{API}/submissions", submissions.list_submissions, "submission.read"),
        op("PUT", f"{API}/submissions/{{id}}", submissions.put_submission, "submission.create"),
        op("GET", f"{API}/submissions/{{id}}", submissions.get_submission, "submission.read"),
        op("POST", f"{API}/submissions/{{id}}/review", submissions.review_submission, "submission.review"),
        op("GET", f"{API}/forms/{{slug}}/submissions.zip", submissions.export_submissions_with_photos,
           "submission.export"),
        op("GET", f"{API}/forms/{{slug}}/submissions.{{format}}", submissions.export_submissions,
           "submission.export"),
        # Needs, providers and the supply list
        op("GET", f"{API}/needs", needs.list_needs, "need.read"),
        op("POST", f"{API}/needs", needs.enter_need, "need.raise"),
        op("GET", f"{API}/needs/{{id}}", needs.get_need, "need.read"),
        op("GET", f"{API}/needs/{{id}}/matches", needs.list_matches, "need.dispatch"),
        *(op("POST", f"{API}/needs/{{id}}/{action}", handler, NEED_ACTIONS[action])
          for action, handler in needs.ACTIONS.items()),
        op("GET", f"{API}/providers", providers.list_providers, "provider.read"),
        op("POST", f"{API}/providers", providers.create_provider, "provider.manage"),
        op("GET", f"{API}/providers/{{id}}/offers", providers.read_offers, "provider.read"),
        op("PUT", f"{API}/providers/{{id}}/offers", providers.replace_offers, "offer.manage"),
        op("GET", f"{API}/reports/needs", reports.needs_report, "report.needs"),
        op("POST", f"{API}/reports/needs/approvals", reports.approve_month, "report.approve"),
        op("GET", f"{API}/dispatch-board", reports.dispatch_board, "report.needs"),
    ]


# The permission each action of a need's lifecycle needs.
NEED_ACTIONS = {"consent": "need.raise", "dispatch": "need.dispatch", "reassign": "need.dispatch",
                "accept": "need.serve", "decline": "need.serve", "start": "need.serve", "complete": "need.serve",
                "evaluate": "need.evaluate", "close": "need.close"}


OPERATIONS: list[Operation] = _table()


def api_routes() -> list[Route]:
    """One route per path of the table, in the table's order."""
    by_path: dict[str, dict[str, Operation]] = {}
    for operation in OPERATIONS:
        by_path.setdefault(operation.path, {})[operation.method] = operation
    return [Route(path, _dispatcher(methods), methods=list(methods)) for path, methods in by_path.items()]


def _dispatcher(methods: dict[str, Operation]) -> Handler:
    async def endpoint(request: Request) -> Response:
        # Starlette serves HEAD wherever there is a GET; it is the GET without a body unless the table says otherwise.
        operation = methods.get(request.method) or methods["GET"]
        if operation.action is not PUBLIC:
            permissions.require(request.user, operation.action)
        return await operation.handler(request)

    endpoint.operations = methods
    return endpoint
