"""The login throttle: growing delays after failed logins, per account and address, and per address alone.

Behind a proxy every request could seem to come from one place, and a throttle per account alone lets anyone lock
any account out, the admin's too, by typing wrong passwords. So failures count for the pair (username, address):
wrong passwords from one place slow that place down for that account, never a worker logging in from another. An
address that tries many usernames is slowed down for all of them. Each failure past the free ones doubles the wait,
up to the counting window. Failures live in the database, so every instance throttles alike.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from tortoise.functions import Count, Max

from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.problems import TooManyAttempts, invalid
from server.models import LoginFailure
from server.settings import Settings

LISTED = 1000  # throttles listed at most: failures fall out of the window, so there are few at any time


async def refuse_if_throttled(settings: Settings, username: str, address: str) -> None:
    """429 with the seconds to wait, while this username from this address, or this address, must wait."""
    rows = await LoginFailure.filter(at__gte=_since(settings), address=address).values_list("username", "at")
    wait = max(_wait(settings, [at for name, at in rows if name == username], settings.login_max_failures_user),
               _wait(settings, [at for _, at in rows], settings.login_max_failures_address))
    if wait > 0:
        raise TooManyAttempts(retry_after=math.ceil(wait))


async def record_failure(settings: Settings, username: str, address: str) -> None:
    await LoginFailure.create(username=username, address=address, at=now())
    failures = await LoginFailure.filter(at__gte=_since(settings), address=address, username=username).count()
    if failures == settings.login_max_failures_user:
        await audit.record(None, "login.throttled", "user", None, address=address, actor_name=username,
                           failures=failures)


async def clear(username: str, address: str) -> None:
    """A login that succeeded forgives that account's failures from that address."""
    await LoginFailure.filter(username=username, address=address).delete()


async def list_throttles(settings: Settings) -> list[dict]:
    """Each (username, address) with failures in the window, and until when it must wait (None: it need not)."""
    groups = await (LoginFailure.filter(at__gte=_since(settings)).annotate(failures=Count("id"), last=Max("at"))
                    .group_by("username", "address").order_by("username", "address").limit(LISTED)
                    .values("username", "address", "failures", "last"))
    return [{"username": g["username"], "address": g["address"], "failures": g["failures"],
             "until": _until(settings, g["failures"], g["last"])} for g in groups]


async def lift(caller: Caller, username: str | None, address: str | None) -> int:
    """An admin forgives the failures of a username, of an address, or of the pair; returns how many."""
    if not (username or address):
        raise invalid("/username", "请指定用户名或地址（或两者）")
    matching = LoginFailure.all()
    if username:
        matching = matching.filter(username=username)
    if address:
        matching = matching.filter(address=address)
    lifted = await matching.delete()
    await audit.record(caller, "login.throttle_lifted", "user", None, username=username, lifted_address=address,
                       failures=lifted)
    return lifted


def _since(settings: Settings) -> datetime:
    return now() - timedelta(seconds=settings.login_window_seconds)


def _delay(settings: Settings, failures: int, free: int) -> float:
    """Seconds to wait after the last of `failures`: none for the free ones, then doubling, up to the window."""
    if failures < free:
        return 0
    return min(settings.login_delay_seconds * 2 ** (failures - free), settings.login_window_seconds)


def _wait(settings: Settings, failures: list[datetime], free: int) -> float:
    if len(failures) < free:
        return 0
    return _delay(settings, len(failures), free) - (now() - max(failures)).total_seconds()


def _until(settings: Settings, failures: int, last: datetime) -> str | None:
    delay = _delay(settings, failures, settings.login_max_failures_user)
    end = last + timedelta(seconds=delay)
    return end.isoformat() if delay and end > now() else None
