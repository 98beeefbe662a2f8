"""``GET /metrics``: the Prometheus scrape endpoint, admin only, as in Clio.

Clio answers a non-admin scrape with 401 and a plain-text reason, a scrape of
a server whose ``prometheus.enabled`` is false with 403, and otherwise the
text exposition format (version 0.0.4), gzipped when the scraper accepts it
and ``prometheus.compress_reply`` is on. The admin decision is injected: the
web root already knows how this server recognises an admin (localhost or the
password header), and this resource must not learn it twice.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from twisted.web.iweb import IRequest
from twisted.web.resource import Resource

NOT_ADMIN = b"Only admin is allowed to collect metrics"
DISABLED = b"Prometheus is disabled in clio config"


def _accepts_gzip(request: IRequest) -> bool:
    header = request.getHeader(b"accept-encoding") or b""
    return any(
        part.split(b";")[0].strip().lower() == b"gzip" for part in header.split(b",") if part
    )


class MetricsResource(Resource):
    """Renders a registry for Prometheus.

    Args:
        registry: what to expose (``Metrics.registry``).
        is_admin: decides, per request, whether the client is an admin.
        enabled: ``prometheus.enabled`` from the config.
        compress_reply: ``prometheus.compress_reply`` from the config.
    """

    isLeaf = True

    def __init__(
        self,
        registry: CollectorRegistry,
        is_admin: Callable[[IRequest], bool],
        enabled: bool = True,
        compress_reply: bool = True,
    ) -> None:
        super().__init__()
        self._registry = registry
        self._is_admin = is_admin
        self._enabled = enabled
        self._compress = compress_reply

    def render_GET(self, request: IRequest) -> bytes:
        if not self._is_admin(request):
            return self._plain(request, 401, NOT_ADMIN)
        if not self._enabled:
            return self._plain(request, 403, DISABLED)
        body = generate_latest(self._registry)
        request.setHeader(b"content-type", CONTENT_TYPE_PLAIN_0_0_4.encode())
        if self._compress and _accepts_gzip(request):
            request.setHeader(b"content-encoding", b"gzip")
            request.setHeader(b"vary", b"accept-encoding")
            # mtime=0 keeps the bytes deterministic, which helps caches and tests.
            return gzip.compress(body, compresslevel=5, mtime=0)
        return body

    @staticmethod
    def _plain(request: IRequest, code: int, body: bytes) -> bytes:
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return body
