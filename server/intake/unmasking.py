"""A correction keeps the ID numbers it did not change.

Replies show ID numbers masked (core/sensitive.py), so a phone correcting a returned submission only has the masked
number. Sent back unchanged, it stands for the number the original holds: a masked answer equal to the mask of
exactly one number the original gave for the same question (any row of it, as rows may move) is that number again.
Anything else (a number retyped in full, a masked one matching none or several) is checked as sent, so a masked
number that stands for nothing is refused at its field like any invalid number."""

from __future__ import annotations

from typing import Any, Iterator

import forms
from server.core.sensitive import id_number_templates, mask_id_number


def restore(form: forms.CompiledForm, data: Any, original: Any) -> Any:
    """`data` with its unchanged masked ID numbers given back their whole value (a copy where changed)."""
    for segments in id_number_templates(form):
        known: dict[str, set[str]] = {}
        for number in _values(original, segments):
            if isinstance(number, str):
                known.setdefault(mask_id_number(number), set()).add(number)
        if known:
            data = _restored_at(data, segments, known)
    return data


def _values(node: Any, segments: tuple[str, ...]) -> Iterator[Any]:
    if not segments:
        yield node
        return
    head, rest = segments[0], segments[1:]
    if head == "*":
        if isinstance(node, list):
            for item in node:
                yield from _values(item, rest)
    elif isinstance(node, dict) and head in node:
        yield from _values(node[head], rest)


def _restored_at(node: Any, segments: tuple[str, ...], known: dict[str, set[str]]) -> Any:
    if not segments:
        if isinstance(node, str) and "*" in node and len(known.get(node, ())) == 1:
            return next(iter(known[node]))
        return node
    head, rest = segments[0], segments[1:]
    if head == "*":
        return [_restored_at(item, rest, known) for item in node] if isinstance(node, list) else node
    if isinstance(node, dict) and head in node:
        return {**node, head: _restored_at(node[head], rest, known)}
    return node
