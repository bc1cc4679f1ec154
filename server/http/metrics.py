"""The figures of one instance, in the Prometheus text format (`/metrics`): requests by route and status with their
latency, photo upload bytes, image and thumbnail work waiting, database connections in use, and export jobs by
state. One registry per app: two apps in one process (tests) never share a figure.

Routes are labelled by their template (`/api/v1/households/{id}`), never by the path asked for: ids would make a
series per household. A path no route matches is `unmatched`."""

from __future__ import annotations

import hmac
import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import Scope

from server.core.problems import NotAuthenticated, NotFound
from server.ops import gauges

UPLOAD_ROUTE = ("PUT", "/api/v1/attachments/{sha256}")
# Phones on 2G take long over a photo: the buckets reach a minute.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_CONVERTER = re.compile(r"{(\w+):\w+}")
LOOPBACK = ("127.0.0.1", "::1")


def route_of(scope: Scope) -> str:
    """The template of the route that answered (after routing), or `unmatched`."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return _CONVERTER.sub(r"{\1}", path) if path else "unmatched"


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("doorstep_http_requests", "已处理的请求数（按路由模板、方法和状态码）",
                                ("method", "route", "status"), registry=registry)
        self.latency = Histogram("doorstep_http_request_duration_seconds", "请求处理用时（秒），从收到请求到响应发完",
                                 ("method", "route"), buckets=LATENCY_BUCKETS, registry=registry)
        self.upload_bytes = Counter("doorstep_upload_bytes", "收到的照片上传字节数（含被拒绝和中断的上传）",
                                    registry=registry)
        self.image_jobs_waiting = Gauge("doorstep_image_jobs_waiting", "等待图像线程的照片处理任务数（上传检查和缩略图）",
                                        registry=registry)
        self.image_jobs_running = Gauge("doorstep_image_jobs_running", "正在图像线程中处理的任务数", registry=registry)
        self.thumbnails_waiting = Gauge("doorstep_thumbnails_waiting", "已排队、尚未开始生成的后台缩略图数",
                                        registry=registry)
        self.pool = Gauge("doorstep_db_connections", "本实例的数据库连接：in_use 正在使用，open 已打开，max 上限",
                          ("kind",), registry=registry)
        self.export_jobs = Gauge("doorstep_export_jobs", "各状态的区域导出任务数（读自数据库，各实例相同）",
                                 ("state",), registry=registry)
        self.runner = _RunnerFigures()
        registry.register(self.runner)

    def observe(self, scope: Scope, status: int, seconds: float, body_bytes: int) -> None:
        """Count one finished request (called by the request middleware)."""
        method, route = scope["method"], route_of(scope)
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
        if (method, route) == UPLOAD_ROUTE:
            self.upload_bytes.inc(body_bytes)

    async def exposition(self, state) -> tuple[bytes, str]:
        """The text Prometheus reads, with the figures of this moment read first."""
        self.image_jobs_waiting.set(state.image_workers.waiting)
        self.image_jobs_running.set(state.image_workers.running)
        self.thumbnails_waiting.set(state.thumbnails.waiting)
        for kind, value in gauges.pool_use().items():
            self.pool.labels(kind).set(value)
        for job_state, count in (await gauges.export_jobs_by_state()).items():
            self.export_jobs.labels(job_state).set(count)
        self.runner.runner = state.exports
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _RunnerFigures(Collector):
    """This instance's export runner: how many jobs it ran, and whether it is making one now."""

    runner = None

    def collect(self):
        runs = CounterMetricFamily("doorstep_export_runs", "本实例领取并运行过的导出任务数")
        running = GaugeMetricFamily("doorstep_export_running", "本实例此刻是否正在生成导出（1 是，0 否）")
        if self.runner is not None:
            runs.add_metric([], self.runner.runs)
            running.add_metric([], int(self.runner.running is not None))
        return [runs, running]

    def describe(self):
        return []


def check_reader(token: str, scope: Scope) -> None:
    """Who may read /metrics. With DOORSTEP_METRICS_TOKEN set, whoever sends it as a bearer token. Without, only a
    request made on this machine straight to the instance (Prometheus beside it): not one that came through nginx,
    which is loopback too but says whom it forwards (X-Forwarded-For). Anyone else finds nothing there."""
    headers = dict(scope.get("headers") or [])
    if token:
        sent = headers.get(b"authorization", b"").decode("latin-1")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise NotAuthenticated("读取监控指标须提供 DOORSTEP_METRICS_TOKEN 令牌。")
        return
    peer = (scope.get("client") or ("", 0))[0]
    if peer not in LOOPBACK or b"x-forwarded-for" in headers or b"x-real-ip" in headers:
        raise NotFound("该地址不存在。")

