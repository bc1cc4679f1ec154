"""The permission table, walked over HTTP: for every route of the table and every role, a role the table does not
name for the route's action gets 403 before anything else is looked at, and a role it names never does."""

import re
import uuid
from pathlib import Path

import pytest

from factories import assert_problem, headers_for, make_district, make_user
from server.core import permissions
from server.http.routing import OPERATIONS, PUBLIC

ROOT = Path(__file__).resolve().parent.parent
# Values for the path parameters: well-formed, naming nothing that exists.
PARAMS = {"id": str(uuid.uuid4()), "slug": "no_such_form", "version": "1", "sha256": "0" * 64, "format": "csv",
          "kind": "elderly", "code": "no.such_item"}


def _url(path: str) -> str:
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: PARAMS[m.group(1)], path)


@pytest.fixture
async def users():
    district = await make_district()
    return {
        "admin": await make_user("admin"),
        "bureau": await make_user("bureau", district.county),
        "supervisor": await make_user("supervisor", district.east),
        "worker": await make_user("worker", district.east_a),
        "provider": await make_user("provider"),
    }


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op.action is not PUBLIC],
                         ids=lambda op: f"{op.method} {op.path}")
async def test_every_role_gets_what_the_table_says(client, settings, users, operation):
    action = permissions.ACTIONS[operation.action]
    for role, user in users.items():
        # A token per request: the logout route revokes the one it is sent with.
        headers = await headers_for(settings, user) | {"Content-Type": "application/json"}
        response = await client.request(operation.method, _url(operation.path), headers=headers, content=b"{}")
        if role in action.roles:
            assert response.status_code != 403, (role, response.text)
        elif operation.method == "HEAD":
            assert response.status_code == 403, role
        else:
            assert_problem(response, 403)


async def test_the_bureau_reads_but_does_not_design_forms(client, settings, users):
    bureau = await headers_for(settings, users["bureau"])
    body = {"slug": "county_visit", "title": "区级走访", "schema": {"type": "object"}}
    assert_problem(await client.post("/api/v1/forms", json=body, headers=bureau), 403)
    assert (await client.get("/api/v1/forms", headers=bureau)).status_code == 200


def test_every_action_is_checked_somewhere():
    """An action of the table that no route names and no domain code asks about would be a promise nobody keeps."""
    routed = {op.action for op in OPERATIONS}
    source = "\n".join(p.read_text() for p in (ROOT / "server").rglob("*.py") if p.name != "permissions.py")
    asked = set(re.findall(r'allows\(caller, "([\w.]+)"\)', source))
    assert set(permissions.ACTIONS) == (routed | asked) - {PUBLIC}


def test_the_docs_print_the_table():
    assert permissions.as_markdown() in (ROOT / "docs" / "api.md").read_text()


async def test_anyone_logged_in_reads_the_table_in_words_as_the_console_shows_it(client, settings, users):
    response = await client.get("/api/v1/permissions", headers=await headers_for(settings, users["provider"]))
    assert response.status_code == 200
    table = response.json()
    assert table["roles"][0] == {"role": "admin", "name": "管理员"}
    reveal = next(row for row in table["items"] if row["action"] == "household.reveal_id")
    assert reveal == {"action": "household.reveal_id", "meaning": "查看成员完整的身份证号（记入操作日志）",
                      "roles": ["admin", "bureau", "supervisor"]}
    assert [row["action"] for row in table["items"]] == list(permissions.ACTIONS)
    assert (await client.get("/api/v1/permissions")).status_code == 401
