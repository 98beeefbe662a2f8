"""``twistd clio``: command-line options and the assembly of the server. No I/O happens here.

``makeService`` is the only place that imports the global reactor; the real
work is :func:`build_service`, which tests call with a fake reactor and an
in-memory backend.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import IO, Any

from attrs import frozen

from twisted.application.service import IService
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.python import usage
from twisted.web.iweb import IRequest

import clio_twisted
from clio_twisted.backend.immutable_reads import ImmutableReads
from clio_twisted.backend.instrumented import InstrumentedBackend
from clio_twisted.backend.interface import IBackend
from clio_twisted.backend.known_range import KnownRange
from clio_twisted.config import ClioConfig, ConfigError, default_config_path, load_config
from clio_twisted.feeds.manager import SubscriptionManager
from clio_twisted.feeds.publisher import MAX_AGE_SECONDS, Publisher, PublisherService
from clio_twisted.feeds.relay import RELAY_STREAMS, Relay
from clio_twisted.logging import make_observer
from clio_twisted.metrics import Metrics
from clio_twisted.observability import CountersInfo, watch
from clio_twisted.rpc.context import Context, JsonDict
from clio_twisted.rpc.dispatch import Dispatcher
from clio_twisted.rpc.forward import Forwarder
from clio_twisted.rpc.handlers import load_handlers
from clio_twisted.rpc.info_sections import CacheInfo, RippledInfo
from clio_twisted.rpc.work_queue import WorkQueue
from clio_twisted.service import ClioService
from clio_twisted.web._fast_hot import HotAnswers
from clio_twisted.web.admin import AdminPolicy
from clio_twisted.web.dosguard import DosGuard
from clio_twisted.web.fast_http import FastHttpFactory, Limits
from clio_twisted.web.inflight import InFlight
from clio_twisted.web.metrics import MetricsResource
from clio_twisted.web.processes import api_endpoint
from clio_twisted.web.root import ApiSite, RootResource, peer_ip
from clio_twisted.web.status_page import StatusPageResource, status_provider, wants_status_page
from clio_twisted.web.websocket import ClioWebSocketFactory

BackendFactory = Callable[[ClioConfig, Any], IBackend]
PartsFactory = Callable[[ClioConfig, IBackend, Any], list[IService]]


class Options(usage.Options):
    """Options of ``twistd clio``."""

    synopsis = "[--config PATH]"
    longdesc = (
        "Run clio-twisted, an XRP Ledger API server that follows rippled and answers rippled's "
        "JSON-RPC and WebSocket API from its own store. Everything else is set in the JSON config "
        "file (Clio's keys; see docs/configuration.md). Without --config it reads etc/config.json "
        "of a source checkout, else /etc/clio-twisted/config.json. A bad file stops start-up with "
        "one line naming the key. Check a file without starting: clio-twisted check-config PATH."
    )
    optParameters = [
        [
            "config",
            "c",
            None,
            "Path of the JSON config file (default: etc/config.json in a source checkout, "
            "else /etc/clio-twisted/config.json).",
        ],
    ]

    def __init__(self, stderr: IO[str] | None = None) -> None:
        super().__init__()
        self._stderr = stderr
        self.clio_config: ClioConfig | None = None

    def opt_version(self) -> None:
        """Print the version and exit."""
        print(f"clio-twisted {clio_twisted.__version__}")
        raise SystemExit(0)

    def postOptions(self) -> None:
        path = self["config"] or str(default_config_path())
        try:
            self.clio_config = load_config(path)
        except ConfigError as e:
            # One line and a non-zero exit; twistd would print the whole usage text for a UsageError.
            err = self._stderr if self._stderr is not None else sys.stderr
            err.write(f"clio-twisted: config error: {e}\n")
            raise SystemExit(1) from None


def default_backend_factory(config: ClioConfig, reactor: Any) -> IBackend:
    """The backend ``database.type`` names (sqlite or cassandra), not yet started."""
    from clio_twisted.backend.factory import create_backend

    backend: IBackend = create_backend(config, reactor)
    return backend


class _EtlInfo:
    """server_info's admin ``etl`` section, and (as Clio, for every client) ``amendment_blocked``."""

    def __init__(self, etl: Any) -> None:
        self._etl = etl

    async def server_info(self, ctx: Context) -> JsonDict:
        status = self._etl.status
        out: JsonDict = {"amendment_blocked": True} if status.amendment_blocked else {}
        if ctx.is_admin:
            out["etl"] = status.server_info(ctx.clock.seconds())
        return out


