"""create_backend picks and configures the implementation named by database.type."""

from __future__ import annotations

import os

from attrs import frozen

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.cassandra import CassandraBackend, CassandraSettings
from clio_twisted.backend.factory import create_backend
from clio_twisted.backend.sqlite import SqliteBackend


@frozen
class SqliteSection:
    path: str


@frozen
class CassandraSection:
    """Shaped like config.CassandraConfig: Clio's names, plus keys the backend does not use."""

    contact_points: str = "10.0.0.1,10.0.0.2"
    port: int = 9142
    keyspace: str = "mainnet"
    table_prefix: str = "p_"
    replication_factor: int = 3
    max_write_requests_outstanding: int = 500
    max_read_requests_outstanding: int = 600
    connect_timeout: float = 3.0
    request_timeout: float = 0.0
    username: str | None = "clio"
    password: str | None = "secret"
    certfile: str | None = None
    write_batch_size: int = 20


class FactoryTests(SynchronousTestCase):
    def test_sqlite_from_path_or_section(self) -> None:
        """A path or a section with .path gives a SqliteBackend on that file."""
        path = os.path.join(self.mktemp(), "clio.sqlite3")
        for settings in (path, SqliteSection(path)):
            backend = create_backend(Clock(), "sqlite", settings, read_only=True)
            assert isinstance(backend, SqliteBackend)
            self.assertEqual((backend.path, backend.read_only), (path, True))

    def test_cassandra_from_config_section(self) -> None:
        """A config section with Clio's key names becomes CassandraSettings, key for key."""
        backend = create_backend(Clock(), "cassandra", CassandraSection())
        assert isinstance(backend, CassandraBackend)
        self.assertEqual(
            backend.settings,
            CassandraSettings(
                contact_points="10.0.0.1,10.0.0.2",
                port=9142,
                keyspace="mainnet",
                table_prefix="p_",
                replication_factor=3,
                max_write_requests_outstanding=500,
                max_read_requests_outstanding=600,
                connect_timeout=3.0,
                request_timeout=0.0,
                username="clio",
                password="secret",
            ),
        )
        self.assertFalse(backend.read_only)

    def test_cassandra_settings_pass_through(self) -> None:
        """CassandraSettings are used as given."""
        settings = CassandraSettings(keyspace="k")
        backend = create_backend(Clock(), "cassandra", settings)
        assert isinstance(backend, CassandraBackend)
        self.assertIs(backend.settings, settings)

    def test_unknown_kind(self) -> None:
        """An unknown database type is a ValueError naming it."""
        e = self.assertRaises(ValueError, create_backend, Clock(), "postgres", None)
        self.assertIn("postgres", str(e))

    def test_whole_config_form(self) -> None:
        """create_backend(config, reactor) reads database.type, its section and read_only."""

        @frozen
        class Database:
            type: str
            sqlite: SqliteSection
            cassandra: CassandraSection

        @frozen
        class Config:
            database: Database
            read_only: bool

        path = os.path.join(self.mktemp(), "c.sqlite3")
        config = Config(Database("sqlite", SqliteSection(path), CassandraSection()), True)
        backend = create_backend(config, Clock())
        assert isinstance(backend, SqliteBackend)
        self.assertEqual((backend.path, backend.read_only), (path, True))
        config = Config(Database("cassandra", SqliteSection(path), CassandraSection()), False)
        cassandra = create_backend(config, Clock())
        assert isinstance(cassandra, CassandraBackend)
        self.assertEqual(cassandra.settings.keyspace, "mainnet")
