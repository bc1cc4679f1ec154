"""The contract as a machine reads it: Schemathesis loads /api/openapi.json from the app and sends every operation
requests made from it, valid and invalid, as users of every role, with ids of records that exist; each reply must be
what the description says (status, media type, headers, body schema), and none may be a 500. Before the fuzzing, one
known-good request per operation makes sure each success reply is checked against its schema at least once.

Schemathesis calls the app synchronously, from a thread and an event loop of its own, while the database connections
belong to the test's loop: the test runs Schemathesis in a worker thread and reaches the app through `OnLoop`, which
runs each request on the test's loop. The Hypothesis test of each operation is built with the builder Schemathesis's
pytest plugin uses (phases, seed, checks as configured); the plugin's lazy loader itself reads `Node._nodeid`,
which pytest 9.2 no longer has, and a schema loaded at import could not know this test's records."""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date

import pytest
import schemathesis
from jsonschema import Draft202012Validator
from schemathesis.checks import load_all_checks
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.python._constants.orchestrator import make_constants_value_source
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

import forms
from factories import (PASSWORD, headers_for, home_visit, jpeg, make_district, make_form_version, make_household,
                       make_need, make_provider, make_user, sha256_of, submission_body, upload)
from server.core import permissions
from server.http import openapi
from server.http.routing import OPERATIONS
from server.core.clock import now
from server.models import ROLES, ExportJob, HouseholdConflict, ProviderArea, ProviderOffer, User
from server.people.auth import issue_token
from server.surveys.catalogue import load_catalogue

# Examples per operation in the fuzzing phase; the coverage phase adds its own (boundaries, missing and unexpected
# values, other methods). 15 keeps both databases' runs near a minute each on two cores.
MAX_EXAMPLES = 15
SEED = 20250318
MONDAY = ("2025-03-17T09:00:00+08:00", "2025-03-17T09:40:00+08:00")
TUESDAY = ("2025-03-18T15:00:00+08:00", "2025-03-18T15:30:00+08:00")


class OnLoop:
    """An ASGI app that hands each request, whole, to `app` on `loop` (in `context`, where Tortoise keeps its
    connections), and plays the reply back on the caller's loop."""

    def __init__(self, app, loop: asyncio.AbstractEventLoop, context: contextvars.Context):
        self.app, self.loop, self.context = app, loop, context

    def run(self, coroutine):
        """Run a coroutine on the test's loop from another thread, and wait for its result."""
        return self.context.copy().run(asyncio.run_coroutine_threadsafe, coroutine, self.loop).result(timeout=60)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here: the test runs the app's")  # refused before any message: skipped
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        # Schemathesis names the peer "testclient"; a real server names an address: this machine's, as a client
        # beside the server (what /metrics asks of its readers when no token is set).
        scope = scope | {"client": ("127.0.0.1", scope["client"][1])} if scope.get("client") else scope
        future = self.context.copy().run(asyncio.run_coroutine_threadsafe, self._serve(scope, body), self.loop)
        for message in await asyncio.wrap_future(future):
            await send(message)

    async def _serve(self, scope, body: bytes) -> list[dict]:
        sent, answered, delivered = [], asyncio.Event(), False

        async def receive():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        try:
            await self.app(scope, receive, send)
        finally:
            answered.set()
        return sent


@dataclass
class World:
    """What the requests are made with: a user of each role, and records that exist (all in community east_a)."""

    settings: object
    users: dict[str, User]
    colleague: User  # the user that /users/{id} requests change: the acting users keep their names and passwords
    areas: dict[str, str]
    household: str
    photo: str
    submissions: list[str]
    conflict: str
    exports: dict[str, str] = field(default_factory=dict)  # state → the id of an export in that state
    needs: dict[str, str] = field(default_factory=dict)  # state → a need in it
    provider: str = ""
    other_provider: str = ""  # another, serving the household's community
    proof: str = ""  # a photo the provider's user sent
    ids: dict[str, list] = field(default_factory=dict)
    duplicate: str = ""  # a second file of east_a, to merge into `household`
    merge: str = ""  # a merge of two other files of east_a

    def role_for(self, case) -> str:
        """A role for this request, the same whenever Hypothesis replays it (and from run to run: ids of this run
        are read as their names): one the route's action allows, mostly, and sometimes one it does not."""
        action = case.operation.definition.raw.get("x-permission")
        allowed = [r for r in ROLES if action is None or r in permissions.ACTIONS[action].roles]
        choices = allowed * 3 + [r for r in ROLES if r not in allowed]
        key = repr((case.method, case.formatted_path, case.query, case.body, case.media_type))
        for name, values in self.ids.items():
            for i, value in enumerate(values):
                key = key.replace(str(value), f"<{name}{i}>")
        return choices[int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % len(choices)]


