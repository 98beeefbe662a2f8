"""Build the configured backend: the one place that knows every implementation."""

from __future__ import annotations

from typing import Any

from clio_twisted.backend.interface import IBackend


def create_backend(
    reactor: Any, kind: Any = None, settings: Any = None, read_only: bool = False
) -> IBackend:
    """The backend named by ``database.type``, not yet started.

    Two call forms: ``create_backend(reactor, kind, settings, read_only)``, and
    ``create_backend(clio_config, reactor)`` with the whole config (its
    ``database.type``, ``database.sqlite``/``database.cassandra`` and
    ``read_only``), which is how the tap calls it.

    Args:
        reactor: provides IReactorFromThreads and IReactorTime (the running reactor).
        kind: ``"sqlite"`` or ``"cassandra"``.
        settings: for sqlite, the file path or an object with ``.path``
            (config.SqliteConfig); for cassandra, a CassandraSettings or any
            object with Clio's key names as attributes (config.CassandraConfig).
        read_only: a reader server: never creates a schema nor writes.

    Raises:
        ValueError: for an unknown kind.
    """
    if hasattr(reactor, "database") and kind is not None:
        config, reactor = reactor, kind
        database = config.database
        kind = database.type
        settings = getattr(database, kind)
        read_only = bool(getattr(config, "read_only", False))
    if kind == "sqlite":
        from clio_twisted.backend.sqlite import SqliteBackend

        path = settings if isinstance(settings, str) else settings.path
        return SqliteBackend(reactor, path, read_only=read_only)
    if kind == "cassandra":
        from clio_twisted.backend.cassandra import CassandraBackend, CassandraSettings

        if not isinstance(settings, CassandraSettings):
            settings = CassandraSettings.from_config(settings)
        return CassandraBackend(reactor, settings, read_only=read_only)
    raise ValueError(f"unknown database type {kind!r} (expected 'sqlite' or 'cassandra')")
