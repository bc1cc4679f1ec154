"""Every setting, read once from the environment (DOORSTEP_…), each with its default and help text."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def setting(default, help: str):
    return field(default=default, metadata={"help": help})


class SettingsError(Exception):
    """A setting is missing or malformed; the server refuses to start."""


@dataclass(frozen=True)
class Settings:
    env: str = setting("development", "development or production; production demands a secret")
    secret: str = setting("", "Key for hashing access tokens (HMAC); required in production")
    data_dir: Path = setting(Path("var"), "Folder for the SQLite file and the media store")
    database_url: str = setting("", "Database URL; empty means a SQLite file under DATA_DIR")
    media_dir: Path | None = setting(None, "Folder of the local photo store; empty means DATA_DIR/media (the S3 store keeps its upload temp files there)")
    photo_store: str = setting("local", "Where photos live: local (MEDIA_DIR) or s3 (a bucket, S3_* settings)")
    s3_endpoint: str = setting("", "URL of the S3-compatible service (http://127.0.0.1:8333); empty means AWS S3 itself")
    s3_bucket: str = setting("", "Bucket of the photos and exports; required when PHOTO_STORE is s3")
    s3_region: str = setting("", "Region of the bucket; empty means the AWS_REGION of the environment, else us-east-1")
    s3_prefix: str = setting("", "Key prefix inside the bucket, for sharing one bucket among deployments")
    s3_access_key_id: str = setting("", "Access key of the bucket; empty means the environment's AWS_ACCESS_KEY_ID or an instance role")
    s3_secret_access_key: str = setting("", "Secret of that access key; empty means the environment's AWS_SECRET_ACCESS_KEY")
    token_ttl_seconds: int = setting(7 * 24 * 3600, "How long an access token lives (phones stay offline for days)")
    max_body_bytes: int = setting(1024 * 1024, "Largest JSON request body accepted")
    max_url_bytes: int = setting(8192, "Longest path and query string accepted; a longer one is answered 414")
    max_photo_bytes: int = setting(20 * 1024 * 1024, "Largest photo upload accepted")
    max_image_pixels: int = setting(50_000_000, "Largest photo, in pixels, that will be decoded")
    image_workers: int = setting(2, "Threads that may decode and resize photos at once")
    image_memory_mb: int = setting(192, "Memory in MB that decoding photos may hold at once (uploads and thumbnails together); a photo needing more is decoded alone")
    login_window_seconds: int = setting(15 * 60, "Window in which failed logins are counted")
    login_max_failures_user: int = setting(5, "Failed logins for one username from one address before it must wait")
    login_max_failures_address: int = setting(30, "Failed logins from one address, any username, before it must wait")
    login_delay_seconds: int = setting(30, "The first wait after too many failed logins; each further failure doubles it")
    trusted_proxies: tuple[str, ...] = setting((), "Comma-separated proxy addresses whose X-Forwarded-For is believed")
    log_level: str = setting("INFO", "Python log level")
    log_format: str = setting("json", "Log lines: json (one JSON object a line, for the journal and log collectors) or text (for reading by eye)")
    metrics_token: str = setting("", "Bearer token Prometheus sends to read /metrics; empty: /metrics answers only requests made on this machine straight to the instance, not through nginx")
    temp_cleanup_after_seconds: int = setting(0, "At start, remove upload temp files older than this; raise it when several processes share one photo folder")
    orphan_report_after_hours: int = setting(48, "Report a stored photo that no submission refers to after this many hours")
    evidence_max_distance_m: int = setting(1000, "Flag a visit photo taken farther than this from the household's location")
    evidence_time_slack_minutes: int = setting(120, "Flag a visit photo taken this long before the visit began or after it ended")
    station_timezone: str = setting("Asia/Shanghai", "Time zone of the stations: exports show times on its clock; camera times without an offset are read in it")
    export_runner: bool = setting(True, "Run queued area exports in this process; turn it off on instances that should only answer requests")
    export_poll_seconds: float = setting(5.0, "How often an idle export runner looks for queued exports")
    export_stale_after_seconds: int = setting(120, "A running export whose instance has not reported for this long is failed (its instance died); it reports every quarter of this")
    export_retention_hours: int = setting(72, "How long a finished area export is kept before its file is removed")
    visit_clock_skew_minutes: int = setting(24 * 60, "How far in the future a phone's visit time may lie before it is refused")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite://{self.data_dir / 'doorstep.sqlite3'}"

    @property
    def resolved_media_dir(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def _convert(raw: str, default):
    if isinstance(default, bool):
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, tuple):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if isinstance(default, Path) or default is None:
        return Path(raw) if raw else None
    return raw


def load_settings(environ: Mapping[str, str] = os.environ, **overrides) -> Settings:
    """Build settings from DOORSTEP_* variables; explicit overrides win (tests use them)."""
    values = {}
    for f in fields(Settings):
        name = f"DOORSTEP_{f.name.upper()}"
        if name in environ:
            try:
                values[f.name] = _convert(environ[name], f.default)
            except ValueError:
                kind = "整数" if isinstance(f.default, int) else "数字"  # only numbers fail to convert
                raise SettingsError(f"{name} 应为{kind}，而不是 {environ[name]!r}") from None
    values.update(overrides)
    settings = Settings(**values)
    if settings.env not in {"development", "production"}:
        raise SettingsError(f"DOORSTEP_ENV 应为 development 或 production，而不是 {settings.env!r}")
    if settings.log_format not in {"json", "text"}:
        raise SettingsError(f"DOORSTEP_LOG_FORMAT 应为 json 或 text，而不是 {settings.log_format!r}")
    if settings.image_memory_mb < 1:
        raise SettingsError("DOORSTEP_IMAGE_MEMORY_MB 至少为 1")
    if settings.export_poll_seconds <= 0 or settings.export_stale_after_seconds < 4:
        raise SettingsError("DOORSTEP_EXPORT_POLL_SECONDS 应大于 0，DOORSTEP_EXPORT_STALE_AFTER_SECONDS 至少为 4")
    if settings.export_retention_hours < 1:
        raise SettingsError("DOORSTEP_EXPORT_RETENTION_HOURS 至少为 1")
    try:
        ZoneInfo(settings.station_timezone)
    except (ValueError, ZoneInfoNotFoundError):
        raise SettingsError(f"DOORSTEP_STATION_TIMEZONE 不是已知的时区（如 Asia/Shanghai）：{settings.station_timezone!r}") from None
    _check_photo_store(settings)
    if settings.is_production and len(settings.secret) < 32:
        raise SettingsError("生产环境（DOORSTEP_ENV=production）必须设置至少 32 个字符的 DOORSTEP_SECRET")
    return settings


_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _check_photo_store(settings: Settings) -> None:
    if settings.photo_store not in {"local", "s3"}:
        raise SettingsError(f"DOORSTEP_PHOTO_STORE 应为 local 或 s3，而不是 {settings.photo_store!r}")
    if settings.photo_store != "s3":
        return
    if not settings.s3_bucket:
        raise SettingsError("照片存放在 S3（DOORSTEP_PHOTO_STORE=s3）时必须设置 DOORSTEP_S3_BUCKET")
    if not _BUCKET.fullmatch(settings.s3_bucket):
        raise SettingsError(f"DOORSTEP_S3_BUCKET 不是有效的桶名（3–63 个小写字母、数字、点或连字符）：{settings.s3_bucket!r}")
    endpoint = urlsplit(settings.s3_endpoint)
    if settings.s3_endpoint and (endpoint.scheme not in {"http", "https"} or not endpoint.hostname
                                 or endpoint.path not in {"", "/"} or endpoint.query):
        raise SettingsError(f"DOORSTEP_S3_ENDPOINT 应为 http:// 或 https:// 开头的服务地址（不含路径），而不是 {settings.s3_endpoint!r}")
    if bool(settings.s3_access_key_id) != bool(settings.s3_secret_access_key):
        raise SettingsError("DOORSTEP_S3_ACCESS_KEY_ID 与 DOORSTEP_S3_SECRET_ACCESS_KEY 须同时设置（或都不设，改用 AWS_* 环境变量）")


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, help) for `doorstep settings`."""
    return [
        (f"DOORSTEP_{f.name.upper()}", str(f.default if f.default not in (None, ()) else ""), f.metadata["help"])
        for f in fields(Settings)
    ]