def default_parts(config: ClioConfig, backend: IBackend, reactor: Any) -> list[IService]:
    """The ETL service, when sources are configured."""
    if not config.etl_sources:
        return []
    from clio_twisted.etl.service import EtlService

    return [EtlService.from_config(config, backend, reactor)]


@frozen
class Feeds:
    """The streams and forwarding parts, as :func:`wire_feeds` connected them."""

    manager: SubscriptionManager
    forwarder: Forwarder
    publisher: Publisher | None = None
    relay: Relay | None = None


def wire_feeds(
    config: ClioConfig,
    backend: IBackend,
    reactor: Any,
    etl: Any,
    max_age: float = MAX_AGE_SECONDS,
) -> Feeds:
    """Subscriptions, publishing after each commit, the relay of rippled's streams, and forwarding.

    ``max_age``: ledgers that closed longer ago are not published (Clio: 600 s).
    """
    sources: list[Any] = list(getattr(etl, "sources", None) or [])

    def network_id() -> int:
        for source in sources:
            value = getattr(getattr(source, "state", None), "network_id", None)
            if isinstance(value, int):
                return value
        return 0

    manager = SubscriptionManager(network_id=network_id)
    forwarder = Forwarder(
        reactor,
        lambda: sources,
        request_timeout=config.forwarding.request_timeout,
        cache_timeout=config.forwarding.cache_timeout,
    )
    follower = getattr(etl, "etl", None)
    if follower is None or not hasattr(follower, "add_listener"):
        return Feeds(manager, forwarder)
    publisher = Publisher(backend, manager, reactor, max_age=max_age)
    if hasattr(etl, "addService"):
        PublisherService(publisher, reactor).setServiceParent(etl)
    follower.add_listener(publisher.on_committed)
    follower.add_listener(forwarder.invalidate)
    relay = Relay(manager)
    for source in sources:
        if hasattr(source, "relay_to"):
            source.relay_to(relay.on_stream, RELAY_STREAMS)
    return Feeds(manager, forwarder, publisher, relay)


def http_limits(config: ClioConfig) -> Limits:
    """The HTTP front's per-connection limits from ``server.*`` (the body bound is the site's)."""
    server = config.server
    return Limits(
        max_header_bytes=server.max_header_size,
        max_headers=server.max_headers,
        max_body=server.max_request_size,
        request_timeout=server.request_timeout,
        idle_timeout=server.idle_timeout,
        max_pipelined=server.max_pipelined_requests,
    )


