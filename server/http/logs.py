"""Log lines: one JSON object a line (DOORSTEP_LOG_FORMAT=json, the default: the journal and log collectors read
it field by field) or text for reading by eye; each line written while a request is answered carries its id."""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import datetime, timezone

# The id of the request being answered; tasks it starts inherit it (their lines name the request that caused them).
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# The database drivers log every statement with its values at DEBUG: people's names, ID numbers, answers. Whatever
# the level asked for, they log nothing below INFO.
DRIVER_LOGGERS = ("tortoise", "aiosqlite", "asyncpg")
# What every LogRecord has: anything else on a record came in `extra=` and goes into the JSON object (but uvicorn's
# `color_message`, the message again with terminal colours).
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id",
                                                                           "color_message"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """`time` (UTC, ISO 8601), `level`, `logger`, `message`, `request_id` when there is one, the `extra=` fields,
    and for an error its `traceback` as one string (a line break inside JSON stays on one line)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            line["request_id"] = record.request_id
        line |= {key: value for key, value in vars(record).items() if key not in _STANDARD}
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def handler(log_format: str) -> logging.Handler:
    """A handler to standard error (the journal under systemd) in the given format."""
    out = logging.StreamHandler()
    if log_format == "json":
        out.setFormatter(JsonFormatter())
    else:
        out.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    out.addFilter(RequestIdFilter())
    return out


def configure_logging(level: str, log_format: str = "text") -> None:
    logging.basicConfig(level=level, handlers=[handler(log_format)])
    for name in DRIVER_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
