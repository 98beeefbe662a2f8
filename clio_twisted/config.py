"""The configuration file: Clio's JSON keys, read into frozen attrs sections with defaults in one place.

A file written for Clio loads here: ``//`` and ``/* */`` comments are accepted,
key names are Clio's, and keys Clio has that we do not use (``grpc_port``,
``io_threads``, ...) produce a warning, not an error. Anything else wrong
(missing file, not JSON, wrong type, out of range, unknown key) raises
:class:`ConfigError`, whose one-line message names the key path and what was
expected; start-up prints it and exits non-zero. ``docs/configuration.md``
documents every key.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from attrs import field, frozen

T = TypeVar("T")

KeyPath = tuple[str | int, ...]

LOG_LEVELS = ("trace", "debug", "info", "warning", "warn", "error", "fatal", "critical")
LOG_CHANNELS = ("General", "WebServer", "Backend", "RPC", "ETL", "Subscriptions", "Performance")
SUPPORTED_API_VERSIONS = (1, 2)


class ConfigError(Exception):
    """A configuration problem, with the key path it concerns."""

    def __init__(self, message: str, path: KeyPath = ()) -> None:
        self.message = message
        self.path = path
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = format_path(self.path)
        return f"{where}: {self.message}" if where else self.message


def format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _describe(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Reader:
    """Reads one JSON object section, checking each key once; leftovers are unknown keys."""

    def __init__(self, raw: object, path: KeyPath, warnings: list[str]) -> None:
        if not isinstance(raw, dict):
            raise ConfigError(f"expected an object, got {_describe(raw)}", path)
        self.raw: dict[str, Any] = raw
        self.path = path
        self.warnings = warnings
        self.seen: set[str] = set()

    def has(self, key: str) -> bool:
        return key in self.raw

    def _get(self, key: str) -> Any:
        self.seen.add(key)
        return self.raw.get(key)

    def sub(self, key: str) -> _Reader:
        value = self._get(key)
        return _Reader({} if value is None else value, (*self.path, key), self.warnings)

    def string(self, key: str, default: T, choices: Iterable[str] | None = None) -> str | T:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise ConfigError(f"expected a string, got {_describe(value)}", (*self.path, key))
        if choices is not None and value not in choices:
            raise ConfigError(
                f"expected one of {', '.join(choices)}, got {_describe(value)}", (*self.path, key)
            )
        return value

    def boolean(self, key: str, default: T) -> bool | T:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(f"expected true or false, got {_describe(value)}", (*self.path, key))
        return value

    def integer(
        self, key: str, default: T, minimum: int | None = None, maximum: int | None = None
    ) -> int | T:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)  # Clio writes some ports as strings
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"expected an integer, got {_describe(value)}", (*self.path, key))
        _check_range(value, minimum, maximum, (*self.path, key))
        return value

    def number(
        self, key: str, default: T, minimum: float | None = None, maximum: float | None = None
    ) -> float | T:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"expected a number, got {_describe(value)}", (*self.path, key))
        _check_range(value, minimum, maximum, (*self.path, key))
        return float(value)

    def array(self, key: str) -> list[Any]:
        value = self._get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ConfigError(f"expected an array, got {_describe(value)}", (*self.path, key))
        return value

    def finish(self, ignored: Iterable[str] = ()) -> None:
        """Reject keys nobody read; warn about Clio keys we accept but do not use."""
        ignored_set = set(ignored)
        for key in self.raw:
            if key in self.seen:
                continue
            if key in ignored_set:
                self.warnings.append(
                    f"{format_path((*self.path, key))}: Clio option not used by clio-twisted; ignored"
                )
                continue
            raise ConfigError("unknown key", (*self.path, key))


def _check_range(value: float, minimum: float | None, maximum: float | None, path: KeyPath) -> None:
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise ConfigError(f"expected a value from {minimum} to {maximum}, got {value}", path)
    if minimum is not None and value < minimum:
        raise ConfigError(f"expected a value of at least {minimum}, got {value}", path)
    if maximum is not None and value > maximum:
        raise ConfigError(f"expected a value of at most {maximum}, got {value}", path)


# -- sections ------------------------------------------------------------------------------


@frozen
class ServerConfig:
    """``server``: where the API listens, who is admin, request size limits."""

    ip: str = "0.0.0.0"
    port: int = 51233  # 0 asks the OS for a free port (tests)
    admin_password: str | None = None
    local_admin: bool | None = None
    processes: int = 1
    max_queue_size: int = 0
    ws_max_sending_queue_size: int = 80_000
    max_request_size: int = 1_048_576  # clio-twisted: bytes in one HTTP body
    max_ws_message_size: int = 1_048_576  # clio-twisted: bytes in one WebSocket message
    # clio-twisted: the HTTP front's per-connection limits (web/fast_http.py Limits)
    max_header_size: int = 16 * 1024  # request line + headers, bytes (431 over it)
    max_headers: int = 100  # header lines (431 over it)
    request_timeout: float = 20.0  # seconds from a request's first byte to its last (408)
    idle_timeout: float = 120.0  # seconds a keep-alive connection may sit idle
    max_pipelined_requests: int = 64  # unanswered requests before reading pauses

    @property
    def listen(self) -> str:
        """The server endpoint string for ``serverFromString``."""
        interface = self.ip.replace(":", "\\:")
        return f"tcp:{self.port}:interface={interface}"

    @classmethod
    def read(cls, r: _Reader) -> ServerConfig:
        ip = r.string("ip", "0.0.0.0")
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise ConfigError(
                f"expected an IP address, got {_describe(ip)}", (*r.path, "ip")
            ) from None
        password = r.string("admin_password", None)
        local_admin = r.boolean("local_admin", None)
        if password is not None and local_admin:
            raise ConfigError(
                "local_admin and admin_password can not be set together", (*r.path, "local_admin")
            )
        if local_admin is False and password is None:
            raise ConfigError(
                "local_admin is false but no admin_password is set: nobody could be admin",
                (*r.path, "local_admin"),
            )
        out = cls(
            ip=ip,
            port=r.integer("port", 51233, 0, 65535),
            admin_password=password,
            local_admin=local_admin,
            processes=r.integer("processes", 1, 1, 256),
            max_queue_size=r.integer("max_queue_size", 0, 0),
            ws_max_sending_queue_size=r.integer("ws_max_sending_queue_size", 80_000, 1),
            max_request_size=r.integer("max_request_size", 1_048_576, 1024),
            max_ws_message_size=r.integer("max_ws_message_size", 1_048_576, 1024),
            max_header_size=r.integer("max_header_size", 16 * 1024, 1024),
            max_headers=r.integer("max_headers", 100, 1),
            request_timeout=r.number("request_timeout", 20.0, 0.1),
            idle_timeout=r.number("idle_timeout", 120.0, 0.1),
            max_pipelined_requests=r.integer("max_pipelined_requests", 64, 1),
        )
        r.finish(ignored=("processing_policy", "parallel_requests_limit", "proxy"))
        return out


@frozen
class SqliteConfig:
    """``database.sqlite``: one embedded file."""

    path: str = "var/clio.sqlite3"


@frozen
class CassandraConfig:
    """``database.cassandra``: Clio's keys for the cluster connection."""

    contact_points: str = "127.0.0.1"
    port: int = 9042
    keyspace: str = "clio"
    table_prefix: str = ""
    replication_factor: int = 3
    max_write_requests_outstanding: int = 10_000
    max_read_requests_outstanding: int = 100_000
    threads: int | None = None
    core_connections_per_host: int = 1
    write_batch_size: int = 20
    connect_timeout: float = 10.0
    request_timeout: float = 0.0  # 0 = none
    username: str | None = None
    password: str | None = None
    certfile: str | None = None

    @classmethod
    def read(cls, r: _Reader) -> CassandraConfig:
        out = cls(
            contact_points=r.string("contact_points", "127.0.0.1"),
            port=r.integer("port", 9042, 1, 65535),
            keyspace=r.string("keyspace", "clio"),
            table_prefix=r.string("table_prefix", ""),
            replication_factor=r.integer("replication_factor", 3, 1),
            max_write_requests_outstanding=r.integer("max_write_requests_outstanding", 10_000, 1),
            max_read_requests_outstanding=r.integer("max_read_requests_outstanding", 100_000, 1),
            threads=r.integer("threads", None, 1),
            core_connections_per_host=r.integer("core_connections_per_host", 1, 1),
            write_batch_size=r.integer("write_batch_size", 20, 1),
            connect_timeout=r.number("connect_timeout", 10.0, 0),
            request_timeout=r.number("request_timeout", 0.0, 0),
            username=r.string("username", None),
            password=r.string("password", None),
            certfile=r.string("certfile", None),
        )
        r.finish(ignored=("secure_connect_bundle", "queue_size_io", "max_requests_outstanding"))
        return out