def build_service(
    config: ClioConfig,
    reactor: Any,
    backend_factory: BackendFactory = default_backend_factory,
    parts_factory: PartsFactory = default_parts,
    environ: Mapping[str, str] | None = None,
    install_log_observer: bool = True,
    endpoint: IStreamServerEndpoint | None = None,
) -> ClioService:
    """Wire every part of the server from a validated config; opens nothing until started."""
    metrics = Metrics(reactor)
    # every store call is counted (backend_* metric families); the stores know nothing of it
    backend: IBackend = InstrumentedBackend(backend_factory(config, reactor), metrics, reactor)
    parts = parts_factory(config, backend, reactor)
    etl = next((p for p in parts if hasattr(p, "status")), None)
    feeds = wire_feeds(config, backend, reactor, etl)
    # the API side answers the ledger range from memory, kept current by the ETL's commits
    known_range = KnownRange(backend, reactor)
    follower = getattr(etl, "etl", None)
    if follower is not None and hasattr(follower, "add_listener"):
        follower.add_listener(known_range.on_committed)
    dos_guard = DosGuard(config.dos_guard, reactor)
    # as Clio: whitelisted clients skip the bound
    work_queue = WorkQueue(
        config.server.max_queue_size, reactor, metrics, is_whitelisted=dos_guard.is_whitelisted
    )
    base = Context(
        # handlers read immutable headers, objects, transactions and pages from memory
        # (backend/immutable_reads.py); the ETL does not
        backend=(
            ImmutableReads(known_range, max_bytes=config.cache.versions_max_size)
            if config.cache.versions_max_size > 0
            else known_range
        ),
        clock=reactor,
        config=config,
        started_at=reactor.seconds(),
        etl=etl,
        counters=metrics,
        subscriptions=feeds.manager,
        forwarder=feeds.forwarder,
        info_sections=(
            # Clio's cache section and rippled's figures (for every client), then admin etl
            CacheInfo(lambda: getattr(etl, "cache", None)),
            RippledInfo(feeds.forwarder),
            *((_EtlInfo(etl),) if etl is not None else ()),
            CountersInfo(metrics, work_queue, feeds.manager),
        ),
    )
    dispatcher = Dispatcher(load_handlers(), base, work_queue=work_queue)
    watch(
        metrics,
        reactor,
        etl=etl,
        subscriptions=feeds.manager,
        publisher=feeds.publisher,
        read_only=config.read_only,
    )
    admin = AdminPolicy(config.server)
    inflight = InFlight()
    ws_factory = ClioWebSocketFactory(
        dispatcher,
        dos_guard,
        admin,
        inflight,
        reactor,
        max_message_size=config.server.max_ws_message_size,
        subscriptions=feeds.manager,
        max_sending_queue_size=config.server.ws_max_sending_queue_size,
    )

    def is_admin(request: IRequest) -> bool:
        return admin.is_admin(peer_ip(request), request.getHeader(b"authorization"))

    metrics_page = MetricsResource(
        metrics.registry,
        is_admin,
        enabled=config.prometheus.enabled,
        compress_reply=config.prometheus.compress_reply,
    )
    snapshot = status_provider(
        metrics=metrics,
        backend=backend,
        clock=reactor,
        etl_status=(lambda: etl.status.server_info(reactor.seconds())) if etl is not None else None,
        started_at=base.started_at,
    )
    # The status page shows sources and load progress: admin only, like server_info's etl section.
    status_page = StatusPageResource(snapshot, is_allowed=is_admin)
    root = RootResource(
        dispatcher,
        dos_guard,
        admin,
        ws_factory,
        inflight,
        metrics=metrics_page,
        status_page=(status_page, wants_status_page),
    )
    site = ApiSite(root, dos_guard, config.server.max_request_size, reactor=reactor)
    # The lean HTTP front answers JSON-RPC POSTs and hands the rest to the site (issue 14);
    # server.processes > 1 listens in several processes on one port (web/processes.py).
    hot: HotAnswers | None = None
    if config.cache.hot_answers_max_size > 0:
        hot = HotAnswers(dispatcher, reactor, max_bytes=config.cache.hot_answers_max_size)
        # a new range drops the kept answers at once, before the next request reads it
        known_range.add_listener(hot.on_range)
    fast = FastHttpFactory(
        site, dispatcher, dos_guard, admin, inflight, reactor, limits=http_limits(config), hot=hot
    )
    ws_factory.hot = fast.hot  # repeated WebSocket messages are answered from memory too
    if endpoint is None:
        endpoint = api_endpoint(config, reactor)
    return ClioService(
        backend=known_range,  # starts and stops the store, and the range refresh
        clock=reactor,
        endpoint=endpoint,
        site=site,
        listen_factory=fast,
        dos_guard=dos_guard,
        inflight=inflight,
        ws_factory=ws_factory,
        parts=parts,
        grace_period=config.graceful_period,
        log_observer=make_observer(config.logging) if install_log_observer else None,
        environ=environ,
        on_fatal=getattr(reactor, "stop", None),
        on_stop=(feeds.forwarder.close_all,),
    )


def makeService(options: Options) -> IService:
    """twistd's entry point."""
    from twisted.internet import reactor

    config = options.clio_config
    if config is None:  # postOptions always sets it; keep mypy and odd callers honest
        raise usage.UsageError("no configuration")
    service = build_service(config, reactor)
    for warning in config.warnings:
        ClioService.log.warn("config: {warning}", warning=warning)  # noqa: G010 (twisted Logger)
    return service
