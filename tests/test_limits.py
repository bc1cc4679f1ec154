"""Bodies and URLs past their limits, against a real server: a JSON body over its limit gets 413 with
`Connection: close` and is not read on; a very long query string gets a problem+json 414, not a reset connection."""

import os
import socket
import uuid

import pytest

from factories import assert_problem, headers_for, make_user
from test_crash import REPO, Server

SENT_AT_MOST = 100 * 1024 * 1024


@pytest.fixture
async def server(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")} | {
        "DOORSTEP_DATA_DIR": str(tmp_path / "data"),
        "DOORSTEP_SECRET": "limits-test-secret-" + "z" * 32,
        "DOORSTEP_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }
    server = Server(env)
    ready = server.helper("setup")
    await server.start()
    yield server, ready["authorization"]
    server.stop()


def _exchange(port: int, head: bytes, body_piece: bytes | None) -> tuple[bytes, int]:
    """Send the head, then the body piece over and over until the server stops reading; (its reply, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sent = 0
    try:
        sock.sendall(head)
        while body_piece is not None and sent < SENT_AT_MOST:
            sock.sendall(body_piece)
            sent += len(body_piece)
    except (BrokenPipeError, ConnectionResetError):
        pass
    reply = b""
    try:
        while chunk := sock.recv(65536):
            reply += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    return reply, sent


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_a_json_body_past_the_limit_is_refused_at_once_and_the_connection_closed(server, framing):
    running, authorization = server
    piece = b" " * (1024 * 1024)
    if framing == "chunked":
        frame, piece = "Transfer-Encoding: chunked", b"100000\r\n" + piece + b"\r\n"
    else:
        frame = f"Content-Length: {SENT_AT_MOST}"
    head = (f"PUT /api/v1/submissions/{uuid.uuid4()} HTTP/1.1\r\nHost: t\r\nAuthorization: {authorization}\r\n"
            f"Content-Type: application/json\r\n{frame}\r\n\r\n").encode()
    reply, sent = _exchange(running.port, head, piece)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"connection: close" in reply.lower()
    assert b"application/problem+json" in reply
    assert sent < SENT_AT_MOST, "the server read the whole body instead of refusing it"


async def test_a_very_long_query_string_gets_a_problem_not_a_reset(server):
    running, authorization = server
    head = (f"GET /api/v1/forms?q={'x' * 140_000} HTTP/1.1\r\nHost: t\r\nAuthorization: {authorization}\r\n"
            "Connection: close\r\n\r\n").encode()
    reply, _ = _exchange(running.port, head, None)
    assert reply.startswith(b"HTTP/1.1 414"), reply[:200]
    assert b"application/problem+json" in reply and b"uri-too-long" in reply


async def test_a_url_at_the_limit_is_served_and_one_past_it_is_414(client, settings):
    headers = await headers_for(settings, await make_user("admin"))
    path, query = "/api/v1/forms", "q="  # the limit counts the path and the query string, not the "?" between
    at_limit = f"{path}?{query}" + "x" * (settings.max_url_bytes - len(path) - len(query))
    assert (await client.get(at_limit, headers=headers)).status_code == 200
    assert_problem(await client.get(at_limit + "x", headers=headers), 414)
