"""Log output for the server: text or JSON lines on a stream, filtered by level per Clio channel.

``log_level`` sets the default; ``log_channels`` (Clio's channel names) set a
level for one part of the server, mapped to our module namespaces below.
twistd uses this observer because :class:`~clio_twisted.service.ClioService`
registers it on the application (twistd's own ``--logfile`` is then unused:
run under systemd with ``-n`` and let the journal keep the lines).
"""

from __future__ import annotations

import sys
from typing import IO

from twisted.logger import (
    FilteringLogObserver,
    ILogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    jsonFileLogObserver,
    textFileLogObserver,
)

from clio_twisted.config import LoggingConfig

# Clio's log channels and the module namespaces they cover here.
CHANNEL_NAMESPACES: dict[str, tuple[str, ...]] = {
    "General": ("clio_twisted",),
    "WebServer": ("clio_twisted.web",),
    "Backend": ("clio_twisted.backend",),
    "RPC": ("clio_twisted.rpc",),
    "ETL": ("clio_twisted.etl",),
    "Subscriptions": ("clio_twisted.feeds",),
    "Performance": ("clio_twisted.perf",),
}

_LEVELS = {
    "trace": LogLevel.debug,
    "debug": LogLevel.debug,
    "info": LogLevel.info,
    "warning": LogLevel.warn,
    "warn": LogLevel.warn,
    "error": LogLevel.error,
    "fatal": LogLevel.critical,
    "critical": LogLevel.critical,
}


def log_level(name: str) -> LogLevel:
    """Clio's level name (``trace`` ... ``fatal``) as a twisted ``LogLevel``."""
    return _LEVELS[name]


def make_predicate(config: LoggingConfig) -> LogLevelFilterPredicate:
    predicate = LogLevelFilterPredicate(defaultLogLevel=log_level(config.level))
    for channel in config.channels:
        for namespace in CHANNEL_NAMESPACES[channel.channel]:
            predicate.setLogLevelForNamespace(namespace, log_level(channel.log_level))
    return predicate


def make_observer(config: LoggingConfig, stream: IO[str] | None = None) -> ILogObserver:
    """An observer writing ``text`` or ``json`` lines to ``stream`` (stdout), filtered by level."""
    out = stream if stream is not None else sys.stdout
    if config.format == "json":
        sink = jsonFileLogObserver(out, recordSeparator="")
    else:
        sink = textFileLogObserver(out)
    return FilteringLogObserver(sink, [make_predicate(config)])