async def make_world(app, client, settings) -> World:
    await load_catalogue(forms.catalogue())
    district = await make_district()
    users = {
        "admin": await make_user("admin"),
        "bureau": await make_user("bureau", district.county),
        "supervisor": await make_user("supervisor", district.east),
        "worker": await make_user("worker", district.east_a),
        "provider": await make_user("provider"),
    }
    colleague = await make_user("worker", district.east_a)
    await make_form_version("home_visit")
    await make_form_version("home_visit", as_slug="east_visit", area=district.east)
    household = await make_household(district.east_a)
    photo = jpeg()
    phones = [await headers_for(settings, u) for u in (users["worker"], colleague)]
    for headers in phones:
        assert (await upload(client, headers, photo)).status_code in (200, 201)
    sha = sha256_of(photo)
    # Two phones that disagree about the household, neither knowing of the other's visit: a conflict.
    submissions = []
    for headers, when, health in ((phones[0], MONDAY, "poor"), (phones[1], TUESDAY, "good")):
        body = submission_body(household, home_visit(sha, [sha], health=health), started_at=when[0],
                               finished_at=when[1])
        sid = str(uuid.uuid4())
        response = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)
        assert response.status_code == 201, response.text
        submissions.append(sid)
    conflict = await HouseholdConflict.get(household_id=household.id)
    areas = {name: str(getattr(district, name).id) for name in ("county", "east", "west", "east_a", "east_b", "west_a")}
    world = World(settings, users, colleague, areas, str(household.id), sha, submissions, str(conflict.id))
    world.exports = await make_exports(app, district, users["supervisor"])
    world.duplicate = str((await make_household(district.east_a)).id)
    kept, merged = await make_household(district.east_a), await make_household(district.east_a)
    response = await client.post(f"/api/v1/households/{kept.id}/merge", json={"duplicate": str(merged.id), "reason": "重复登记"},
                                 headers=await headers_for(settings, users["supervisor"]))
    assert response.status_code == 201, response.text
    world.merge = response.json()["id"]
    await ProviderArea.create(provider_id=users["provider"].provider_id, area=district.east)
    await ProviderOffer.create(provider_id=users["provider"].provider_id, item="elderly.meal_shopping",
                               monthly_capacity=100, free=True, contact="0730-8221234", updated_at=household.created_at)
    world.provider = str(users["provider"].provider_id)
    world.other_provider = str((await make_provider(district.east_a, name="凌云志愿服务队",
                                                    offers={"elderly.meal_shopping": 5})).id)
    for status in ("raised", "dispatched", "accepted", "in_service", "done"):
        need = await make_need(household, status, provider=None if status == "raised" else users["provider"].provider,
                               overdue=status == "dispatched")
        world.needs[status] = str(need.id)
    proof = jpeg()
    assert (await upload(client, await headers_for(settings, users["provider"]), proof)).status_code == 201
    world.proof = sha256_of(proof)
    world.ids = {
        "areas": list(areas.values()), "communities": [areas["east_a"], areas["east_b"]],
        "users": [str(colleague.id), str(users["provider"].id)],
        "households": [world.household, world.duplicate, str(merged.id)], "merges": [world.merge],
        "submissions": submissions, "conflicts": [world.conflict], "photos": [sha],
        "exports": list(world.exports.values()),
        "slugs": ["home_visit", "east_visit"], "versions": [1], "usernames": [users["worker"].username],
        "needs": list(world.needs.values()), "providers": [world.provider, world.other_provider], "items": ["elderly.meal_shopping"],
    }
    return world


async def make_exports(app, district, supervisor: User) -> dict[str, str]:
    """A done export (of east_b, where no household lives: its ZIP is made in a moment) and a failed one."""
    period = {"period_from": date(2025, 3, 1), "period_to": date(2025, 3, 31), "requested_by": supervisor}
    done = await ExportJob.create(area=district.east_b, created_at=now(), **period)
    assert (await app.state.exports.run_once()).state == "done"
    failed = await ExportJob.create(area=district.east, created_at=now(), state="failed", error="导出中断", **period)
    return {"done": str(done.id), "failed": str(failed.id)}


