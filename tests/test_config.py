"""The config file: Clio's keys, comments, defaults, and one-line errors naming the key path."""

from __future__ import annotations

import io
import json
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted import cli
from clio_twisted.config import (
    ClioConfig,
    ConfigError,
    config_from_dict,
    default_config_path,
    load_config,
    parse_config_text,
    strip_comments,
)

ROOT = Path(__file__).resolve().parent.parent

# The shape of Clio's example config (docs/examples/config/example-config.json), trimmed.
CLIO_STYLE = """
/*
 * A Clio config file.
 */
{
    "database": {
        "type": "cassandra",
        "cassandra": {
            // comma separated
            "contact_points": "127.0.0.1",
            "port": 9042,
            "keyspace": "clio",
            "replication_factor": 1,
            "table_prefix": "",
            "max_write_requests_outstanding": 25000,
            "max_read_requests_outstanding": 30000,
            "threads": 8,
            "core_connections_per_host": 1
        }
    },
    "allow_no_etl": false,
    "etl_sources": [
        {"ip": "127.0.0.1", "ws_port": "6005", "grpc_port": "50051"}
    ],
    "forwarding": {"cache_timeout": 0.250, "request_timeout": 10.0},
    "rpc": {"cache_timeout": 0.5},
    "num_markers": 48,
    "dos_guard": {
        "whitelist": ["127.0.0.1"],
        "max_fetches": 1000000,
        "max_connections": 20,
        "max_requests": 20,
        "sweep_interval": 1
    },
    "workers": 8,
    "server": {
        "ip": "0.0.0.0",
        "port": 51233,
        "max_queue_size": 500,
        "local_admin": true,
        "processing_policy": "parallel",
        "ws_max_sending_queue_size": 1500
    },
    "graceful_period": 10.0,
    "cache": {"num_diffs": 32, "num_markers": 48, "page_fetch_size": 512, "load": "async"},
    "prometheus": {"enabled": true, "compress_reply": true},
    "io_threads": 2,
    "log_channels": [
        {"channel": "Backend", "log_level": "fatal"},
        {"channel": "WebServer", "log_level": "info"}
    ],
    "log_level": "info",
    "log_format": "%TimeStamp% (%SourceLocation%) [%ThreadID%] %Channel%:%Severity% %Message%",
    "log_to_console": true,
    "log_directory": "./clio_log",
    "log_rotation_size": 2048,
    "log_tag_style": "uint",
    "extractor_threads": 8,
    "read_only": false,
    "start_sequence": 1234,
    "api_version": {"min": 1, "max": 2, "default": 1}
}
"""


