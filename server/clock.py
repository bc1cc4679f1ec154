"""The current time, in one place so that every timestamp is timezone-aware UTC."""

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)