def config(world: World) -> schemathesis.Config:
    """Every check on; ids and names that exist offered, most of the time, to the parameters and body fields that
    name records (the rest are made up, and must be answered 404 or 422)."""

    def bind(parameters: dict[str, str]) -> dict:
        return {key: {"dictionary": name, "probability": 0.8} for key, name in parameters.items()}

    return schemathesis.Config.from_dict({
        "seed": SEED,
        # The bearer token is the test's to set: a real one, of the role the request is made as. The ignored_auth
        # check still sends each operation without one and with a bad one.
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none", "with-security-parameters": False},
        "checks": {
            "enabled": True,
            # 422 answers input that is well-formed but wrong about the records it names (a household of another
            # area, a form definition that does not compile, a cursor the server did not make): a schema describes
            # the shape of a request, not which records exist. 410 answers a file merged into another.
            "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "410", "416",
                                                               "422", "429"]},
        },
        "dictionaries": {name: {"values": values} for name, values in world.ids.items()},
        "operations": [
            {"include-path-regex": "^/api/v1/areas", "parameters": bind({"path.id": "areas", "body.parent": "areas"})},
            {"include-path-regex": "^/api/v1/users",
             "parameters": bind({"path.id": "users", "body.areas[*]": "areas"})},
            {"include-path-regex": "^/api/v1/households",
             "parameters": bind({"path.id": "households", "body.community": "communities", "query.area": "areas",
                                 "body.duplicate": "households", "query.form": "slugs",
                                 "query.version": "versions"})},
            {"include-path-regex": "^/api/v1/lookalikes", "parameters": bind({"query.community": "communities"})},
            {"include-path-regex": "^/api/v1/merges", "parameters": bind({"path.id": "merges"})},
            {"include-path-regex": "^/api/v1/conflicts", "parameters": bind({"path.id": "conflicts"})},
            {"include-path-regex": "^/api/v1/attachments", "parameters": bind({"path.sha256": "photos"})},
            {"include-path-regex": "^/api/v1/forms",
             "parameters": bind({"path.slug": "slugs", "path.version": "versions"})},
            {"include-path-regex": "^/api/v1/submissions", "parameters": bind({
                "path.id": "submissions", "body.household": "households", "body.form": "slugs",
                "body.version": "versions", "body.replaces": "submissions", "body.attachments[*].sha256": "photos",
                "query.household": "households", "query.area": "areas", "query.form": "slugs"})},
            {"include-path-regex": "^/api/v1/audit",
             "parameters": bind({"query.actor": "users", "query.household": "households"})},
            {"include-path-regex": "^/api/v1/login-throttles", "parameters": bind({"query.username": "usernames"})},
            {"include-path-regex": "^/api/v1/(ledgers|visit-plans)", "parameters": bind({"query.area": "areas"})},
            {"include-path-regex": "^/api/v1/exports", "parameters": bind({"path.id": "exports", "body.area": "areas"})},
            {"include-path-regex": "^/api/v1/needs", "parameters": bind({
                "path.id": "needs", "query.area": "areas", "body.household": "households", "body.provider": "providers",
                "body.item": "items", "body.attachments[*]": "photos"})},
            {"include-path-regex": "^/api/v1/providers",
             "parameters": bind({"path.id": "providers", "body.areas[*]": "areas", "body.offers[*].item": "items"})},
            {"include-path-regex": "^/api/v1/catalogue", "parameters": bind({"path.code": "items"})},
            {"include-path-regex": "^/api/v1/(reports|dispatch-board)",
             "parameters": bind({"query.area": "areas", "body.area": "areas"})},
        ],
    })


# --- One known-good request per operation: (role or None, what the request carries, the status it must get) ------

def _new_photo() -> dict:
    data = jpeg()
    return {"path_parameters": {"sha256": sha256_of(data)}, "body": data, "media_type": "image/jpeg"}