@frozen
class DatabaseConfig:
    """``database``: which backend, and its settings."""

    type: str = "sqlite"
    sqlite: SqliteConfig = SqliteConfig()
    cassandra: CassandraConfig = CassandraConfig()

    @classmethod
    def read(cls, r: _Reader) -> DatabaseConfig:
        db_type = r.string("type", "sqlite", ("sqlite", "cassandra"))
        sq = r.sub("sqlite")
        sqlite = SqliteConfig(path=sq.string("path", "var/clio.sqlite3"))
        sq.finish()
        out = cls(type=db_type, sqlite=sqlite, cassandra=CassandraConfig.read(r.sub("cassandra")))
        r.finish(ignored=("scylladb",))
        return out


@frozen
class EtlSourceConfig:
    """One ``etl_sources[]`` entry: a rippled to follow (WebSocket only; gRPC is not used)."""

    ip: str
    ws_port: int

    @property
    def url(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"ws://{host}:{self.ws_port}"

    @classmethod
    def read(cls, r: _Reader) -> EtlSourceConfig:
        ip = r.string("ip", None)
        if ip is None:
            raise ConfigError("missing; expected the rippled host", (*r.path, "ip"))
        port = r.integer("ws_port", None, 1, 65535)
        if port is None:
            raise ConfigError("missing; expected rippled's WebSocket port", (*r.path, "ws_port"))
        r.finish(ignored=("grpc_port",))
        return cls(ip=ip, ws_port=port)


@frozen
class EtlConfig:
    """``etl`` (and Clio's top-level spellings): how ledgers are extracted and checked."""

    verify_state: bool = True
    num_markers: int = 16
    start_sequence: int | None = None
    finish_sequence: int | None = None
    allow_no_etl: bool = False


@frozen
class DosGuardConfig:
    """``dos_guard``: per-IP budgets per sweep, and who is exempt."""

    whitelist: tuple[str, ...] = ()
    max_fetches: int = 1_000_000  # bytes per IP per sweep
    max_connections: int = 20
    max_requests: int = 20
    sweep_interval: float = 1.0

    @classmethod
    def read(cls, r: _Reader) -> DosGuardConfig:
        whitelist = []
        for i, item in enumerate(r.array("whitelist")):
            path = (*r.path, "whitelist", i)
            if not isinstance(item, str):
                raise ConfigError(f"expected an IP address or CIDR, got {_describe(item)}", path)
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ConfigError(
                    f"expected an IP address or CIDR, got {_describe(item)}", path
                ) from None
            whitelist.append(item)
        out = cls(
            whitelist=tuple(whitelist),
            max_fetches=r.integer("max_fetches", 1_000_000, 0),
            max_connections=r.integer("max_connections", 20, 0),
            max_requests=r.integer("max_requests", 20, 0),
            sweep_interval=r.number("sweep_interval", 1.0, 0.001),
        )
        r.finish()
        return out


@frozen
class ApiVersionConfig:
    """``api_version``: the range of API versions served and the default."""

    min: int = 1
    max: int = 2
    default: int = 1

    @classmethod
    def read(cls, r: _Reader) -> ApiVersionConfig:
        lo, hi = SUPPORTED_API_VERSIONS[0], SUPPORTED_API_VERSIONS[-1]
        out = cls(
            min=r.integer("min", 1, lo, hi),
            max=r.integer("max", 2, lo, hi),
            default=r.integer("default", 1, lo, hi),
        )
        if out.min > out.max:
            raise ConfigError(f"min ({out.min}) is above max ({out.max})", (*r.path, "min"))
        if not out.min <= out.default <= out.max:
            raise ConfigError(
                f"expected a value from min ({out.min}) to max ({out.max}), got {out.default}",
                (*r.path, "default"),
            )
        r.finish()
        return out


@frozen
class CacheConfig:
    """``cache``: the in-memory copy of the newest ledger's state."""

    load: str = "async"
    num_diffs: int = 32
    num_markers: int = 48
    page_fetch_size: int = 512
    num_cursors_from_diff: int = 0
    num_cursors_from_account: int = 0
    # clio-twisted: memory of the API side's answer caches, bytes; 0 turns one off
    hot_answers_max_size: int = 64 << 20  # whole answers to repeated requests (web/_fast_hot.py)
    # store reads that never change: headers, object versions, transactions, state and
    # history pages, each kind up to this (backend/immutable_reads.py)
    versions_max_size: int = 32 << 20

    @classmethod
    def read(cls, r: _Reader) -> CacheConfig:
        out = cls(
            load=r.string("load", "async", ("async", "sync", "none")),
            num_diffs=r.integer("num_diffs", 32, 0),
            num_markers=r.integer("num_markers", 48, 1, 256),
            page_fetch_size=r.integer("page_fetch_size", 512, 1),
            num_cursors_from_diff=r.integer("num_cursors_from_diff", 0, 0),
            num_cursors_from_account=r.integer("num_cursors_from_account", 0, 0),
            hot_answers_max_size=r.integer("hot_answers_max_size", 64 << 20, 0),
            versions_max_size=r.integer("versions_max_size", 32 << 20, 0),
        )
        r.finish(ignored=("file",))
        return out


@frozen
class ForwardingConfig:
    """``forwarding``: commands relayed to rippled."""

    cache_timeout: float = 0.0
    request_timeout: float = 10.0


@frozen
class PrometheusConfig:
    """``prometheus``: the admin-only ``/metrics`` page."""

    enabled: bool = True
    compress_reply: bool = True


@frozen
class LogChannelConfig:
    channel: str
    log_level: str


@frozen
class LoggingConfig:
    """``log_level``, ``log_format`` (text or json lines) and ``log_channels`` (top-level keys in Clio)."""

    level: str = "info"
    format: str = "text"
    channels: tuple[LogChannelConfig, ...] = ()


@frozen
class ClioConfig:
    """The whole validated configuration. ``warnings`` lists keys accepted but ignored."""

    server: ServerConfig = ServerConfig()
    database: DatabaseConfig = DatabaseConfig()
    etl_sources: tuple[EtlSourceConfig, ...] = ()
    etl: EtlConfig = EtlConfig()
    read_only: bool = False
    dos_guard: DosGuardConfig = DosGuardConfig()
    api_version: ApiVersionConfig = ApiVersionConfig()
    cache: CacheConfig = CacheConfig()
    forwarding: ForwardingConfig = ForwardingConfig()
    rpc_cache_timeout: float = 0.0
    prometheus: PrometheusConfig = PrometheusConfig()
    logging: LoggingConfig = LoggingConfig()
    workers: int = 1
    graceful_period: float = 10.0
    writer_takeover_seconds: float = 10.0
    warnings: tuple[str, ...] = field(default=(), eq=False)
    source_path: str | None = field(default=None, eq=False)


# Top-level Clio keys we accept and ignore (with a warning).
_IGNORED_TOP_LEVEL = (
    "io_threads",
    "subscription_workers",
    "extractor_threads",
    "txn_threshold",
    "log_to_console",
    "log_directory",
    "log_rotation_size",
    "log_directory_max_size",
    "log_rotation_hour_interval",
    "log_tag_style",
    "ssl_cert_file",
    "ssl_key_file",
    "online_delete",
    "migration",
    "num_cursors_from_diff",
    "num_cursors_from_account",
)


def _read_etl(top: _Reader) -> EtlConfig:
    """``etl.*`` with Clio's top-level spellings (``num_markers``, ``start_sequence``, ...) as fallbacks."""
    sub = top.sub("etl")

    def pick(key: str, reader: Callable[[_Reader], T]) -> T:
        if sub.has(key) and top.has(key):
            raise ConfigError(f"set both here and at top level ({key})", (*sub.path, key))
        return reader(sub if sub.has(key) else top)

    out = EtlConfig(
        verify_state=pick("verify_state", lambda r: r.boolean("verify_state", True)),
        num_markers=pick("num_markers", lambda r: r.integer("num_markers", 16, 1, 256)),
        start_sequence=pick("start_sequence", lambda r: r.integer("start_sequence", None, 1)),
        finish_sequence=pick("finish_sequence", lambda r: r.integer("finish_sequence", None, 1)),
        allow_no_etl=pick("allow_no_etl", lambda r: r.boolean("allow_no_etl", False)),
    )
    if (
        out.start_sequence is not None
        and out.finish_sequence is not None
        and out.finish_sequence < out.start_sequence
    ):
        raise ConfigError("is below start_sequence", ("finish_sequence",))
    sub.finish(ignored=("extractor_threads", "cache_load_threads"))
    return out


def _read_logging(top: _Reader) -> LoggingConfig:
    level = top.string("log_level", "info", LOG_LEVELS)
    fmt = top.string("log_format", "text")
    if fmt not in ("text", "json"):
        # Clio's log_format is a Boost.Log pattern; a Clio file keeps working, as text.
        top.warnings.append(
            f"log_format: {_describe(fmt)} is a Clio log pattern; clio-twisted writes 'text' or 'json'"
        )
        fmt = "text"
    channels = []
    for i, item in enumerate(top.array("log_channels")):
        r = _Reader(item, ("log_channels", i), top.warnings)
        channel = r.string("channel", None, LOG_CHANNELS)
        if channel is None:
            raise ConfigError("missing; expected a channel name", ("log_channels", i, "channel"))
        channels.append(
            LogChannelConfig(channel=channel, log_level=r.string("log_level", level, LOG_LEVELS))
        )
        r.finish()
    return LoggingConfig(level=level, format=fmt, channels=tuple(channels))


def config_from_dict(raw: object, source_path: str | None = None) -> ClioConfig:
    """Validate a parsed JSON document into a :class:`ClioConfig`; raises :class:`ConfigError`."""
    warnings: list[str] = []
    top = _Reader(raw, (), warnings)
    server = ServerConfig.read(top.sub("server"))
    database = DatabaseConfig.read(top.sub("database"))
    sources = []
    for i, item in enumerate(top.array("etl_sources")):
        sources.append(EtlSourceConfig.read(_Reader(item, ("etl_sources", i), warnings)))
    etl = _read_etl(top)
    dos_guard = DosGuardConfig.read(top.sub("dos_guard"))
    api_version = ApiVersionConfig.read(top.sub("api_version"))
    cache = CacheConfig.read(top.sub("cache"))
    fw = top.sub("forwarding")
    forwarding = ForwardingConfig(
        cache_timeout=fw.number("cache_timeout", 0.0, 0),
        request_timeout=fw.number("request_timeout", 10.0, 0.001),
    )
    fw.finish()
    rpc = top.sub("rpc")
    rpc_cache_timeout = rpc.number("cache_timeout", 0.0, 0)
    rpc.finish()
    pr = top.sub("prometheus")
    prometheus = PrometheusConfig(
        enabled=pr.boolean("enabled", True), compress_reply=pr.boolean("compress_reply", True)
    )
    pr.finish()
    read_only = top.boolean("read_only", False)
    logging = _read_logging(top)
    workers = top.integer("workers", 1, 1, 1024)
    graceful_period = top.number("graceful_period", 10.0, 0)
    takeover = top.number("writer_takeover_seconds", 10.0, 0.001)
    top.finish(ignored=_IGNORED_TOP_LEVEL)
    return ClioConfig(
        server=server,
        database=database,
        etl_sources=tuple(sources),
        etl=etl,
        read_only=read_only,
        dos_guard=dos_guard,
        api_version=api_version,
        cache=cache,
        forwarding=forwarding,
        rpc_cache_timeout=rpc_cache_timeout,
        prometheus=prometheus,
        logging=logging,
        workers=workers,
        graceful_period=graceful_period,
        writer_takeover_seconds=takeover,
        warnings=tuple(warnings),
        source_path=source_path,
    )


def strip_comments(text: str) -> str:
    """Remove ``//`` line and ``/* */`` block comments outside JSON strings (Clio's files have them)."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
        elif c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            # keep newlines so JSON error positions still point at the right line
            chunk = text[i : n if end < 0 else end + 2]
            out.append("\n" * chunk.count("\n"))
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_config_text(text: str, source_path: str | None = None) -> ClioConfig:
    """Parse JSON-with-comments text and validate it."""
    try:
        raw = json.loads(strip_comments(text))
    except json.JSONDecodeError as e:
        where = source_path or "config"
        raise ConfigError(
            f"{where}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})"
        ) from None
    return config_from_dict(raw, source_path)


def load_config(path: str | Path) -> ClioConfig:
    """Read and validate the file at ``path``; every problem is a one-line :class:`ConfigError`."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read config file ({e.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: config file is not UTF-8 text") from None
    try:
        return parse_config_text(text, str(p))
    except ConfigError as e:
        if e.path:
            raise ConfigError(f"{e.message} (in {p})", e.path) from None
        raise


def default_config_path(checkout_root: Path | None = None) -> Path:
    """``etc/config.json`` of a source checkout, else the installed ``/etc/clio-twisted/config.json``."""
    root = checkout_root or Path(__file__).resolve().parent.parent
    candidate = root / "etc" / "config.json"
    if candidate.is_file() and (root / "setup.cfg").is_file():
        return candidate
    return Path("/etc/clio-twisted/config.json")
