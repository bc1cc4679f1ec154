"""Text that no database column can store, refused before the database sees it (it would answer with a 500)."""

from __future__ import annotations


def unstorable(text: str) -> str | None:
    """Why no column can store `text` (U+0000, a lone surrogate), or None."""
    if "\x00" in text:
        return "不能含有空字符（U+0000）"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "含有不成对的 Unicode 代理字符"
    return None