KNOWN_GOOD = {
    ("GET", "/healthz"): lambda w: (None, {}, 200),
    ("GET", "/readyz"): lambda w: (None, {}, 200),
    ("GET", "/metrics"): lambda w: (None, {}, 200),
    ("POST", "/api/v1/auth/token"): lambda w: (
        None, {"body": {"username": w.users["worker"].username, "password": PASSWORD}}, 200),
    ("POST", "/api/v1/auth/logout"): lambda w: ("worker", {}, 204),
    ("GET", "/api/v1/me"): lambda w: ("provider", {}, 200),
    ("GET", "/api/v1/permissions"): lambda w: ("worker", {}, 200),
    ("GET", "/api/v1/login-throttles"): lambda w: ("admin", {}, 200),
    ("DELETE", "/api/v1/login-throttles"): lambda w: ("admin", {"query": {"username": "nobody"}}, 204),
    ("GET", "/api/v1/areas"): lambda w: ("bureau", {}, 200),
    ("POST", "/api/v1/areas"): lambda w: ("supervisor", {"body": {
        "code": "430102001099", "name": "新建社区", "level": "community", "parent": w.areas["east"]}}, 201),
    ("GET", "/api/v1/areas/{id}"): lambda w: ("worker", {"path_parameters": {"id": w.areas["east_a"]}}, 200),
    ("PATCH", "/api/v1/areas/{id}"): lambda w: (
        "admin", {"path_parameters": {"id": w.areas["west_a"]}, "body": {"name": "楚江圩村"}}, 200),
    ("GET", "/api/v1/areas/{id}/standards"): lambda w: ("worker", {"path_parameters": {"id": w.areas["east_a"]}}, 200),
    ("POST", "/api/v1/areas/{id}/standards"): lambda w: ("bureau", {"path_parameters": {"id": w.areas["east"]}, "body": {
        "kind": "subsistence", "amount": 800, "effective_from": "2025-01-01"}}, 201),
    ("GET", "/api/v1/users"): lambda w: ("supervisor", {}, 200),
    ("POST", "/api/v1/users"): lambda w: ("admin", {"body": {
        "username": "new.worker", "password": PASSWORD, "display_name": "新社工", "role": "worker",
        "areas": [w.areas["east_b"]]}}, 201),
    ("GET", "/api/v1/users/{id}"): lambda w: ("bureau", {"path_parameters": {"id": str(w.colleague.id)}}, 200),
    ("PATCH", "/api/v1/users/{id}"): lambda w: (
        "supervisor", {"path_parameters": {"id": str(w.colleague.id)}, "body": {"display_name": "李社工"}}, 200),
    ("GET", "/api/v1/audit"): lambda w: ("admin", {"query": {"household": w.household}}, 200),
    ("GET", "/api/v1/catalogue"): lambda w: ("worker", {}, 200),
    ("GET", "/api/v1/forms"): lambda w: ("supervisor", {}, 200),
    ("POST", "/api/v1/forms"): lambda w: ("supervisor", {"body": {
        "slug": "east_survey", "title": "东片调查", "schema": {"type": "object", "properties": {}}}}, 201),
    ("GET", "/api/v1/forms/{slug}"): lambda w: ("supervisor", {"path_parameters": {"slug": "east_visit"}}, 200),
    ("PUT", "/api/v1/forms/{slug}/draft"): lambda w: ("supervisor", {
        "path_parameters": {"slug": "east_visit"},
        "body": {"title": "东片走访", "schema": {"type": "object", "properties": {}}}}, 200),
    ("POST", "/api/v1/forms/{slug}/publish"): lambda w: (
        "supervisor", {"path_parameters": {"slug": "east_visit"}}, 201),
    ("POST", "/api/v1/forms/{slug}/retire"): lambda w: ("admin", {"path_parameters": {"slug": "east_visit"}}, 200),
    ("GET", "/api/v1/forms/{slug}/versions/{version}"): lambda w: (
        "worker", {"path_parameters": {"slug": "home_visit", "version": 1}}, 200),
    ("GET", "/api/v1/households"): lambda w: ("worker", {"query": {
        "area": w.areas["east_a"], "ledger": "elderly", "tag": ["living_alone", "disability"]}}, 200),
    ("PUT", "/api/v1/households/{id}"): lambda w: ("worker", {
        "path_parameters": {"id": str(uuid.uuid4())},
        "body": {"community": w.areas["east_a"], "address": "白竹亭社区 5 组 3 号", "head": "刘建华",
                 "location": {"lat": 28.19, "lon": 112.98}}}, 201),
    ("GET", "/api/v1/households/{id}"): lambda w: ("worker", {"path_parameters": {"id": w.household}}, 200),
    ("PATCH", "/api/v1/households/{id}"): lambda w: ("worker", {
        "path_parameters": {"id": w.household},
        "body": {"reason": "门牌号登记错误", "address": "白竹亭社区 3 组 21 号", "situation": {"care": "family"}}}, 200),
    ("GET", "/api/v1/households/{id}/history"): lambda w: ("worker", {"path_parameters": {"id": w.household}}, 200),
    ("GET", "/api/v1/lookalikes"): lambda w: ("worker", {"query": {
        "community": w.areas["east_a"], "address": "白竹亭社区 3 组 12 号", "head": "张秀英", "birth_date": "1940-06-05"}},
        200),
    ("POST", "/api/v1/households/{id}/merge"): lambda w: ("supervisor", {
        "path_parameters": {"id": w.household}, "body": {"duplicate": w.duplicate, "reason": "同一户登记了两次"}}, 201),
    ("GET", "/api/v1/merges/{id}"): lambda w: ("worker", {"path_parameters": {"id": w.merge}}, 200),
    ("POST", "/api/v1/merges/{id}/undo"): lambda w: (
        "admin", {"path_parameters": {"id": w.merge}, "body": {"reason": "核实后是两户"}}, 200),
    ("POST", "/api/v1/members/{id}/reveal"): lambda w: (
        "supervisor", {"path_parameters": {"id": str(uuid.uuid4())}}, 404),
    ("GET", "/api/v1/households/{id}/conflicts"): lambda w: (
        "supervisor", {"path_parameters": {"id": w.household}, "query": {"state": "open"}}, 200),
    ("GET", "/api/v1/households/{id}/prefill"): lambda w: ("worker", {
        "path_parameters": {"id": w.household}, "query": {"form": "home_visit", "version": 1}}, 200),
    ("GET", "/api/v1/households/{id}/archive"): lambda w: ("supervisor", {"path_parameters": {"id": w.household}}, 200),
    ("POST", "/api/v1/conflicts/{id}/resolve"): lambda w: (
        "supervisor", {"path_parameters": {"id": w.conflict}, "body": {"keep": "lost", "comment": "已电话核实"}}, 200),
    ("GET", "/api/v1/sync"): lambda w: ("worker", {"query": {"limit": 50}}, 200),
    ("PUT", "/api/v1/attachments/{sha256}"): lambda w: ("provider", _new_photo(), 201),
    ("HEAD", "/api/v1/attachments/{sha256}"): lambda w: ("worker", {"path_parameters": {"sha256": w.photo}}, 200),
    ("GET", "/api/v1/attachments/{sha256}"): lambda w: ("supervisor", {"path_parameters": {"sha256": w.photo}}, 200),
    ("GET", "/api/v1/orphan-photos"): lambda w: ("admin", {"query": {"hours": 0}}, 200),
    ("GET", "/api/v1/submissions"): lambda w: (
        "supervisor", {"query": {"area": w.areas["east"], "state": "pending"}}, 200),
    ("PUT", "/api/v1/submissions/{id}"): lambda w: ("worker", {
        "path_parameters": {"id": str(uuid.uuid4())},
        "body": {"form": "home_visit", "version": 1, "household": w.household,
                 "data": home_visit(w.photo, [w.photo]), "attachments": [{"sha256": w.photo, "pointer": "/door_photo"}],
                 "started_at": TUESDAY[0], "finished_at": TUESDAY[1]}}, 201),
    ("GET", "/api/v1/submissions/{id}"): lambda w: ("bureau", {"path_parameters": {"id": w.submissions[0]}}, 200),
    ("POST", "/api/v1/submissions/{id}/review"): lambda w: (
        "supervisor", {"path_parameters": {"id": w.submissions[1]}, "body": {"state": "approved"}}, 200),
    ("GET", "/api/v1/forms/{slug}/submissions.zip"): lambda w: (
        "supervisor", {"path_parameters": {"slug": "home_visit"}}, 200),
    ("GET", "/api/v1/forms/{slug}/submissions.{format}"): lambda w: (
        "bureau", {"path_parameters": {"slug": "home_visit", "format": "csv"}, "query": {"table": ""}}, 200),
    ("GET", "/api/v1/ledgers/{kind}"): lambda w: (
        "worker", {"path_parameters": {"kind": "elderly"}, "query": {"area": w.areas["east_a"]}}, 200),
    ("GET", "/api/v1/ledgers/{kind}.xlsx"): lambda w: ("bureau", {"path_parameters": {"kind": "assistance"}}, 200),
    ("GET", "/api/v1/visit-plans/due"): lambda w: ("worker", {"query": {"kind": "children"}}, 200),
    ("GET", "/api/v1/exports"): lambda w: ("bureau", {"query": {"state": "done"}}, 200),
    ("POST", "/api/v1/exports"): lambda w: (
        "supervisor", {"body": {"area": w.areas["east"], "from": "2025-03-01", "to": "2025-03-31"}}, 202),
    ("GET", "/api/v1/exports/{id}"): lambda w: ("supervisor", {"path_parameters": {"id": w.exports["done"]}}, 200),
    ("POST", "/api/v1/exports/{id}/restart"): lambda w: (
        "supervisor", {"path_parameters": {"id": w.exports["failed"]}}, 202),
    ("GET", "/api/v1/exports/{id}/file"): lambda w: (
        "bureau", {"path_parameters": {"id": w.exports["done"]}, "headers": {"Range": "bytes=0-99"}}, 206),
    ("GET", "/api/v1/visit-plans/overdue"): lambda w: ("supervisor", {"query": {"area": w.areas["east"]}}, 200),
    ("POST", "/api/v1/catalogue/items"): lambda w: ("admin", {"body": {
        "code": "elderly.foot_care", "name": "足部护理", "category": "elderly", "days": {"normal": 20}}}, 201),
    ("PATCH", "/api/v1/catalogue/items/{code}"): lambda w: ("admin", {
        "path_parameters": {"code": "elderly.cleaning"}, "body": {"name": "家庭助洁", "days": {"urgent": 1}}}, 200),
    ("GET", "/api/v1/needs"): lambda w: ("supervisor", {"query": {"area": w.areas["east"], "month": "2025-03"}}, 200),
    ("POST", "/api/v1/needs"): lambda w: ("worker", {"body": {
        "household": w.household, "item": "elderly.meal_shopping", "urgency": "high", "consent": True}}, 201),
    ("GET", "/api/v1/needs/{id}"): lambda w: ("provider", {"path_parameters": {"id": w.needs["accepted"]}}, 200),
    ("GET", "/api/v1/needs/{id}/matches"): lambda w: (
        "supervisor", {"path_parameters": {"id": w.needs["raised"]}}, 200),
    ("POST", "/api/v1/needs/{id}/consent"): lambda w: (
        "worker", {"path_parameters": {"id": w.needs["raised"]}, "body": {"consent": True, "contact": "13907301234"}},
        200),
    ("POST", "/api/v1/needs/{id}/dispatch"): lambda w: (
        "supervisor", {"path_parameters": {"id": w.needs["raised"]}, "body": {"provider": w.provider}}, 200),
    ("POST", "/api/v1/needs/{id}/reassign"): lambda w: (
        "admin", {"path_parameters": {"id": w.needs["dispatched"]}, "body": {"provider": w.other_provider,
                                                                             "reason": "逾期"}}, 200),
    ("POST", "/api/v1/needs/{id}/accept"): lambda w: ("provider", {"path_parameters": {"id": w.needs["dispatched"]}},
                                                      200),
    ("POST", "/api/v1/needs/{id}/decline"): lambda w: (
        "provider", {"path_parameters": {"id": w.needs["dispatched"]}, "body": {"reason": "人手不足"}}, 200),
    ("POST", "/api/v1/needs/{id}/start"): lambda w: ("provider", {"path_parameters": {"id": w.needs["accepted"]}}, 200),
    ("POST", "/api/v1/needs/{id}/complete"): lambda w: ("provider", {
        "path_parameters": {"id": w.needs["in_service"]},
        "body": {"note": "已送餐", "attachments": [w.proof], "confirmation": {"by": "张秀英", "how": "in_person"}}}, 200),
    ("POST", "/api/v1/needs/{id}/evaluate"): lambda w: (
        "worker", {"path_parameters": {"id": w.needs["done"]}, "body": {"rating": 4, "comment": "及时"}}, 200),
    ("POST", "/api/v1/needs/{id}/close"): lambda w: (
        "supervisor", {"path_parameters": {"id": w.needs["accepted"]}, "body": {"reason": "住户已搬离"}}, 200),
    ("GET", "/api/v1/reports/needs"): lambda w: (
        "bureau", {"query": {"area": w.areas["county"], "month": "2025-03"}}, 200),
    ("POST", "/api/v1/reports/needs/approvals"): lambda w: (
        "supervisor", {"body": {"area": w.areas["east"], "month": "2025-03"}}, 201),
    ("GET", "/api/v1/dispatch-board"): lambda w: ("supervisor", {"query": {"area": w.areas["east"]}}, 200),
    ("GET", "/api/v1/providers"): lambda w: ("supervisor", {}, 200),
    ("POST", "/api/v1/providers"): lambda w: ("admin", {"body": {"name": "凌云志愿服务队", "areas": [w.areas["east_a"]]}},
                                              201),
    ("GET", "/api/v1/providers/{id}/offers"): lambda w: ("worker", {"path_parameters": {"id": w.provider}}, 200),
    ("PUT", "/api/v1/providers/{id}/offers"): lambda w: ("provider", {
        "path_parameters": {"id": w.provider}, "body": {"offers": [
            {"item": "elderly.meal_shopping", "monthly_capacity": 30, "free": False, "price": "每次 10 元",
             "contact": "0730-8221234"}]}}, 200),
}
# The ones that answer a second way worth checking: a copy the client already has.
NOT_MODIFIED = {
    ("GET", "/api/v1/forms/{slug}/versions/{version}"): lambda w: (
        "worker", {"path_parameters": {"slug": "home_visit", "version": 1},
                   "headers": {"If-None-Match": '"home_visit-1"'}},
        304),
}


