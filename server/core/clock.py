"""The current time, in one place so that every timestamp is timezone-aware UTC; and times as clients write them."""

import re
from datetime import datetime, timezone

# The "+" of an offset, sent unencoded in a query string, arrives as a space.
_OFFSET_AS_SPACE = re.compile(r" (?=\d\d:\d\d$)")


def now() -> datetime:
    return datetime.now(timezone.utc)


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time, or None if `text` is not one. The RFC allows a lower-case "t" and "z", which
    `fromisoformat` does not read. The result is naive if the text had no offset: callers refuse that."""
    try:
        return datetime.fromisoformat(_OFFSET_AS_SPACE.sub("+", text.strip()).upper())
    except ValueError:
        return None