class ConfigTests(SynchronousTestCase):
    def error(self, raw: object) -> str:
        with self.assertRaises(ConfigError) as caught:
            config_from_dict(raw)
        return str(caught.exception)

    def test_defaults(self) -> None:
        """An empty object gives every default from one place."""
        config = config_from_dict({})
        self.assertEqual(config, ClioConfig())
        self.assertEqual(config.server.port, 51233)
        self.assertEqual(config.database.type, "sqlite")
        self.assertEqual(config.dos_guard.max_requests, 20)
        self.assertEqual(
            (config.api_version.min, config.api_version.max, config.api_version.default), (1, 2, 1)
        )
        self.assertEqual(config.etl.num_markers, 16)
        self.assertTrue(config.etl.verify_state)
        self.assertEqual(config.writer_takeover_seconds, 10.0)

    def test_front_limits_and_answer_cache_sizes(self) -> None:
        """server.* front limits and cache.* answer-cache sizes read with their defaults and bounds."""
        config = config_from_dict({})
        server = config.server
        self.assertEqual(
            (
                server.max_header_size,
                server.max_headers,
                server.request_timeout,
                server.idle_timeout,
                server.max_pipelined_requests,
            ),
            (16384, 100, 20.0, 120.0, 64),
        )
        self.assertEqual(
            (config.cache.hot_answers_max_size, config.cache.versions_max_size),
            (64 << 20, 32 << 20),
        )
        raw = {
            "server": {
                "max_header_size": 4096,
                "request_timeout": 2.5,
                "max_pipelined_requests": 8,
            },
            "cache": {"hot_answers_max_size": 0, "versions_max_size": 1000},
        }
        config = config_from_dict(raw)
        self.assertEqual(config.server.max_header_size, 4096)
        self.assertEqual(config.server.request_timeout, 2.5)
        self.assertEqual(config.server.max_pipelined_requests, 8)
        self.assertEqual(config.cache.hot_answers_max_size, 0)
        self.assertEqual(config.cache.versions_max_size, 1000)
        self.assertIn(
            "server.max_header_size: expected a value of at least 1024",
            self.error({"server": {"max_header_size": 10}}),
        )
        self.assertIn("server.idle_timeout", self.error({"server": {"idle_timeout": 0}}))
        self.assertIn(
            "cache.hot_answers_max_size", self.error({"cache": {"hot_answers_max_size": -1}})
        )

    def test_clio_style_file_loads_with_warnings(self) -> None:
        """A Clio config file with comments loads; Clio-only keys are warnings, not errors."""
        config = parse_config_text(CLIO_STYLE)
        self.assertEqual(config.database.type, "cassandra")
        self.assertEqual(config.database.cassandra.max_read_requests_outstanding, 30000)
        self.assertEqual(config.etl_sources[0].ws_port, 6005)
        self.assertEqual(config.etl_sources[0].url, "ws://127.0.0.1:6005")
        self.assertEqual(config.etl.num_markers, 48)
        self.assertEqual(config.etl.start_sequence, 1234)
        self.assertEqual(config.forwarding.cache_timeout, 0.25)
        self.assertEqual(config.logging.format, "text")
        self.assertEqual([c.channel for c in config.logging.channels], ["Backend", "WebServer"])
        joined = "\n".join(config.warnings)
        for key in (
            "etl_sources[0].grpc_port",
            "io_threads",
            "server.processing_policy",
            "log_directory",
            "log_format",
        ):
            self.assertIn(key, joined)

    def test_comments_inside_strings_survive(self) -> None:
        """// and /* inside strings are data, not comments."""
        text = '{"a": "http://x/*y*/", // c\n "b": 1 /* d */}'
        self.assertEqual(json.loads(strip_comments(text)), {"a": "http://x/*y*/", "b": 1})

    def test_errors_name_the_key_path(self) -> None:
        """Wrong types, ranges and unknown keys name the path and what was expected."""
        cases = [
            ({"server": {"port": "abc"}}, 'server.port: expected an integer, got "abc"'),
            (
                {"server": {"port": 70000}},
                "server.port: expected a value from 0 to 65535, got 70000",
            ),
            ({"server": {"ip": "nowhere"}}, 'server.ip: expected an IP address, got "nowhere"'),
            ({"server": {"prot": 1}}, "server.prot: unknown key"),
            ({"bogus": 1}, "bogus: unknown key"),
            (
                {"database": {"type": "mysql"}},
                'database.type: expected one of sqlite, cassandra, got "mysql"',
            ),
            (
                {"etl_sources": [{"ip": "a"}]},
                "etl_sources[0].ws_port: missing; expected rippled's WebSocket port",
            ),
            ({"etl_sources": {"ip": "a"}}, 'etl_sources: expected an array, got {"ip": "a"}'),
            (
                {"dos_guard": {"whitelist": ["300.1.1.1"]}},
                'dos_guard.whitelist[0]: expected an IP address or CIDR, got "300.1.1.1"',
            ),
            ({"api_version": {"max": 3}}, "api_version.max: expected a value from 1 to 2, got 3"),
            (
                {"api_version": {"min": 2, "default": 1}},
                "api_version.default: expected a value from min (2) to max (2), got 1",
            ),
            ({"read_only": "yes"}, 'read_only: expected true or false, got "yes"'),
            ({"log_level": "loud"}, "log_level: expected one of"),
            (
                {"num_markers": 4, "etl": {"num_markers": 8}},
                "etl.num_markers: set both here and at top level",
            ),
            (
                {"server": {"admin_password": "x", "local_admin": True}},
                "server.local_admin: local_admin and admin_password can not be set together",
            ),
            (
                {"server": {"local_admin": False}},
                "server.local_admin: local_admin is false but no admin_password is set",
            ),
            ([], "expected an object, got []"),
        ]
        for raw, expected in cases:
            message = self.error(raw)
            self.assertIn(expected, message, raw)
            self.assertNotIn("\n", message)

    def test_file_problems(self) -> None:
        """A missing file, bad JSON or non-UTF-8 bytes are one-line errors naming the file."""
        tmp = Path(self.mktemp())
        tmp.mkdir()
        with self.assertRaises(ConfigError) as caught:
            load_config(tmp / "nope.json")
        self.assertEqual(str(caught.exception), f"{tmp / 'nope.json'}: config file not found")
        bad = tmp / "bad.json"
        bad.write_text('{"server": {\n  "port": 1,,\n}}')
        with self.assertRaises(ConfigError) as caught:
            load_config(bad)
        self.assertIn(f"{bad}: not valid JSON (line 2, column 13", str(caught.exception))
        latin = tmp / "latin.json"
        latin.write_bytes(b'{"a": "\xff"}')
        with self.assertRaises(ConfigError) as caught:
            load_config(latin)
        self.assertEqual(str(caught.exception), f"{latin}: config file is not UTF-8 text")

    def test_shipped_configs_are_valid(self) -> None:
        """etc/config.json and etc/demo.json load, and the checkout's default is etc/config.json."""
        config = load_config(ROOT / "etc" / "config.json")
        self.assertEqual(config.server.port, 51233)
        self.assertEqual(config.etl_sources[0].url, "ws://127.0.0.1:6006")
        demo = load_config(ROOT / "etc" / "demo.json")
        self.assertEqual(demo.database.sqlite.path, "var/demo.sqlite3")
        self.assertEqual(default_config_path(ROOT), ROOT / "etc" / "config.json")
        self.assertEqual(
            default_config_path(Path(self.mktemp())), Path("/etc/clio-twisted/config.json")
        )

    def test_listen_endpoint(self) -> None:
        """server.ip/port become an endpoint string, IPv6 colons escaped."""
        self.assertEqual(
            config_from_dict({"server": {"ip": "::1", "port": 5}}).server.listen,
            "tcp:5:interface=\\:\\:1",
        )


class CheckConfigTests(SynchronousTestCase):
    def run_cli(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(list(argv), out, err)
        return code, out.getvalue(), err.getvalue()

    def test_valid_file(self) -> None:
        """check-config on a good file prints ok and exits 0."""
        code, out, _ = self.run_cli("check-config", str(ROOT / "etc" / "config.json"))
        self.assertEqual((code, out.strip()), (0, f"ok: {ROOT / 'etc' / 'config.json'}"))

    def test_invalid_file(self) -> None:
        """check-config on a bad file prints one error line and exits 1."""
        path = Path(self.mktemp())
        path.write_text('{"server": {"port": -1}}')
        code, out, err = self.run_cli("check-config", str(path))
        self.assertEqual(code, 1)
        self.assertEqual(out, "")
        self.assertEqual(
            err,
            f"clio-twisted: config error: server.port: expected a value from 0 to 65535, got -1 (in {path})\n",
        )