def operations() -> list[tuple[str, str]]:
    """(method, path) of every operation the description lists, known before any app runs."""
    spec = openapi.describe(OPERATIONS)
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item]


@pytest.fixture
async def world(app, client, settings) -> World:
    return await make_world(app, client, settings)


@pytest.mark.parametrize(("method", "path"), operations(), ids=lambda v: v)
async def test_every_operation_answers_as_it_is_described(app, world, method, path):
    on_loop = OnLoop(app, asyncio.get_running_loop(), contextvars.copy_context())
    # Loaded in a worker thread, as everything Schemathesis does: the test's loop must stay free to serve the app.
    schema = await asyncio.to_thread(schemathesis.openapi.from_asgi, "/api/openapi.json", on_loop,
                                     config=config(world))
    operation = schema[path][method]
    load_all_checks()

    def headers(role: str | None) -> dict:
        if role is None:
            return {}
        # A token per request: a logout revokes the one it is sent with.
        return {"Authorization": f"Bearer {on_loop.run(issue_token(world.settings, world.users[role]))}"}

    def known_good() -> None:
        key = ("GET" if method == "HEAD" else method, path)  # HEAD is the GET without its body
        assert key in KNOWN_GOOD, f"{method} {path}: add a known-good request to KNOWN_GOOD"
        for entry in (KNOWN_GOOD[key], NOT_MODIFIED.get(key)):
            if entry is not None:
                role, request, status = entry(world)
                request = request | {"headers": request.get("headers", {}) | headers(role)}
                response = operation.Case(**request).call_and_validate()
                assert response.status_code == status, response.text

    def fuzz(case) -> None:
        case.call_and_validate(headers=headers(world.role_for(case)))

    test = build_operation_test(config=schema.config, operation=operation, test_func=fuzz, given_kwargs={},
                                feedback=FeedbackSources(constants_value_source=make_constants_value_source(schema)))
    await asyncio.to_thread(known_good)
    await asyncio.to_thread(test)


async def test_the_description_is_valid_openapi_3_1(client):
    spec = (await client.get("/api/openapi.json")).json()
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in OPENAPI_31_VALIDATOR.iter_errors(spec)]
    assert errors == []
    # The OpenAPI schema leaves schema objects to JSON Schema 2020-12, OpenAPI 3.1's dialect.
    for schema in spec["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for item in spec["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                Draft202012Validator.check_schema(parameter["schema"])
            for content in operation.get("requestBody", {}).get("content", {}).values():
                Draft202012Validator.check_schema(content["schema"])
