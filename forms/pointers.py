"""JSON Pointers (RFC 6901), the one place that escapes and unescapes them: every pointer into answers, schemas,
UI hints and request bodies is built and read here. Question templates use the same syntax, with `*` for any row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(tokens: Iterable[Any]) -> str:
    """The pointer of a path of keys and indexes: ["members", 0, "a/b"] → "/members/0/a~1b"."""
    return "".join("/" + escape(str(t)) for t in tokens)


def split(pointer: str) -> list[str]:
    """The unescaped tokens of a pointer; "" (the whole document) has none."""
    if pointer == "":
        return []
    return [unescape(t) for t in pointer[1:].split("/")]


def resolve(document: Any, pointer: str) -> Any:
    """The value at a pointer; raises LookupError when there is none."""
    node = document
    for token in split(pointer):
        if isinstance(node, dict):
            if token not in node:
                raise LookupError(pointer)
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise LookupError(pointer)
    return node
